"""Posters of the 点单 form for a station or a grid: the form's absolute address with the place
chosen, its QR code (segno: PNG for a WeChat group's notice, SVG for a print shop, inline SVG on
the A4 poster), and the Chinese file names the downloads carry.

The address is the one residents reach: the street's own host name when it has one (the host
serves its pages at `/…`, see TenantHostMiddleware), else PUBLIC_BASE_URL, else the address this
request came to."""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import segno
from flask import current_app, request, url_for
from markupsafe import Markup

from ..roster.models import Station
from ..tenants.models import Tenant
from .origin import GRID, STATION, Origin

PNG_SIDE = 800  # pixels, about: sharp in a WeChat notice, and still a small file
SVG_MODULE_MM = 1  # an SVG's module (one black square) in millimetres: a print shop scales it at will
UNSAFE_IN_NAMES = re.compile(r'[\s\\/:*?"<>|\x00-\x1f]+')
ASCII_NAMES = {"png": "dian-dan-qr.png", "svg": "dian-dan-qr.svg"}  # for clients that ignore filename*


def base_url(tenant: Tenant) -> str:
    """Where the street's pages are reached from outside, without a trailing slash."""
    cfg = current_app.config["SHANGLIANG"]
    if tenant.custom_host:
        scheme = urlsplit(cfg.public_base_url).scheme if cfg.public_base_url else \
            ("https" if cfg.production else request.scheme)
        return f"{scheme}://{tenant.custom_host}"
    if cfg.public_base_url:
        return f"{cfg.public_base_url}/t/{tenant.slug}"
    return url_for("portal.home", slug=tenant.slug, _external=True).rstrip("/")


def raise_url(tenant: Tenant, where: Origin | None = None) -> str:
    """The 点单 form's absolute address, with `where` chosen (the form reads it back: origin.py)."""
    url = f"{base_url(tenant)}/raise"
    if where is None:
        return url
    return f"{url}?{urlencode(where.fields(), quote_via=quote)}"


def grid_key(community: str, grid: str) -> str:
    """A grid's name in staff's poster addresses: its community and grid names hashed, so that any
    character in a name is safe in a path, and the address holds while the names do (the rows of
    the street's lists are written anew on every save)."""
    return hashlib.sha256(f"{community}\n{grid}".encode()).hexdigest()[:16]


def qr(url: str) -> segno.QRCode:
    """Medium error correction (15%, raised when the code stays the same size): a poster survives
    a crease, a smudge or a pin through it."""
    return segno.make_qr(url, error="m")


def png(url: str) -> bytes:
    code = qr(url)
    modules = code.symbol_size(scale=1, border=4)[0]
    out = io.BytesIO()
    code.save(out, kind="png", scale=max(4, PNG_SIDE // modules), border=4, dark="#000", light="#fff")
    return out.getvalue()


def svg(url: str, title: str) -> bytes:
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=SVG_MODULE_MM, unit="mm", border=4, dark="#000", light="#fff",
                 title=title, encoding="utf-8")
    return out.getvalue()


def inline_svg(url: str, label: str) -> Markup:
    """The QR code inside the poster page: sized by the page's CSS (its viewBox only)."""
    code = qr(url).svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="poster-qr-code",
                              title=label)
    return Markup(code)


@dataclass(frozen=True)
class Poster:
    """What a poster shows: the place, what to do, and where the QR code leads."""

    name: str
    kind: str  # a source string for `_`: 庭院网格e站, 委员工作室, 议事室, 网格
    url: str  # what the QR code opens
    short_url: str  # the plain 点单 form, printed under the code for those who type it
    file_stem: str  # 燕山街道-燕子山社区3网格-点单二维码
    community: str = ""
    address: str = ""  # a station's, with its opening hours: what helps a resident find it
    hours: str = ""

    @property
    def title(self) -> str:
        """The place as staff call it: a grid with its community."""
        return f"{self.community} {self.name}" if self.kind == "网格" else self.name


def station_poster(tenant: Tenant, station: Station, kind: str) -> Poster:
    where = Origin(STATION, station=station, community=station.community)
    return Poster(station.name, kind, raise_url(tenant, where), raise_url(tenant), file_stem(tenant, station.name),
                  station.community or "", station.address or "", station.hours or "")


def grid_poster(tenant: Tenant, community: str, grid: str) -> Poster:
    where = Origin(GRID, community=community, grid=grid)
    return Poster(grid, "网格", raise_url(tenant, where), raise_url(tenant), file_stem(tenant, f"{community}{grid}"),
                  community)


def file_stem(tenant: Tenant, place: str) -> str:
    """`燕山街道-燕子山社区3网格-点单二维码`: no spaces, nothing a file system refuses."""
    return "-".join(UNSAFE_IN_NAMES.sub("", part) for part in (tenant.name, place, "点单二维码"))


def content_disposition(name: str, ext: str) -> str:
    """An attachment named in Chinese (RFC 6266 / 5987: `filename*` in UTF-8), with an ASCII name
    for the few clients that read only `filename`."""
    return f"attachment; filename=\"{ASCII_NAMES[ext]}\"; filename*=UTF-8''{quote(f'{name}.{ext}', safe='')}"
