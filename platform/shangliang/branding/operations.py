"""A tenant's brand (品牌): checking it, saving versions, publishing, and the brand a page shows.

Versions are immutable: saving writes a new draft; publishing points `Tenant.brand_number` at one;
restoring publishes an older one again. Images are checked by their content (magic bytes and
Pillow), never by name or declared type, and stored under the tenant's `brand` area.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from io import BytesIO

from flask import current_app, g, has_app_context, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core.errors import Refused
from ..audit.operations import record
from ..core.db import db, utcnow
from ..core.storage import tenant_key
from ..tenants.models import Tenant
from .models import BrandVersion

# The platform's own look (static/app.css `:root`); a tenant without a brand shows it.
DEFAULT_PRIMARY, DEFAULT_ACCENT, DEFAULT_TEXT = "#b3261e", "#9c6500", "#ffffff"
DEFAULT_BRAND_NAME = "有事好商量"
PAGE_BACKGROUND = "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text

FIELD_LABELS = {
    "display_name": "显示名称", "brand_name": "品牌名称", "slogan": "口号", "intro": "简介",
    "primary_colour": "主色", "accent_colour": "强调色", "text_colour": "文字颜色", "hotlines": "热线电话",
    "mailbox": "信箱", "stations": "站点", "footer": "页脚", "note": "修改说明",
    "logo": "标志", "banner": "横幅图片", "qr": "微信群二维码",
}
# Column lengths of BrandVersion (intro is Text: bounded here).
MAX_LENGTHS = {"display_name": 40, "brand_name": 20, "slogan": 40, "intro": 2000, "mailbox": 200,
               "footer": 300, "note": 200}
REQUIRED = ("display_name", "brand_name")
COLOURS = ("primary_colour", "accent_colour", "text_colour")
HEX_RE = re.compile(r"#[0-9a-f]{6}")
MAX_HOTLINES, MAX_STATIONS = 8, 20
HOTLINE_NUMBER_RE = re.compile(r"[0-9+\-() ]{3,20}")
STATION_LIMITS = {"name": 40, "address": 100, "hours": 60}


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


class BrandInvalid(Refused):
    """Every problem of a submitted brand at once: `errors` maps a field to (message, values),
    the message being the Chinese source string the page translates. `message` and `field` are
    the first problem, formatted, as for any Refused."""

    def __init__(self, errors: dict[str, tuple[str, dict]]):
        first_field, (text, values) = next(iter(errors.items()))
        super().__init__(text.format(**values), first_field, "validation_error")
        self.errors = errors

    def messages(self, translate=None) -> dict[str, str]:
        translate = translate or (lambda text, **values: text.format(**values) if values else text)
        # Field names inside a message ("标志", "地址") are interface strings too.
        return {f: translate(text, **{k: translate(v) if k in ("label", "what") else v for k, v in values.items()})
                for f, (text, values) in self.errors.items()}


# ---------------------------------------------------------------- colours

def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g_, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g_) + 0.0722 * channel(b)


def contrast_ratio(hex1: str, hex2: str) -> float:
    """WCAG 2 contrast ratio of two `#rrggbb` colours, from 1.0 to 21.0."""
    a, b = sorted((_luminance(hex1.lower()), _luminance(hex2.lower())), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _shown_ratio(ratio: float) -> str:
    # Rounded down: 4.47 must not read "4.5:1, below 4.5:1".
    return f"{int(ratio * 10) / 10:.1f}"


def normalise_colour(value: str | None) -> str:
    return (value or "").strip().lower()


# ---------------------------------------------------------------- text fields

def _lines(text: str) -> list[tuple[int, str]]:
    return [(i, line.strip()) for i, line in enumerate((text or "").splitlines(), 1) if line.strip()]


def parse_hotlines(text: str, errors: dict) -> list[dict]:
    """One per line, `名称: 号码` (a full-width colon works too)."""
    out = []
    rows = _lines(text)
    if len(rows) > MAX_HOTLINES:
        errors["hotlines"] = ("热线电话最多 {n} 条", {"n": MAX_HOTLINES})
        return []
    for n, line in rows:
        label, sep, number = line.replace("：", ":").rpartition(":")
        label, number = label.strip(), number.strip()
        if not sep or not label:
            errors["hotlines"] = ("热线电话第 {line} 行：格式为“名称: 号码”，例如 委员商量热线: 0531-86000000",
                                  {"line": n})
            return []
        if not HOTLINE_NUMBER_RE.fullmatch(number) or sum(ch.isdigit() for ch in number) < 3:
            errors["hotlines"] = ("热线电话第 {line} 行：号码须为 3–20 位数字，可含空格、+、- 和括号", {"line": n})
            return []
        if len(label) > 20:
            errors["hotlines"] = ("热线电话第 {line} 行：名称不能超过 {n} 个字", {"line": n, "n": 20})
            return []
        out.append({"label": label, "number": number})
    return out


def parse_stations(text: str, errors: dict) -> list[dict]:
    """One per line, `名称 | 地址 | 开放时间` (full-width ｜ works too); the hours may be left out."""
    out = []
    rows = _lines(text)
    if len(rows) > MAX_STATIONS:
        errors["stations"] = ("站点最多 {n} 个", {"n": MAX_STATIONS})
        return []
    for n, line in rows:
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            errors["stations"] = ("站点第 {line} 行：格式为“名称 | 地址 | 开放时间”，名称和地址必填", {"line": n})
            return []
        row = dict(zip(("name", "address", "hours"), parts + [""] * (3 - len(parts))))
        for key, limit in STATION_LIMITS.items():
            if len(row[key]) > limit:
                what = {"name": "名称", "address": "地址", "hours": "开放时间"}[key]
                errors["stations"] = ("站点第 {line} 行：{what}不能超过 {n} 个字", {"line": n, "what": what, "n": limit})
                return []
        out.append(row)
    return out


def hotlines_text(hotlines: list[dict]) -> str:
    return "\n".join(f"{h['label']}: {h['number']}" for h in hotlines or [])


def stations_text(stations: list[dict]) -> str:
    return "\n".join(" | ".join(p for p in (s["name"], s["address"], s.get("hours", "")) if p)
                     for s in stations or [])


def check_fields(form: dict) -> tuple[dict, dict]:
    """(clean values, errors) for the text and colour fields of a brand form."""
    errors: dict[str, tuple[str, dict]] = {}
    values: dict = {}
    for name, limit in MAX_LENGTHS.items():
        text = (form.get(name) or "").strip()
        if name != "intro":
            text = " ".join(text.split())  # one line: no line breaks or tabs in a name
        if name in REQUIRED and not text:
            errors[name] = ("请填写{label}", {"label": FIELD_LABELS[name]})
        elif len(text) > limit:
            errors[name] = ("{label}不能超过 {n} 个字（现在 {m} 个）",
                            {"label": FIELD_LABELS[name], "n": limit, "m": len(text)})
        values[name] = text
    for name in COLOURS:
        colour = normalise_colour(form.get(name))
        if not HEX_RE.fullmatch(colour):
            errors[name] = ("{label}须为 #rrggbb 形式的十六进制颜色，例如 #b3261e", {"label": FIELD_LABELS[name]})
        values[name] = colour
    if "primary_colour" not in errors and "text_colour" not in errors:
        ratio = contrast_ratio(values["primary_colour"], values["text_colour"])
        if ratio < MIN_CONTRAST:
            errors["primary_colour"] = ("主色与文字颜色的对比度为 {ratio}:1，低于 {min}:1，请加深主色或调整文字颜色",
                                        {"ratio": _shown_ratio(ratio), "min": MIN_CONTRAST})
    if "accent_colour" not in errors:
        ratio = contrast_ratio(values["accent_colour"], PAGE_BACKGROUND)
        if ratio < MIN_CONTRAST:
            errors["accent_colour"] = ("强调色在白色页面上的对比度为 {ratio}:1，低于 {min}:1（强调色用于链接），请加深强调色",
                                       {"ratio": _shown_ratio(ratio), "min": MIN_CONTRAST})
    values["hotlines"] = parse_hotlines(form.get("hotlines") or "", errors)
    values["stations"] = parse_stations(form.get("stations") or "", errors)
    return values, errors


# ---------------------------------------------------------------- images

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
    from PIL import Image, UnidentifiedImageError

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


def _upload_of(files: dict, kind: str) -> tuple[bytes, str, str] | None:
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


# ---------------------------------------------------------------- versions

def versions(tenant: Tenant, limit: int = 50) -> list[BrandVersion]:
    return list(db.scalars(select(BrandVersion).order_by(BrandVersion.number.desc()).limit(limit)))


def version(tenant: Tenant, number: int) -> BrandVersion | None:
    return db.scalar(select(BrandVersion).where(BrandVersion.number == number))


def latest_version(tenant: Tenant) -> BrandVersion | None:
    return db.scalar(select(BrandVersion).order_by(BrandVersion.number.desc()).limit(1))


def save_version(tenant: Tenant, actor_id: int | None, form: dict, files: dict | None = None,
                 base_number: int | None = None) -> BrandVersion:
    """Check a submitted brand and save it as the next version, a draft (not yet shown).

    `form` holds the text fields as the page sends them (hotlines and stations as lines),
    `remove_<kind>` to clear an image and optionally `base` (the version being edited): an
    image not uploaded again is carried over from that version. `files` maps logo/banner/qr
    to an upload (werkzeug FileStorage) or bytes. Nothing is stored unless everything passes.
    """
    values, errors = check_fields(form)
    if base_number is None:
        try:
            base_number = int(form.get("base") or 0)
        except (TypeError, ValueError):
            base_number = 0
    base = version(tenant, base_number) if base_number else None
    images: dict[str, CheckedImage] = {}
    for kind in IMAGE_KINDS:
        upload = _upload_of(files, kind)
        if upload is None:
            continue
        try:
            images[kind] = check_image(kind, *upload)
        except BrandInvalid as exc:
            errors.update(exc.errors)
    if errors:
        ordered = {f: errors[f] for f in FIELD_LABELS if f in errors}
        raise BrandInvalid(ordered)

    keys = {}
    storage = current_app.extensions["storage"]
    for kind in IMAGE_KINDS:
        if kind in images:
            img = images[kind]
            keys[kind] = tenant_key(tenant.id, "brand", img.ext)
            storage.put(keys[kind], img.data, img.content_type)
        elif _checked(form.get(f"remove_{kind}")):
            keys[kind] = None
        else:
            keys[kind] = getattr(base, f"{kind}_key") if base else None

    number = (db.scalar(select(func.max(BrandVersion.number))) or 0) + 1
    row = BrandVersion(tenant_id=tenant.id, number=number, created_by=actor_id,
                       logo_key=keys["logo"], banner_key=keys["banner"], qr_key=keys["qr"],
                       **{k: values[k] for k in (*MAX_LENGTHS, *COLOURS, "hotlines", "stations")})
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # two saves at once: the unique number lets one win
        db.rollback()
        raise Refused("另一位管理员刚刚保存了品牌，请刷新后重试", "base", "conflict") from None
    record(tenant.id, actor_id, "brand.save", f"v{number} {row.display_name}",
           {"images": sorted(images), "removed": sorted(k for k, v in keys.items() if v is None)})
    return row


def _checked(value) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


def publish(tenant: Tenant, actor_id: int | None, number: int) -> BrandVersion:
    """Show version `number` from now on. A version published before is a restore."""
    row = version(tenant, number)
    if row is None:
        raise Refused("没有这个品牌版本", "number", "not_found")
    restore = row.published_at is not None
    previous = tenant.brand_number
    if row.published_at is None:
        row.published_at = utcnow()
    tenant.brand_number = row.number
    record(tenant.id, actor_id, "brand.restore" if restore else "brand.publish", f"v{row.number} {row.display_name}",
           {"previous": previous})
    return row


def restore(tenant: Tenant, actor_id: int | None, number: int) -> BrandVersion:
    """Bring back an earlier version: the same as publishing it again."""
    return publish(tenant, actor_id, number)


def authors(rows: list[BrandVersion]) -> dict[int, str]:
    from ..accounts.models import User

    ids = {r.created_by for r in rows if r.created_by}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------- the brand a page shows

@dataclass
class Brand:
    """What templates read as `brand`: the published version, a preview, or the default look."""

    display_name: str
    brand_name: str
    slogan: str = ""
    intro: str = ""
    primary: str = DEFAULT_PRIMARY
    accent: str = DEFAULT_ACCENT
    text: str = DEFAULT_TEXT
    logo_url: str | None = None
    banner_url: str | None = None
    qr_url: str | None = None
    hotlines: list = field(default_factory=list)
    mailbox: str = ""
    stations: list = field(default_factory=list)
    footer: str = ""
    css_url: str | None = None  # None: the platform's look, nothing to add to app.css
    number: int | None = None
    preview: bool = False  # a version shown before (or instead of) the published one
    published: bool = False  # ever published

    @property
    def link(self) -> str:
        """Links are drawn in the primary colour when it reads on white, else in the accent."""
        return self.primary if contrast_ratio(self.primary, PAGE_BACKGROUND) >= MIN_CONTRAST else self.accent


def default_brand(tenant: Tenant) -> Brand:
    return Brand(display_name=tenant.name, brand_name=DEFAULT_BRAND_NAME)


def brand_of(tenant: Tenant, row: BrandVersion, *, preview: bool = False) -> Brand:
    def image(kind):
        if not getattr(row, f"{kind}_key"):
            return None
        return url_for("branding.image", slug=tenant.slug, number=row.number, kind=kind)

    return Brand(display_name=row.display_name, brand_name=row.brand_name, slogan=row.slogan or "",
                 intro=row.intro or "", primary=row.primary_colour, accent=row.accent_colour,
                 text=row.text_colour, logo_url=image("logo"), banner_url=image("banner"), qr_url=image("qr"),
                 hotlines=list(row.hotlines or []), mailbox=row.mailbox or "", stations=list(row.stations or []),
                 footer=row.footer or "", css_url=url_for("branding.css", slug=tenant.slug, number=row.number),
                 number=row.number, preview=preview, published=row.published_at is not None)


def current_brand(tenant: Tenant) -> Brand:
    """The published brand of `tenant`, or the default look derived from it."""
    if tenant.brand_number is not None:
        row = version(tenant, tenant.brand_number)
        if row is not None:
            return brand_of(tenant, row)
    return default_brand(tenant)


def request_brand() -> Brand | None:
    """The brand of this request's tenant (the `brand` of templates), once per request.

    `g.brand_preview` (a BrandVersion) shows that version instead. Kept on `g` only, which
    lives for one request: nothing of one tenant's brand can be served to another."""
    if not has_app_context():
        return None
    tenant = g.get("tenant")
    if tenant is None:
        return None
    preview = g.get("brand_preview")
    key = (tenant.id, tenant.brand_number, preview.number if preview is not None else None)
    cached = g.get("_brand")
    if cached is not None and cached[0] == key:
        return cached[1]
    brand = brand_of(tenant, preview, preview=True) if preview is not None else current_brand(tenant)
    g._brand = (key, brand)
    return brand


def stylesheet(brand: Brand) -> str:
    """The CSS variables of a brand; app.css draws everything from them."""
    return (f":root {{ --primary: {brand.primary}; --primary-ink: {brand.text}; "
            f"--accent: {brand.accent}; --link: {brand.link}; }}\n")


def form_values(tenant: Tenant, row: BrandVersion | None) -> dict:
    """The brand form's fields, from a version or (none yet) from the default brand."""
    if row is None:
        b = default_brand(tenant)
        return {"display_name": b.display_name, "brand_name": b.brand_name, "slogan": "", "intro": "",
                "primary_colour": b.primary, "accent_colour": b.accent, "text_colour": b.text,
                "hotlines": "", "mailbox": "", "stations": "", "footer": "", "note": "", "base": ""}
    return {"display_name": row.display_name, "brand_name": row.brand_name, "slogan": row.slogan,
            "intro": row.intro, "primary_colour": row.primary_colour, "accent_colour": row.accent_colour,
            "text_colour": row.text_colour, "hotlines": hotlines_text(row.hotlines),
            "mailbox": row.mailbox, "stations": stations_text(row.stations), "footer": row.footer, "note": "",
            "base": str(row.number)}
