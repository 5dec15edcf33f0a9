"""The roster pages (名册, 站点, 导入导出) and the duty rota (轮值). Thin: parse, authorise, call, render."""
from __future__ import annotations

import io
import tempfile
from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.first_steps import Check, first_step
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import can, require
from ..i18n import _
from ..topics.page import register_part
from . import duty as duty_ops
from . import imports, pairing, readers
from . import operations as ops
from . import tasks  # noqa: F401  (declares the import and reminder jobs)
from .export import export_xlsx, template_xlsx
from .models import PERSON_KINDS, DutyShift, Person, Station
from .suggestions import suggest_members

bp = Blueprint("roster", __name__, url_prefix="/t/<slug>/roster")
duty_bp = Blueprint("duty", __name__, url_prefix="/t/<slug>/duty")
menu.entry("roster.index", "名册", 90, "roster", "roster.view", kinds={"street"}, current="roster.")
menu.entry("duty.calendar", "轮值", 100, "roster", "roster.view", kinds={"street"}, current="duty.")
first_step("roster", "名册", "登记或导入政协委员等人员", 30, "roster.manage",
           Check("roster.index", lambda tenant: select(Person.id).exists()))
first_step("duty", "站点与轮值", "添加站点，再安排委员轮值", 40, "duty.manage",
           Check("roster.stations", lambda tenant: select(Station.id).where(Station.active.is_(True)).exists()),
           Check("duty.calendar", lambda tenant: select(DutyShift.id).exists()))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def street_only(view):
    """Rosters and rotas belong to streets; a county or the platform has none (403, after `require`)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not g.tenant.is_street:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.app_template_global("roster_phones_visible")
def _sees_phones() -> bool:
    """Who sees the roster's phone numbers unmasked (pages elsewhere ask too: a grid worker's home)."""
    return can("roster.manage") or can("duty.manage")


@bp.app_template_global()
def duty_today():
    """Today's shifts of the current street, for the dashboard card."""
    return duty_ops.on_duty(g.tenant)


# ---------------------------------------------------------------- people

@bp.get("/")
@require("roster.view")
@street_only
def index():
    args = {k: request.args.get(k, "").strip()[:60] for k in ("kind", "community", "q", "status")}
    active = {"inactive": False, "all": None}.get(args["status"], True)
    page = paginate(ops.people_query(args["kind"] if args["kind"] in PERSON_KINDS else None,
                                     args["community"] or None, args["q"] or None, active))
    return render_template("roster/index.html", page=page, args=args, counts=ops.kind_counts(),
                           labels=ops.KIND_LABELS, levels=ops.LEVEL_LABELS, places=ops.places(g.tenant),
                           usernames=ops.usernames(p.user_id for p in page.items), phones=_sees_phones())


def _person_or_404(person_id):
    person = ops.find_person(person_id)
    if person is None:
        abort(404)
    return person


def _person_page(form, errors, person=None, status=200):
    return render_template("roster/person.html", form=form, errors=errors, person=person,
                           labels=ops.KIND_LABELS, levels=ops.LEVEL_LABELS, places=ops.places(g.tenant),
                           pairs=pairing.pairs_of(person.id) if person else []), status


@bp.route("/new", methods=["GET", "POST"])
@require("roster.manage")
@street_only
def new_person():
    form = {"kind": request.args.get("kind", "member")}
    if request.method == "POST":
        form = request.form.to_dict()
        with Attempt() as attempt:
            person = ops.create_person(g.tenant, current_user.id, form)
            flash(_("已加入名册：{name}", name=person.name), "success")
            return redirect(url_for(".index"))
        return _person_page(form, attempt.errors, status=400)  # 400 even for a login taken (a conflict)
    return _person_page(form, {})


@bp.route("/<uuid:person_id>", methods=["GET", "POST"])
@require("roster.manage")
@street_only
def edit_person(person_id):
    person = _person_or_404(person_id)
    if request.method == "POST":
        form = request.form.to_dict()
        with Attempt() as attempt:
            ops.update_person(g.tenant, current_user.id, person, form)
            flash(_("已保存"), "success")
            return redirect(url_for(".index"))
        return _person_page(form, attempt.errors, person, 400)
    return _person_page(ops.person_form(person, ops.usernames([person.user_id]).get(person.user_id)), {}, person)


