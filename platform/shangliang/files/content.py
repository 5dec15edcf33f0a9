"""What an uploaded file really is, decided by its bytes (never by its name), and the rewrite
that makes a photo safe to show: no GPS, upright, re-encoded from its pixels.

Everything here works on a seekable local file that the check job copied from storage; nothing
is decoded before its declared size (pixels, or bytes once unzipped) has been checked.
"""
from __future__ import annotations

import mmap
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO

MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; beyond it is a bomb or a poster
MAX_UNZIPPED = 200 * 1024 * 1024  # an Office document, unzipped
MAX_RATIO = 100  # a part compressed more than 100:1 is not text or XML, it is a bomb
MAX_PARTS = 5000
THUMB_PX, WEB_PX = 320, 1600

ACCEPTED = "只接受 JPEG、PNG、WebP、HEIC 照片，以及 PDF、Word、Excel、PowerPoint（.docx/.xlsx/.pptx）文档"


class Refusal(Exception):
    """The file is not accepted; `message` (Chinese) says why, naming what was found."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Found:
    kind: str  # photo | document
    content_type: str  # what is stored and served (a HEIC photo is stored as JPEG)
    ext: str
    pil_format: str | None = None


@dataclass
class Photo:
    width: int
    height: int
    taken_at: datetime | None  # aware if the camera gave an offset, else naive local time
    web: bool  # a separate web-sized image was written (the photo is larger than WEB_PX)


PHOTO_FORMATS = {"jpeg": ("JPEG", "image/jpeg", "jpg"), "png": ("PNG", "image/png", "png"),
                 "webp": ("WEBP", "image/webp", "webp"), "heic": ("HEIF", "image/jpeg", "jpg")}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
OOXML = {  # main part content type → (extension, folder of its parts, stored content type)
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":
        ("docx", "word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":
        ("xlsx", "xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml":
        ("pptx", "ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
MACRO_TYPES = {"application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
               "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
               "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "xlsm",
               "application/vnd.ms-excel.template.macroEnabled.main+xml": "xltm",
               "application/vnd.ms-excel.addin.macroEnabled.main+xml": "xlam",
               "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": "pptm",
               "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": "ppsm",
               "application/vnd.ms-office.vbaProject": "vba"}
PDF_ACTIVE = {b"JavaScript": "脚本（/JavaScript）", b"JS": "脚本（/JS）", b"Launch": "启动程序的动作（/Launch）",
              b"EmbeddedFile": "内嵌文件（/EmbeddedFile）", b"RichMedia": "多媒体插件（/RichMedia）"}


def sniff(head: bytes) -> str | None:
    """jpeg, png, webp, heic, pdf, zip, ole, or None: the formats we take a closer look at."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heic"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return None


