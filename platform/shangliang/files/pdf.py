"""PDF: refused if it holds scripts, launch actions, embedded files or encryption, looked for as
a reader would find them (in the file's syntax and in its object streams, never in page data).
Works on a local file, mapped rather than read; object streams are inflated a chunk at a time."""
from __future__ import annotations

import mmap
import re
import zlib
from typing import BinaryIO

from .limits import MAX_UNZIPPED, Refusal, human_size

PDF_ACTIVE = {b"JavaScript": "脚本（/JavaScript）", b"JS": "脚本（/JS）", b"Launch": "启动程序的动作（/Launch）",
              b"EmbeddedFile": "内嵌文件（/EmbeddedFile）", b"RichMedia": "多媒体插件（/RichMedia）"}

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
