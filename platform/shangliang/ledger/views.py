"""Pages of the member ledger (履职档案): the street's table, a member's dated activities, and
both as Excel. Those with `ledger.view` see every member; a member with a login sees their own
entry only (anyone else's is a 404 to them, as if it did not exist)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from ..benchmarks.measures import POINT_LABELS
from ..benchmarks.periods import KIND_LABELS, KINDS as PERIOD_KINDS
from ..benchmarks.periods import Period, of, parse
from ..core import menu
from ..core.errors import Refused
from ..core.pagination import Page, page_arg
from ..core.permissions import can, require, roles_in
from ..i18n import _, get_locale
from ..roster.duty import local_today
from ..roster.operations import LEVEL_LABELS
from ..roster.views import street_only
from ..topics.ratings import LABELS as RATING_LABELS
from . import operations as ops
from .exports import WHAT, ledger_xlsx, member_xlsx

bp = Blueprint("ledger", __name__, url_prefix="/t/<slug>/ledger")
# for those who read the ledger, and for members (their own entry)
menu.entry("ledger.index", "履职档案", 110, "records", kinds={"street"}, current="ledger.",
           shows=lambda roles, permissions: "member" in roles or "ledger.view" in permissions)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 100


# ---------------------------------------------------------------- periods

def _period() -> tuple[Period, str | None]:
    """?period=, or the street's current year. A wrong one is named and the current year shown."""
    default = of(local_today(g.tenant), g.tenant.timezone, "year")
    raw = request.args.get("period")
    if not raw:
        return default, None
    try:
        return parse(raw), None
    except Refused as exc:
        return default, _(exc.message)


def _export_period() -> Period:
    period, error = _period()
    if error:
        exc = BadRequest()
        exc.user_message = error
        raise exc
    return period


def period_name(p: Period) -> str:
    if get_locale() != "en":
        return p.label
    if p.kind == "month":
        return p.start_day().strftime("%B %Y")
    return f"Q{p.n} {p.year}" if p.kind == "quarter" else str(p.year)


def switch(period: Period) -> dict:
    """The same moment as a month, a quarter or a year; the period before and (if begun) after."""
    today = local_today(g.tenant)
    anchor = today if period.start_day() <= today < period.end_day() else period.start_day()
    following = of(period.end_day(), g.tenant.timezone, period.kind)
    return {"kinds": [(KIND_LABELS[k], of(anchor, g.tenant.timezone, k)) for k in PERIOD_KINDS],
            "previous": period.previous(), "next": following if following.start_day() <= today else None}


def _common(period: Period, scale: tuple[dict, bool], error: str | None) -> dict:
    points, basic = scale
    return {"period": period, "error": error, "switch": switch(period), "period_name": period_name,
            "rules": ops.scale_words(points, basic), "scale": points, "signed": ops.signed,
            "point_labels": POINT_LABELS, "what": WHAT, "levels": LEVEL_LABELS,
            "rating_labels": RATING_LABELS, "kinds": ops.KINDS, "county": g.tenant.parent}


# ---------------------------------------------------------------- the street's table

@bp.get("/")
@require("tenant.view")
@street_only
def index():
    if not can("ledger.view"):
        return _own_entry()
    period, error = _period()
    scale = ops.scale_of(g.tenant, current_user.id)
    book = ops.ledger(g.tenant, period, scale=scale)
    sort = request.args.get("sort") if request.args.get("sort") in ops.SORTS else "points"
    # Sorting by points needs every member's figures, so the page is cut from the sorted list
    # (the figures are a fixed number of grouped queries whatever the roster's size).
    entries = ops.sorted_entries(book.entries, sort)
    n = page_arg()
    page = Page(entries[(n - 1) * PER_PAGE:n * PER_PAGE], n, PER_PAGE, len(entries) > n * PER_PAGE)
    return render_template("ledger/index.html", book=book, page=page, sort=sort,
                           total_points=sum(e.points for e in entries),
                           **_common(period, scale, error)), 400 if error else 200


def _own_entry():
    """A member sees their own entry; one whose login is on no roster line is told so."""
    person = ops.own_member(current_user.id)
    if person is not None:
        return redirect(url_for(".member", person_id=person.id, period=request.args.get("period") or None))
    if "member" not in roles_in(current_user, g.tenant):
        abort(403)
    return render_template("ledger/unlinked.html")


@bp.get("/export.xlsx")
@require("ledger.view")
@street_only
def export():
    period = _export_period()
    book = ops.ledger(g.tenant, period, current_user.id)
    body = ledger_xlsx(book, ops.sorted_entries(book.entries, "points"))
    return _xlsx(body, f"{g.tenant.name}履职档案-{period.key}.xlsx")


# ---------------------------------------------------------------- one member

def _member_or_404(person_id):
    """A member of this street's roster the viewer may see: anyone with `ledger.view`, else only
    the member linked to their own login."""
    person = ops.find_member(person_id)
    if person is None or not (can("ledger.view") or person.user_id == current_user.id):
        abort(404)
    return person


@bp.get("/<uuid:person_id>")
@require("tenant.view")
@street_only
def member(person_id):
    person = _member_or_404(person_id)
    period, error = _period()
    scale = ops.scale_of(g.tenant, current_user.id)
    activities = ops.member_activities(g.tenant, person, period, scale=scale)
    return render_template("ledger/member.html", person=person, entry=ops.summary(person, activities),
                           activities=activities, **_common(period, scale, error)), 400 if error else 200


@bp.get("/<uuid:person_id>.xlsx")
@require("tenant.view")
@street_only
def member_export(person_id):
    person = _member_or_404(person_id)
    period = _export_period()
    points, basic = scale = ops.scale_of(g.tenant, current_user.id)
    activities = ops.member_activities(g.tenant, person, period, scale=scale)
    entry = ops.summary(person, activities)
    body = member_xlsx(ops.Ledger(g.tenant, period, points, basic, [entry]), entry, activities)
    return _xlsx(body, f"{person.name}履职档案-{period.key}.xlsx")


def _xlsx(body: bytes, name: str):
    return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)