def describe(head: bytes) -> str:
    """What a refused file appears to be, for the message."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for magic, label in ((b"MZ", "Windows 可执行程序（EXE/DLL）"), (b"\x7fELF", "Linux 可执行程序（ELF）"),
                         (b"\xcf\xfa\xed\xfe", "macOS 可执行程序"), (b"\xce\xfa\xed\xfe", "macOS 可执行程序"),
                         (b"\xca\xfe\xba\xbe", "Java 或 macOS 程序"), (b"GIF87a", "GIF 图片"), (b"GIF89a", "GIF 图片"),
                         (b"BM", "BMP 图片"), (b"II*\x00", "TIFF 图片"), (b"MM\x00*", "TIFF 图片"),
                         (b"Rar!", "RAR 压缩包"), (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"), (b"\x1f\x8b", "gzip 压缩包"),
                         (b"#!", "脚本")):
        if head.startswith(magic):
            return label
    if head[4:8] == b"ftyp":
        return "AVIF 图片" if head[8:12] in (b"avif", b"avis") else "视频"
    if b"<?php" in text:
        return "PHP 脚本"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "SVG 图片（可能含脚本）"
    if text.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body", b"<iframe")):
        return "网页（HTML）"
    if text.startswith(b"<?xml"):
        return "XML 文件"
    if head.startswith(b"PK\x03\x04"):
        return "ZIP 压缩包"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "纯文本"
        except UnicodeDecodeError:
            pass
    return "无法识别的格式"


def inspect(fh: BinaryIO, size: int) -> Found:
    """Decide what the file is, or raise Refusal. Photos are only sniffed here: their pixels are
    checked (and decoded) by `rewrite_photo`."""
    if size == 0:
        raise Refusal("文件是空的")
    fh.seek(0)
    head = fh.read(1024)
    kind = sniff(head)
    if kind in PHOTO_FORMATS:
        pil, content_type, ext = PHOTO_FORMATS[kind]
        return Found("photo", content_type, ext, pil)
    if kind == "pdf":
        check_pdf(fh, size)
        return Found("document", "application/pdf", "pdf")
    if kind == "zip":
        ext, content_type = check_ooxml(fh)
        return Found("document", content_type, ext)
    if kind == "ole":
        raise Refusal("旧版 Office 文件（.doc/.xls/.ppt）或加密的 Office 文件无法检查，请另存为 .docx/.xlsx/.pptx 或 PDF 后上传")
    raise Refusal(f"不接受此文件：内容是{describe(head)}。{ACCEPTED}")


# ---------------------------------------------------------------- PDF

# A name is `/` and regular characters, up to whitespace or a delimiter: `/JSX` is not `/JS`.
# Longer than 64 characters it is no name we look for (the longest, spelt in #xx, has 32).
_PDF_DELIMS = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_PDF_NAME = re.compile(rb"/([^" + _PDF_DELIMS + rb"]{1,64})(?![^" + _PDF_DELIMS + rb"])")
# What a reader's lexer sees outside stream data, as far as finding streams goes: comments and
# strings (which hide whatever they hold), dictionaries opening and closing, and `stream` + end of
# line right after a dictionary closes.
_PDF_TOKEN = re.compile(rb"%[^\r\n]*|(?P<string>\()|(?P<open><<)|<[^<>]*>"
                        rb"|(?P<close>>>)(?P<stream>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r))?")
_PDF_STRING_PART = re.compile(rb"\\.|[()]", re.S)
PDF_FILTERS = {b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW", b"FlateDecode", b"Fl",
               b"RunLengthDecode", b"RL", b"CCITTFaxDecode", b"CCF", b"JBIG2Decode", b"DCTDecode", b"DCT",
               b"JPXDecode", b"Crypt"}
MAX_PDF_DICT = 64 * 1024  # a stream's dictionary; real ones are a few hundred bytes
MAX_PDF_INFLATED = MAX_UNZIPPED  # a PDF's object streams, inflated, all together
_CHUNK = 1024 * 1024


def _pdf_name(raw: bytes) -> bytes:
    """PDF names may spell letters as #xx (/J#61vaScript is /JavaScript)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def _check_pdf_names(buf, pos: int = 0, endpos: int | None = None) -> None:
    for m in _PDF_NAME.finditer(buf, pos, len(buf) if endpos is None else endpos):
        name = _pdf_name(m.group(1))
        if name == b"Encrypt":
            raise Refusal("PDF 已加密，无法检查内容，请上传未加密的 PDF")
        if name in PDF_ACTIVE:
            raise Refusal(f"PDF 含有{PDF_ACTIVE[name]}，不予接受")


def check_pdf(fh: BinaryIO, size: int) -> None:
    """The file's syntax (everything but stream data: page contents and images are data, where
    "/JS" turns up by chance), and the objects packed into its object streams (PDF 1.5+ writers
    put most dictionaries there, so a script action may be visible nowhere else).
    The file is mapped, not read into memory; object streams are inflated a chunk at a time."""
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if b"%%EOF" not in data[max(0, size - 2048):]:
            raise Refusal("PDF 文件不完整（缺少结尾标记），可能上传中断或已损坏")
        budget, pos = MAX_PDF_INFLATED, 0
        for info, start, end in _pdf_streams(data):
            _check_pdf_names(data, pos, start)
            budget = _check_stream(data, info, start, end, budget)
            pos = end
        _check_pdf_names(data, pos)


def _pdf_streams(data):
    """(dictionary, start, end) of each stream's data, found as a reader finds it: `stream` right
    after a dictionary closes, outside strings and comments (there the word hides nothing); its
    data runs to the first `endstream`. Data holding what reads as an object is not passed over:
    then `end` is `start`, and the data is read as syntax like the rest of the file."""
    pos, depth, dict_start = 0, 0, 0
    while m := _PDF_TOKEN.search(data, pos):
        pos, kind = m.end(), m.lastgroup  # None for a comment or a hex string
        if kind == "string":
            pos = _string_end(data, pos)
        elif kind == "open":
            dict_start = m.start() if depth == 0 else dict_start
            depth += 1
        elif kind and depth:  # a dictionary closes (a stray `>>` closes none and starts no stream)
            depth -= 1
            if depth or kind != "stream":
                continue
            if m.start() - dict_start > MAX_PDF_DICT:
                raise Refusal("PDF 结构异常（对象字典过大），无法检查")
            end = data.find(b"endstream", pos)
            if end < 0:
                break  # no end: the rest is read as syntax
            if _holds_syntax(data, pos, end):
                end = pos
            yield data[dict_start:pos], pos, end
            pos = end


