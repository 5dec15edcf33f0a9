"""A brand's images (logo, banner, WeChat QR code), checked by their content (magic bytes and
Pillow), never by name or declared type."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from .fields import FIELD_LABELS, BrandInvalid


@dataclass(frozen=True)
class ImageRule:
    max_bytes: int
    max_width: int
    max_height: int


IMAGE_RULES = {
    "logo": ImageRule(1024 * 1024, 2048, 2048),
    "banner": ImageRule(4 * 1024 * 1024, 6000, 4000),
    "qr": ImageRule(1024 * 1024, 2048, 2048),
}
IMAGE_KINDS = tuple(IMAGE_RULES)
# format → (content type, key extension); the format comes from the bytes, never the file name.
IMAGE_TYPES = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}
CONTENT_TYPES = {ext: ctype for ctype, ext in IMAGE_TYPES.values()}
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")


@dataclass
class CheckedImage:
    data: bytes
    content_type: str
    ext: str
    width: int
    height: int


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def _looks_like_svg(head: bytes, filename: str, declared: str) -> bool:
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (filename.lower().endswith((".svg", ".svgz")) or "svg" in declared.lower()
            or (text.startswith(b"<") and b"<svg" in text))


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


GPS_TAG = 0x8825  # EXIF GPSInfo


def _without_exif(im, fmt: str) -> bytes:
    """The picture again without its EXIF block: a banner photo from a phone would otherwise
    tell everyone on the public portal where it was taken."""
    out = BytesIO()
    options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
    im.save(out, format=fmt, **options)  # Pillow writes no EXIF unless given one
    return out.getvalue()


def check_image(kind: str, data: bytes, filename: str = "", declared: str = "") -> CheckedImage:
    """The image, or BrandInvalid naming the field. Dimensions are read from the header and
    checked before a single pixel is decoded, so a small file claiming 10000×10000 pixels (a
    decompression bomb) is refused without the memory it would take."""
    rule = IMAGE_RULES[kind]
    label = FIELD_LABELS[kind]

    def refuse(text, **values):
        raise BrandInvalid({kind: (text, {"label": label, **values})})

    if len(data) > rule.max_bytes:
        refuse("{label}文件过大（{size}），上限为 {limit}", size=_size(len(data)), limit=_size(rule.max_bytes))
    if _looks_like_svg(data, filename, declared):
        refuse("{label}不接受 SVG：SVG 文件可以携带脚本，请上传 PNG、JPEG 或 WebP 图片")
    fmt = _sniff(data)
    if fmt is None:
        if data.startswith(EXECUTABLE_MAGIC):
            refuse("{label}的文件内容是可执行程序，不是图片（按文件内容检查，与文件名无关）")
        refuse("{label}只接受 PNG、JPEG 或 WebP 图片，该文件的内容不是其中之一（按文件内容检查，与文件名无关）")
    too_large = "{label}尺寸过大（{w}×{h} 像素），上限为 {mw}×{mh} 像素"
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard, as an error rather than a warning, behind ours.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=[fmt]) as im:  # reads the header only
                width, height = im.size
                if width > rule.max_width or height > rule.max_height:
                    refuse(too_large, w=width, h=height, mw=rule.max_width, mh=rule.max_height)
                im.verify()
            with Image.open(BytesIO(data), formats=[fmt]) as im:  # verify() leaves it unusable: again
                im.load()  # decodes every pixel: a truncated file fails here
                if GPS_TAG in im.getexif():
                    data = _without_exif(im, fmt)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        refuse("{label}像素过多，上限为 {mw}×{mh} 像素", mw=rule.max_width, mh=rule.max_height)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        refuse("{label}图片已损坏或不完整，无法读取，请重新导出后上传")
    content_type, ext = IMAGE_TYPES[fmt]
    return CheckedImage(data, content_type, ext, width, height)


def upload_of(files: dict, kind: str) -> tuple[bytes, str, str] | None:
    """The bytes of a new upload for `kind`, or None when no file was chosen."""
    upload = (files or {}).get(kind)
    if upload is None:
        return None
    if isinstance(upload, (bytes, bytearray)):
        return (bytes(upload), "", "") if upload else None
    if not upload.filename:
        return None
    # One byte past the limit is enough to know it is too large.
    data = upload.stream.read(IMAGE_RULES[kind].max_bytes + 1)
    return data, upload.filename or "", upload.mimetype or ""
