"""What an uploaded file really is, decided by its bytes (never by its name): a photo (rewritten
by photos.py), a PDF (checked by pdf.py) or an Office document (office.py), and nothing else.

Everything here works on a seekable local file that the check job copied from storage; nothing
is decoded before its declared size (pixels, or bytes once unzipped) has been checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from .limits import ACCEPTED, Refusal
from .office import check_ooxml
from .pdf import check_pdf


@dataclass
class Found:
    kind: str  # photo | document
    content_type: str  # what is stored and served (a HEIC photo is stored as JPEG)
    ext: str
    pil_format: str | None = None


PHOTO_FORMATS = {"jpeg": ("JPEG", "image/jpeg", "jpg"), "png": ("PNG", "image/png", "png"),
                 "webp": ("WEBP", "image/webp", "webp"), "heic": ("HEIF", "image/jpeg", "jpg")}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


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