def _holds_syntax(data, start: int, end: int) -> bool:
    """Whether stream data holds what a reader sent there by the cross-reference table would
    read as an object (`N G obj`: `obj` after a digit or a space) or as a trailer."""
    if data.find(b"trailer", start, end) >= 0:
        return True
    at = data.find(b"obj", start, end)
    while at >= 0:
        if data[at - 1] in b"0123456789\x00\t\n\x0c\r ":
            return True
        at = data.find(b"obj", at + 1, end)
    return False


def _string_end(data, pos: int) -> int:
    """Where a literal string that opened before `pos` ends: parentheses nest, `\\` escapes."""
    depth = 1
    for m in _PDF_STRING_PART.finditer(data, pos):
        part = m.group()
        if part == b"(":
            depth += 1
        elif part == b")":
            depth -= 1
            if not depth:
                return m.end()
    return len(data)  # never closed: the rest is string to us, so no stream is passed over


def _check_stream(data, info: bytes, start: int, end: int, budget: int) -> int:
    """An object stream's objects are checked (inflated if need be); other streams are data."""
    names = [_pdf_name(n) for n in _PDF_NAME.findall(info)]
    # Readers find an object stream by /N and /First, whatever its /Type says.
    if b"ObjStm" not in names and not {b"N", b"First"} <= set(names):
        return budget  # page content, images, fonts: data, where no action can be
    filters = [n for n in names if n in PDF_FILTERS]
    if not filters:
        _check_pdf_names(data, start, end)
        return budget
    if filters not in ([b"FlateDecode"], [b"Fl"]) or b"DecodeParms" in names or b"DP" in names:
        raise Refusal("PDF 的对象流采用了无法检查的编码（" + "、".join(f.decode() for f in filters) + "），不予接受")
    return _check_object_stream(data, start, budget)


def _check_object_stream(data, start: int, budget: int) -> int:
    """Inflate the zlib data at `start` a chunk at a time, never more than `budget` bytes in
    all (a bomb is refused, not held), checking each chunk's names. Returns what is left."""
    z, pos, pending, tail = zlib.decompressobj(), start, b"", b""
    while not z.eof:
        if not pending:
            if pos >= len(data):
                break
            pending, pos = data[pos:pos + _CHUNK], pos + _CHUNK
        try:
            out = z.decompress(pending, _CHUNK)
        except zlib.error:
            raise Refusal("PDF 的对象流已损坏，无法检查") from None
        pending = z.unconsumed_tail
        budget -= len(out)
        if budget < 0:
            raise Refusal(f"PDF 中的压缩数据解压后超过上限 {human_size(MAX_PDF_INFLATED)}，疑似压缩炸弹")
        block = tail + out
        _check_pdf_names(block)
        tail = block[-64:]  # a name split between two chunks is seen whole in the next block
    return budget


# ---------------------------------------------------------------- Office (OOXML)

def check_ooxml(fh: BinaryIO) -> tuple[str, str]:
    """A .docx/.xlsx/.pptx and nothing else: the zip's declared sizes are checked before anything
    is unzipped; macros, embedded programs and foreign files are refused."""
    try:
        zf = zipfile.ZipFile(fh)
        parts = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise Refusal("压缩文件已损坏，无法打开") from None
    if len(parts) > MAX_PARTS:
        raise Refusal(f"压缩包中有 {len(parts)} 个条目，超过上限 {MAX_PARTS}")
    if any(p.flag_bits & 0x1 for p in parts):
        raise Refusal("压缩包已加密（带密码），无法检查内容")
    total = sum(p.file_size for p in parts)
    if total > MAX_UNZIPPED:
        raise Refusal(f"解压后共 {human_size(total)}，超过上限 {human_size(MAX_UNZIPPED)}，疑似压缩炸弹")
    for p in parts:
        if p.file_size > 1024 * 1024 and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise Refusal(f"压缩比 {p.file_size // max(p.compress_size, 1)}:1 异常，疑似压缩炸弹")
        name = p.filename
        if name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise Refusal("压缩包中有不安全的路径")
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names:
        raise Refusal("这是 ZIP 压缩包，不是 Word、Excel 或 PowerPoint 文档。" + ACCEPTED)
    info = zf.getinfo("[Content_Types].xml")
    if info.file_size > 256 * 1024:
        raise Refusal("Office 文档的类型清单过大，疑似伪造")
    try:
        types = zf.read(info).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise Refusal("压缩文件已损坏，无法打开") from None
    declared = set(re.findall(r'ContentType="([^"]+)"', types))
    macro = next((MACRO_TYPES[t] for t in declared if t in MACRO_TYPES), None)
    if macro or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Refusal(f"含有宏的 Office 文件（.{macro or 'vba'}）不予接受，请另存为不含宏的 .docx/.xlsx/.pptx")
    mains = [OOXML[t] for t in declared if t in OOXML]
    if len(mains) != 1:
        raise Refusal("压缩包不是 Word、Excel 或 PowerPoint 文档（或为模板等其他格式）。" + ACCEPTED)
    ext, folder, content_type = mains[0]
    for name in names:
        lower = name.lower()
        if name != "[Content_Types].xml" and not name.startswith(("_rels/", "docProps/", "customXml/", folder)):
            raise Refusal(f"文档中有不属于 {ext} 文档的内容：{name[:80]}")
        if "/activex/" in lower or (lower.endswith(".bin") and "printersettings" not in lower):
            raise Refusal(f"文档含有嵌入的程序对象（{name[:80]}），不予接受")
    return ext, content_type


