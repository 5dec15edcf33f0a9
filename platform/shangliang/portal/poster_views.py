"""Staff's posters of the 点单 form: one per station (from the stations list, for those who manage
stations) and one per grid (from 社区与类别, for those who manage the street's lists), as an A4
page to print and as the bare QR code, PNG or SVG, to paste into a WeChat group's notice."""
from __future__ import annotations

from flask import Blueprint, Response, abort, g, render_template, url_for

from ..core.permissions import require
from ..roster.models import Station
from ..roster.operations import STATION_KIND_LABELS, find_station
from ..roster.views import street_only  # stations and grids are a street's: 403 for a county
from ..topics import places
from . import posters

bp = Blueprint("posters", __name__, url_prefix="/t/<slug>/posters")
FILES = {"png": "image/png", "svg": "image/svg+xml"}


def _station(station_id) -> Station:
    """One of this street's stations still in use; a stopped one has no poster (its code would
    only open the plain form)."""
    station = find_station(station_id)
    if station is None or not station.active:
        abort(404)
    return station


def _grid(key: str) -> tuple[str, str]:
    """(community, grid) of this street's lists whose key is `key`; 404 for any other."""
    communities, _categories = places.lists(g.tenant.id)
    found = next(((c, name) for c, grids in communities.items() for name in grids
                  if posters.grid_key(c, name) == key), None)
    if found is None:
        abort(404)
    return found


@bp.app_template_global("grid_poster_key")
def _grid_poster_key(community: str, grid: str) -> str:
    return posters.grid_key(community, grid)


def _page(poster: posters.Poster, files: dict, back: tuple[str, str]):
    return render_template("portal/poster.html", poster=poster, files=files, back=back,
                           qr=posters.inline_svg(poster.url, poster.name))


def _file(poster: posters.Poster, ext: str) -> Response:
    body = posters.png(poster.url) if ext == "png" else posters.svg(poster.url, poster.name)
    resp = Response(body, mimetype=FILES[ext])
    resp.headers["Content-Disposition"] = posters.content_disposition(poster.file_stem, ext)
    resp.headers["Cache-Control"] = "private, no-cache"  # renaming the place changes the code's file name
    return resp


def _station_poster(station_id) -> posters.Poster:
    station = _station(station_id)
    return posters.station_poster(g.tenant, station, STATION_KIND_LABELS.get(station.kind, "站点"))


@bp.get("/stations/<uuid:station_id>")
@require("roster.manage")
@street_only
def station(station_id):
    files = {ext: url_for(".station_file", station_id=station_id, ext=ext) for ext in FILES}
    return _page(_station_poster(station_id), files, (url_for("roster.stations"), "站点"))


@bp.get("/stations/<uuid:station_id>/qr.<any(png, svg):ext>")
@require("roster.manage")
@street_only
def station_file(station_id, ext: str):
    return _file(_station_poster(station_id), ext)


@bp.get("/grids/<key>")
@require("tenant.manage")
@street_only
def grid(key: str):
    files = {ext: url_for(".grid_file", key=key, ext=ext) for ext in FILES}
    return _page(posters.grid_poster(g.tenant, *_grid(key)), files, (url_for("tenants.places"), "社区与类别"))


@bp.get("/grids/<key>/qr.<any(png, svg):ext>")
@require("tenant.manage")
@street_only
def grid_file(key: str, ext: str):
    return _file(posters.grid_poster(g.tenant, *_grid(key)), ext)
