"""Brand presets of the demo streets (tenants/brands/<slug>.yaml), with logos drawn at load time."""
from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from ..branding import operations as ops
from ..branding.fields import hotlines_text, stations_text
from ..branding.models import BrandVersion
from ..core.db import db
from ..tenants.models import Tenant

PRESETS_DIR = Path(__file__).resolve().parents[3] / "tenants" / "brands"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/System/Library/Fonts", "C:/Windows/Fonts")
CJK_FONT_NAMES = ("NotoSansCJK-Bold", "NotoSansCJKsc-Bold", "NotoSansSC-Bold", "SourceHanSans", "NotoSansCJK",
                  "wqy-zenhei", "wqy-microhei", "DroidSansFallback", "PingFang", "msyh")


def preset(slug: str) -> dict | None:
    path = PRESETS_DIR / f"{slug}.yaml"
    return yaml.safe_load(path.read_text("utf-8")) if path.is_file() else None


@lru_cache
def _font_path(cjk: bool) -> str | None:
    names = CJK_FONT_NAMES if cjk else ("DejaVuSans-Bold",)
    for root in FONT_DIRS:
        base = Path(root)
        if not base.is_dir():
            continue
        for name in names:
            for found in sorted(base.rglob(f"{name}*")):
                if found.suffix.lower() in (".ttc", ".otf", ".ttf"):
                    return str(found)
    return None


def _font(size: int, text: str):
    """A font that can draw `text`: a CJK one if installed; else None (draw something else)."""
    cjk = any(ord(ch) > 0x2e80 for ch in text)
    path = _font_path(cjk)
    if path:
        return ImageFont.truetype(path, size)
    return None if cjk else ImageFont.load_default(size)


def draw_logo(char: str, fallback: str, primary: str, ink: str, size: int = 256) -> bytes:
    """A rounded square in the primary colour with one character in the text colour (PNG)."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=primary)
    text = char
    font = _font(int(size * 0.6), text)
    if font is None:  # no CJK font on this machine: the Latin initial instead of tofu
        text = fallback
        font = _font(int(size * 0.6), text)
    draw.text((size / 2, size / 2), text, font=font, fill=ink, anchor="mm")
    out = BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def draw_banner(slogan: str, primary: str, accent: str, ink: str, size=(1200, 300)) -> bytes:
    """A band from the primary colour into a darker shade, a few soft circles, and the slogan (JPEG)."""
    w, h = size
    start = tuple(int(primary[i:i + 2], 16) for i in (1, 3, 5))
    end = tuple(int(c * 0.55) for c in start)
    img = Image.new("RGB", size, start)
    draw = ImageDraw.Draw(img)
    for x in range(w):
        t = x / (w - 1)
        draw.line([(x, 0), (x, h)], fill=tuple(int(a + (b - a) * t) for a, b in zip(start, end)))
    glow = Image.new("RGBA", size, (0, 0, 0, 0))
    gdraw = ImageDraw.Draw(glow)
    acc = tuple(int(accent[i:i + 2], 16) for i in (1, 3, 5))
    for cx, cy, r, alpha in ((w * 0.86, h * 0.2, h * 0.9, 70), (w * 0.7, h * 1.1, h * 0.7, 55),
                             (w * 0.95, h * 0.95, h * 0.45, 90)):
        gdraw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*acc, alpha))
    img = Image.alpha_composite(img.convert("RGBA"), glow).convert("RGB")
    font = _font(int(h * 0.2), slogan) if slogan else None
    if font is not None:
        ImageDraw.Draw(img).text((w * 0.06, h / 2), slogan, font=font, fill=ink, anchor="lm")
    out = BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def form_of(spec: dict) -> dict:
    """A preset as the brand page would post it."""
    form = {k: spec.get(k, "") or "" for k in ("display_name", "brand_name", "slogan", "intro", "primary_colour",
                                                "accent_colour", "text_colour", "mailbox", "footer", "note")}
    form["hotlines"] = hotlines_text(spec.get("hotlines") or [])
    form["stations"] = stations_text(spec.get("stations") or [])
    return form


def ensure_demo_brand(tenant: Tenant, actor_id: int | None) -> BrandVersion | None:
    """Give `tenant` its preset brand, published, unless it already has a brand version (then
    nothing changes: loading the demo twice, or after someone edited the brand, is harmless)."""
    spec = preset(tenant.slug)
    if spec is None or db.scalar(select(BrandVersion.id).limit(1)) is not None:
        return None
    form = form_of(spec)
    files = {"logo": draw_logo(spec.get("logo_char") or tenant.name[:1], tenant.slug[:1].upper(),
                               form["primary_colour"], form["text_colour"]),
             "banner": draw_banner(form["slogan"], form["primary_colour"], form["accent_colour"],
                                   form["text_colour"])}
    row = ops.save_version(tenant, actor_id, form, files)
    ops.publish(tenant, actor_id, row.number)
    return row