# ---------------------------------------------------------------- photos

def _open_image(fh: BinaryIO, pil_format: str):
    from PIL import Image

    if pil_format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    fh.seek(0)
    return Image.open(fh, formats=[pil_format])  # reads the header only


def rewrite_photo(fh: BinaryIO, found: Found, main: BinaryIO, thumb: BinaryIO, web: BinaryIO) -> Photo:
    """Check the photo's size from its header, then decode it once and write: the photo itself
    (upright, without GPS or any other metadata but its capture time), a thumbnail and, when
    it is large, a web-sized copy. Appended data (a zip, a script) does not survive."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own, lower limit follows
            im = _open_image(fh, found.pil_format)
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise Refusal(f"图片有 {pixels.group(1) if pixels else '过多'} 像素，超过上限 {MAX_PIXELS}，疑似解压炸弹") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise Refusal("图片已损坏，无法读取") from None
    with im:
        width, height = im.size
        if width * height > MAX_PIXELS or width <= 0 or height <= 0:
            raise Refusal(f"图片尺寸 {width}×{height}（{width * height} 像素）超过上限 {MAX_PIXELS} 像素，疑似解压炸弹")
        taken_at, keep = _capture_time(im)
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
            raise Refusal("图片已损坏或不完整，无法读取") from None
        ImageOps.exif_transpose(im, in_place=True)  # in place: a 50-megapixel photo is not copied
        icc = im.info.get("icc_profile")
        out_format = "JPEG" if found.pil_format in ("JPEG", "HEIF") else found.pil_format
        if out_format == "JPEG":
            im = _rgb(im)
        options = {"JPEG": {"quality": 92}, "WEBP": {"quality": 90}, "PNG": {}}[out_format]
        if taken_at is not None:
            options["exif"] = keep.tobytes()
        if icc:
            options["icc_profile"] = icc
        im.save(main, out_format, **options)
    big = max(im.size) > WEB_PX
    small = _rgb(im.resize(_fit(im.size, WEB_PX), Image.LANCZOS, reducing_gap=3.0)) if big else _rgb(im)
    if big:
        small.save(web, "JPEG", quality=85)
    tiny = small.resize(_fit(small.size, THUMB_PX), Image.LANCZOS) if max(small.size) > THUMB_PX else small
    tiny.save(thumb, "JPEG", quality=80)
    return Photo(im.size[0], im.size[1], taken_at, big)


def _capture_time(im):
    """(the capture time, an EXIF block holding only it): GPS and everything else are left behind."""
    from PIL import ExifTags, Image

    exif = im.getexif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    offset = sub.get(ExifTags.Base.OffsetTimeOriginal)
    keep = Image.Exif()
    if not isinstance(raw, str):
        return None, keep
    try:
        when = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, keep
    keep.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = raw
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", str(offset or "").strip("\x00 "))
    if m:
        keep.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        when = when.replace(tzinfo=timezone(delta if m.group(1) == "+" else -delta))
    return when, keep


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    w, h = size
    scale = box / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _rgb(im):
    """Thumbnails are JPEG: transparent parts go white."""
    from PIL import Image

    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "P", "PA"):
        rgba = im.convert("RGBA")
        out = Image.new("RGB", rgba.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return im.convert("RGB")


def human_size(n: int) -> str:
    for unit, step in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{n} B"