@bp.post("/<uuid:person_id>/active")
@require("roster.manage")
@street_only
def set_active(person_id):
    person = _person_or_404(person_id)
    active = request.form.get("active") == "1"
    ops.set_active(g.tenant, current_user.id, person, active)
    flash(_("已恢复在册") if active else _("已停用：{name}", name=person.name), "success")
    return redirect(url_for(".edit_person", person_id=person.id))


# ---------------------------------------------------------------- import and export

def _import_page(error=None, status=200):
    rows = imports.recent_imports()
    return render_template("roster/import.html", imports=rows, error=error, labels=imports.STATUS_LABELS,
                           percent=imports.percent, headers=readers.HEADERS, kinds=ops.KIND_LABELS), status


@bp.route("/import", methods=["GET", "POST"])
@require("roster.manage")
@street_only
def import_file():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(_("请选择要导入的文件"), 400)
    with Attempt() as attempt:
        row = imports.start_import(g.tenant, current_user.id, upload.filename, upload.stream)
        return redirect(url_for(".import_report", import_id=row.id))
    return _import_page(_(attempt.refusal.message), 400)


def _import_or_404(import_id):
    row = imports.find_import(import_id)
    if row is None:
        abort(404)
    return row


@bp.get("/imports/<uuid:import_id>")
@require("roster.manage")
@street_only
def import_report(import_id):
    row = _import_or_404(import_id)
    return render_template("roster/import_report.html", row=row, labels=imports.STATUS_LABELS,
                           percent=imports.percent(row), fields=ops.FIELD_LABELS)


def import_status_json(row) -> dict:
    """An import's progress, as export.js polls it and as the API returns it."""
    return {"id": str(row.id), "status": row.status, "label": _(imports.STATUS_LABELS.get(row.status, row.status)),
            "percent": imports.percent(row), "done_items": row.done_rows, "total_items": row.total_rows,
            "done_rows": row.done_rows, "total_rows": row.total_rows, "filename": row.filename,
            "created": row.created_count, "updated": row.updated_count, "unchanged": row.unchanged_count,
            "refused": row.refused, "error": row.error}


@bp.get("/imports/<uuid:import_id>/status")
@require("roster.manage")
@street_only
def import_status(import_id):
    return jsonify(import_status_json(_import_or_404(import_id)))


@bp.get("/template.xlsx")
@require("roster.manage")
@street_only
def template():
    return send_file(io.BytesIO(template_xlsx()), mimetype=XLSX, as_attachment=True,
                     download_name="名册模板.xlsx")


@bp.get("/export.xlsx")
@require("roster.manage")
@street_only
def export():
    # Written to a temporary file that is unlinked at once: it goes away when the response is sent.
    fh = tempfile.TemporaryFile()
    export_xlsx(fh)
    fh.seek(0)
    name = f"{g.tenant.name}名册-{duty_ops.local_today(g.tenant).isoformat()}.xlsx"
    return send_file(fh, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)


# ---------------------------------------------------------------- stations

@bp.route("/stations", methods=["GET", "POST"])
@require("roster.view")
@street_only
def stations():
    form, errors, status = {"kind": "grid_station"}, {}, 200
    if request.method == "POST":
        if not can("roster.manage"):
            abort(403)
        form = request.form.to_dict()
        with Attempt() as attempt:
            station = ops.save_station(g.tenant, current_user.id, form)
            flash(_("已添加站点：{name}", name=station.name), "success")
            return redirect(url_for(".stations"))
        errors, status = attempt.errors, 400
    return render_template("roster/stations.html", stations=ops.stations(), form=form, errors=errors,
                           kinds=ops.STATION_KIND_LABELS, places=ops.places(g.tenant)), status


@bp.route("/stations/<uuid:station_id>", methods=["GET", "POST"])
@require("roster.manage")
@street_only
def edit_station(station_id):
    station = ops.find_station(station_id)
    if station is None:
        abort(404)
    form = {k: getattr(station, k) or "" for k in ("name", "kind", "address", "hours", "community")}
    form["active"] = "1" if station.active else "0"
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form.to_dict()
        with Attempt() as attempt:
            ops.save_station(g.tenant, current_user.id, form, station)
            flash(_("已保存"), "success")
            return redirect(url_for(".stations"))
        errors, status = attempt.errors, 400
    return render_template("roster/station.html", station=station, form=form, errors=errors,
                           kinds=ops.STATION_KIND_LABELS, places=ops.places(g.tenant)), status


