"""The brand a page shows: the tenant's published version, a preview, or the platform's look."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_app_context, url_for
from sqlalchemy import select

from ..core.caches import cached
from ..core.db import db
from ..tenants.models import Tenant
from .colours import DEFAULT_ACCENT, DEFAULT_PRIMARY, DEFAULT_TEXT, MIN_CONTRAST, PAGE_BACKGROUND, contrast_ratio
from .fields import hotlines_text, stations_text
from .models import BrandVersion

DEFAULT_BRAND_NAME = "有事好商量"


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
    """The published brand of `tenant`, or the default look derived from it. A version never
    changes once written and publishing points the tenant at another number, so the brand is
    read once per process for each (tenant, number)."""
    if tenant.brand_number is None:
        return default_brand(tenant)
    key = (tenant.id, tenant.slug, tenant.brand_number, tenant.created_at)
    return cached("brand", key, lambda: _published(tenant))


def _published(tenant: Tenant) -> Brand:
    row = db.scalar(select(BrandVersion).where(BrandVersion.number == tenant.brand_number))
    return brand_of(tenant, row) if row is not None else default_brand(tenant)


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
