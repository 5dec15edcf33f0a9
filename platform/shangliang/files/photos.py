"""The rewrite that makes a photo safe to show: no GPS, upright, re-encoded from its pixels,
with a thumbnail and a web-sized copy. Nothing is decoded before its pixel count is checked."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import BinaryIO

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .content import Found
from .limits import Refusal

MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; beyond it is a bomb or a poster
THUMB_PX, WEB_PX = 320, 1600


@dataclass
class Photo:
    width: int
    height: int
    taken_at: datetime | None  # aware if the camera gave an offset, else naive local time
    web: bool  # a separate web-sized image was written (the photo is larger than WEB_PX)


def _open_image(fh: BinaryIO, pil_format: str):
    if pil_format == "HEIF":
        # When a HEIC photo comes, not before: no other image opens as HEIF, and a web worker
        # that never rewrites a photo does not carry the library (7 MB of its memory).
        import pillow_heif

        pillow_heif.register_heif_opener()
    fh.seek(0)
    return Image.open(fh, formats=[pil_format])  # reads the header only


def rewrite_photo(fh: BinaryIO, found: Found, main: BinaryIO, thumb: BinaryIO, web: BinaryIO) -> Photo:
    """Check the photo's size from its header, then decode it once and write: the photo itself
    (upright, without GPS or any other metadata but its capture time), a thumbnail and, when
    it is large, a web-sized copy. Appended data (a zip, a script) does not survive."""
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
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("RGBA", "LA", "P", "PA"):
        rgba = im.convert("RGBA")
        out = Image.new("RGB", rgba.size, "white")
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return im.convert("RGB")