# ---------------------------------------------------------------- the duty rota

def _week():
    today = duty_ops.local_today(g.tenant)
    return duty_ops.week(g.tenant, duty_ops.parse_week(request.values.get("week"), today))


@duty_bp.get("/")
@require("roster.view")
@street_only
def calendar(errors=None, status=200):
    """The week; for staff, the assignment form for one station (`?station=`, the first by default),
    with the members paired with its grids offered first."""
    week = _week()
    picker = pairing.RotaPicker()
    if can("duty.manage"):
        picker = pairing.rota_picker(week.stations, request.values.get("station_id") or request.values.get("station"),
                                     ops.people_for_choice(("member",)), ops.places(g.tenant))
    return render_template("roster/duty.html", week=week, members=picker.members, errors=errors or {},
                           weekdays=duty_ops.WEEKDAYS, status_labels=duty_ops.STATUS_LABELS,
                           kinds=ops.STATION_KIND_LABELS, timedelta=timedelta, picker=picker,
                           today_rows=duty_ops.on_duty(g.tenant)), status


def _back():
    return redirect(url_for(".calendar", week=request.values.get("week") or None))


def _shift_or_404(shift_id):
    shift = duty_ops.find_shift(shift_id)
    if shift is None:
        abort(404)
    return shift


def _done(call, message):
    with Attempt() as attempt:
        result = call()
        flash(message(result) if callable(message) else message, "success")
        return _back()
    return calendar(errors=attempt.errors, status=attempt.status)


@duty_bp.post("/assign")
@require("duty.manage")
@street_only
def assign():
    return _done(lambda: duty_ops.assign(g.tenant, current_user.id, request.form.get("station_id"),
                                         request.form.getlist("person_ids"), request.form.getlist("days")),
                 lambda r: _("已安排 {added} 个班次", added=r[0]) +
                 (_("，跳过 {skipped} 个当天已有安排的", skipped=r[1]) if r[1] else ""))


@duty_bp.post("/<uuid:shift_id>/mark")
@require("duty.manage")
@street_only
def mark(shift_id):
    shift = _shift_or_404(shift_id)
    return _done(lambda: duty_ops.mark(g.tenant, current_user.id, shift, request.form.get("status", "")), _("已记录"))


@duty_bp.post("/swap")
@require("duty.manage")
@street_only
def swap():
    """Two members trade shifts (other_id), or another member takes one over (person_id)."""
    shift = duty_ops.find_shift(request.form.get("shift_id"))
    other_id, person_id = request.form.get("other_id"), request.form.get("person_id")
    if shift is None:
        return calendar(errors={"shift_id": _("请选择班次")}, status=400)
    if other_id:
        other = duty_ops.find_shift(other_id)
        if other is None:
            return calendar(errors={"other_id": _("请选择要交换的班次")}, status=400)
        return _done(lambda: duty_ops.swap(g.tenant, current_user.id, shift, other), _("已换班"))
    return _done(lambda: duty_ops.hand_over(g.tenant, current_user.id, shift, person_id), _("已换人顶班"))


@duty_bp.post("/<uuid:shift_id>/remove")
@require("duty.manage")
@street_only
def remove(shift_id):
    shift = _shift_or_404(shift_id)
    return _done(lambda: duty_ops.remove(g.tenant, current_user.id, shift), _("已取消该班次"))


def topic_suggestions(topic, log, roles, user_id) -> dict:
    """At a step where members claim, the members best placed to, on the topic's page when asked
    (`?suggest=1`): weighing every member's open topics reads the street's claims, the most costly
    part of the page, and the page is read far more often than a claim is arranged. None elsewhere."""
    if topic.status != "open" or "member" not in topic.step["roles"] or not can("roster.view"):
        return {"suggestions": None}
    if request.args.get("suggest") != "1":
        return {"suggestions": (), "suggestions_asked": False}
    return {"suggestions": suggest_members(g.tenant, topic, log=log), "suggestions_asked": True}


register_part("suggestions", topic_suggestions)
