"""Sample files made in the tests: real photos (with GPS and capture time), documents, and
hostile files. Everything is built here, nothing is downloaded."""
from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

TAKEN = "2025:05:01 10:20:30"


def photo(fmt: str = "JPEG", size=(2000, 1000), *, gps: bool = True, orientation: int = 6, colour="teal",
          taken: str | None = TAKEN, **save) -> bytes:
    """A photo as a phone takes it: EXIF with GPS position, capture time, a rotation flag."""
    from PIL import ExifTags, Image

    im = Image.new("RGB", size, colour)
    for x in range(0, size[0], 50):  # some detail, so that it is not a flat colour
        im.paste("white", (x, 0, x + 5, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = orientation
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    if gps:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        g[ExifTags.GPS.GPSLatitudeRef], g[ExifTags.GPS.GPSLatitude] = "N", (36.0, 40.0, 12.5)
        g[ExifTags.GPS.GPSLongitudeRef], g[ExifTags.GPS.GPSLongitude] = "E", (117.0, 1.0, 2.0)
    out = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    im.save(out, fmt, exif=exif.tobytes(), **save)
    return out.getvalue()


def png(size=(64, 48), colour="orange") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A small PNG that claims width × height pixels: its one IDAT holds a few compressed rows."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" + b"\x00" * width, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header is rewritten to claim another size."""
    data = bytearray(photo(size=(16, 16), gps=False, taken=None))
    i = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, height, width)
    return bytes(data)


def pdf(body: str = "", *, end: bool = True) -> bytes:
    text = ("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R " + body + " >> endobj\n"
            "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n")
    return (text + ("%%EOF\n" if end else "")).encode()


def object_stream(obj: str, *, typed: bool = True, filters: str = "/FlateDecode", encode=zlib.compress
                  ) -> tuple[str, bytes]:
    """An object stream holding object 10, as PDF 1.5 writers pack dictionaries: (dictionary
    entries, data as stored). Untyped, it has only the /N and /First that readers go by."""
    header = "10 0 "
    info = ("/Type /ObjStm " if typed else "") + f"/N 1 /First {len(header)} /Filter {filters}"
    return info, encode((header + obj).encode())


def pdf_streams(*streams: tuple[str, bytes], after: str = "") -> bytes:
    """A PDF 1.5 whose catalog opens with object 10, with these streams as objects 3, 4, …
    and then the objects `after`."""
    out = [b"%PDF-1.5\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 10 0 R >> endobj\n",
           b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"]
    for number, (info, data) in enumerate(streams, start=3):
        out += [f"{number} 0 obj << {info} /Length {len(data)} >>\nstream\n".encode(), data, b"\nendstream\nendobj\n"]
    out.append(after.encode() + b"trailer << /Root 1 0 R >>\n%%EOF\n")
    return b"".join(out)


IMAGE = "/Type /XObject /Subtype /Image /Width 1200 /Height 1600 /ColorSpace /DeviceRGB /BitsPerComponent 8 " \
        "/Filter /DCTDecode"
ACTIVE_BY_CHANCE = (b"/JS ", b"/JS(", b"/JavaScript<<", b"/Launch/", b"/EmbeddedFile ", b"/Encrypt\n")


def scan_data(size: int, seed: int = 12345) -> bytes:
    """What a scanned page's JPEG data is to a byte search: noise, and in it (as turns up by
    chance in megabytes of it) the names of PDF actions."""
    import random

    data = bytearray(random.Random(seed).randbytes(size))
    for i, name in enumerate(ACTIVE_BY_CHANCE):
        at = size * (i + 1) // (len(ACTIVE_BY_CHANCE) + 1)
        data[at:at + len(name)] = name
    return bytes(data)


@functools.cache
def pdf_object_stream_bomb() -> bytes:
    """An object stream of 256 MB of zeros, deflated to ~250 KB."""
    z, mb = zlib.compressobj(9), bytes(1024 * 1024)
    data = b"".join(z.compress(mb) for _ in range(256)) + z.flush()
    return pdf_streams(("/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", data))


CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 'content-types"><Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>')
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def docx(*, main: str = DOCX_MAIN, extra: dict | None = None, document: bytes = b"<w:document/>") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES.format(main=main))
        zf.writestr("_rels/.rels", "<Relationships/>")
        zf.writestr("word/document.xml", document)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["议题", "状态"])
    wb.active.append(["楼道灯", "已办结"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A .docx whose parts unzip to 210 MB (each part 1 MB of zeros, compressed to ~1 KB)."""
    mb = b"\x00" * (1024 * 1024)
    return docx(extra={f"word/media/part{i}.xml": mb for i in range(210)})


def ratio_bomb_docx() -> bytes:
    """One part of 20 MB zeros compressed to ~20 KB: a ratio no document has."""
    return docx(document=b"\x00" * (20 * 1024 * 1024))


def encrypted_zip(data: bytes) -> bytes:
    """Set the 'encrypted' flag on every entry (zipfile cannot write encrypted archives)."""
    out = bytearray(data)
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
            out[flag_at] |= 0x01
            start = i + 4
    return bytes(out)


def zip_plain() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("run.exe", b"MZ" + b"\x00" * 64)
    return out.getvalue()
