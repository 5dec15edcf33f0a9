"""Benchmarking pages (对标): a county's ranking of its streets (the platform's of its counties), a
street's standing in its county, settings, published rankings, drill-down, charts and files.
Thin: parse, authorise, call one operation, render."""
from __future__ import annotations

import io

from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user

from ..core import menu
from ..core.errors import Refused
from ..core.lifecycle import Attempt
from ..core.permissions import require
from ..i18n import _, get_locale
from . import channels, charts, exports, hotline, periods, reports
from .departments import department_lines
from . import drilldown as drill
from . import operations as ops
from ..topics.channels import CHANNELS
from ..topics.ratings import LABELS as RATING_LABELS
from .measures import BY_KEY, MEASURES, PHASE_NOTE, POINT_LABELS

bp = Blueprint("benchmarks", __name__, url_prefix="/t/<slug>/benchmarks")
menu.entry("benchmarks.index", "对标", 130, "records", "benchmarks.view", current="benchmarks.")


# ---------------------------------------------------------------- helpers for the templates

@bp.app_template_global()
def bm_value(defn: dict, value) -> str:
    return reports.shown(defn["unit"], value)


@bp.app_template_global()
def bm_change(change) -> str:
    return reports.change_text(change)


@bp.app_template_global()
def bm_parts(defn: dict, figures: dict, settings: dict):
    return reports.parts(defn, figures, settings)


@bp.app_template_global()
def bm_definition(key: str) -> dict:
    return BY_KEY[key].describe()


@bp.app_template_global()
def bm_drillable(key: str) -> bool:
    return key in drill.DRILL


@bp.app_template_global()
def bm_chart(defn: dict, band: list, own: list | None = None, lines: list | None = None, selected: str | None = None,
             lines_name: str = ""):
    """A trend chart; with `lines` (every compared tenant's), the one whose slug is `selected`
    is highlighted and the others drawn faint."""
    if lines and own is None:
        own = next((series for slug, _name, series in lines if slug == selected), None)
    own_name = next((name for slug, name, _s in lines or [] if slug == selected), None)
    others = [ln for ln in lines or [] if ln[0] != selected]
    return charts.trend_svg(defn, band, own, lines=others, own_name=own_name, lines_name=lines_name)


@bp.app_template_global()
def bm_channels(figures: list[dict]) -> list[tuple[str, str]]:
    """The intake channels these figures count, named in the reader's language (channels.py)."""
    return [(key, en if get_locale() == "en" else zh) for key, zh, en in channels.columns(figures)]


@bp.app_template_global()
def measure_name(defn: dict) -> str:
    """Measures are named in both languages in their registry (measures.py)."""
    return defn["en"] if get_locale() == "en" else defn["name"]


# ---------------------------------------------------------------- parsing

def _period(source=None) -> tuple[periods.Period, str | None]:
    """`?period=`, or the last whole month; a bad one is named, and that month shown instead."""
    raw = (source or request.args).get("period")
    if not raw:
        return reports.default_period(g.tenant), None
    try:
        return periods.parse(raw), None
    except Refused as exc:
        return reports.default_period(g.tenant), _(exc.message)


def _nav(period: periods.Period) -> dict:
    return {"previous": period.previous(), "following": reports.following(period, g.tenant),
            "kinds": {k: reports.switched(period, k, g.tenant) for k in periods.KINDS},
            "kind_labels": periods.KIND_LABELS}


def _comparing():
    """Rankings belong to counties and the platform; a street has its standing instead."""
    if g.tenant.is_street:
        abort(403)


def _file(body: bytes, mimetype: str, name: str) -> Response:
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


# ---------------------------------------------------------------- the page

@bp.get("/")
@require("benchmarks.view")
def index():
    period, error = _period()
    if g.tenant.is_street:
        report = reports.street_report(g.tenant, period, current_user.id)
        return render_template("benchmarks/street.html", report=report, period=period, error=error,
                               phase_note=PHASE_NOTE, positions=reports.POSITIONS, **_nav(period)), \
            400 if error else 200
    return _county_page(period, error=error)


def _county_page(period, *, error=None, publish_errors=None, title="", status=200):
    report = reports.county_report(g.tenant, period, current_user.id)
    replies = department_lines(g.tenant, period, current_user.id) if g.tenant.is_county else []
    selected = request.args.get("street") or None
    return render_template("benchmarks/county.html", report=report, table=report.table, period=period, error=error,
                           selected=selected,
                           departments=replies, hotline=hotline.orders(g.tenant, period, current_user.id),
                           publish_errors=publish_errors or {}, title=title, phase_note=PHASE_NOTE,
                           **_nav(period)), 400 if error else status


@bp.get("/chart.svg")
@require("benchmarks.view")
def chart():
    """One measure's trend on its own (`?measure=&period=`), as the page draws it inline."""
    period, _error = _period()
    key = request.args.get("measure") or "response_rate"
    if key not in BY_KEY:
        abort(404)
    selected = request.args.get("street") or None
    defn, band, own, others, own_name = reports.chart_series(g.tenant, period, key, current_user.id, selected)
    svg = charts.trend_svg(defn, band, own, heading=True, lines=others, own_name=own_name,
                           lines_name=_("其他街道") if own is not None else _("各街道"))
    return Response(str(svg), mimetype="image/svg+xml")


# ---------------------------------------------------------------- settings

@bp.route("/settings", methods=["GET", "POST"])
@require("benchmarks.manage")
def settings():
    _comparing()
    if request.method != "POST":
        return _settings_page(reports.settings_form(ops.settings_of(g.tenant)))
    form = request.form.to_dict()
    form["measures"] = request.form.getlist("measures")
    with Attempt() as attempt:
        ops.save_settings(g.tenant, current_user.id, form)
        flash(_("已保存对标设置，排名按新的权重计算；已发布的排名不变"), "success")
        return redirect(url_for(".index"))
    return _settings_page(form, attempt.errors, attempt.status)


def _settings_page(form: dict, errors: dict | None = None, status: int = 200):
    return render_template("benchmarks/settings.html", form=form, errors=errors or {}, measures=MEASURES,
                           point_labels=POINT_LABELS), status


# ---------------------------------------------------------------- publishing

@bp.post("/publish")
@require("benchmarks.manage")
def publish():
    _comparing()
    period, error = _period(request.form)
    title = request.form.get("title", "")
    if error:
        return _county_page(period, publish_errors={"period": error}, title=title, status=400)
    with Attempt() as attempt:
        published = ops.publish(g.tenant, current_user.id, period, title)
        flash(_("已发布第 {n} 号排名：{title}", n=published.number, title=published.title), "success")
        return redirect(url_for(".published_ranking", number=published.number))
    # 400 for every refusal, someone else's publishing at the same moment included, as before.
    return _county_page(period, publish_errors=attempt.errors, title=title, status=400)


def _published_or_404(number: int):
    published = ops.find_published_ranking(number)
    if published is None:
        abort(404)
    return reports.published_table(g.tenant, published)


@bp.get("/publications/<int:number>")
@require("benchmarks.view")
def published_ranking(number: int):
    table = _published_or_404(number)
    return render_template("benchmarks/published_ranking.html", table=table, period=table.period, phase_note=PHASE_NOTE)


# ---------------------------------------------------------------- files

def _live_name(period, ext: str) -> str:
    return f"{g.tenant.name}对标-{period.key}.{ext}"


def _street_report_or_table(period):
    if g.tenant.is_street:
        return reports.street_report(g.tenant, period, current_user.id), None
    report = reports.county_report(g.tenant, period, current_user.id)
    return None, report.table


@bp.get("/export.xlsx")
@require("benchmarks.view")
def export_xlsx():
    period, _error = _period()
    street, table = _street_report_or_table(period)
    body = exports.standing_xlsx(street, g.tenant.name, g.tenant.timezone) if street else \
        exports.ranking_xlsx(table, g.tenant.timezone)
    return _file(body, exports.XLSX, _live_name(period, "xlsx"))


@bp.get("/export.csv")
@require("benchmarks.view")
def export_csv():
    period, _error = _period()
    street, table = _street_report_or_table(period)
    body = exports.standing_csv(street) if street else exports.ranking_csv(table)
    return _file(body, exports.CSV, _live_name(period, "csv"))


@bp.get("/publications/<int:number>.xlsx")
@require("benchmarks.view")
def published_ranking_xlsx(number: int):
    table = _published_or_404(number)
    return _file(exports.ranking_xlsx(table, g.tenant.timezone), exports.XLSX,
                 f"{g.tenant.name}对标-{table.period.key}-第{number}号.xlsx")


@bp.get("/publications/<int:number>.csv")
@require("benchmarks.view")
def published_ranking_csv(number: int):
    table = _published_or_404(number)
    return _file(exports.ranking_csv(table), exports.CSV, f"{g.tenant.name}对标-{table.period.key}-第{number}号.csv")


# ---------------------------------------------------------------- drill-down

@bp.get("/streets/<street>")
@require("benchmarks.view")
def drilldown(street: str):
    """The topics behind one street's figure; only a county reaches its own streets'."""
    target = reports.compared_street(g.tenant, street)
    if target is None:
        abort(404)
    period, error = _period()
    measure = request.args.get("measure") or "collected"
    if measure not in drill.DRILL:
        measure, error = "collected", _("该指标没有可查看的议题明细")
    view = reports.drilldown(g.tenant, target, period, measure, current_user.id)
    return render_template("benchmarks/drilldown.html", view=view, period=period, error=error,
                           drillable=[m for m in MEASURES if m.key in drill.DRILL], channels=CHANNELS,
                           rating_labels=RATING_LABELS, **_nav(period)), 400 if error else 200
