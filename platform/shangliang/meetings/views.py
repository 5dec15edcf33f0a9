"""Pages of 议事会: the list, the form, a meeting with its minutes and work list, the open work list."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2 import TemplateNotFound
from sqlalchemy import select

from ..accounts.models import ADMIN_ROLES, User
from ..core import menu
from ..core.db import db, utcnow
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import can, require, roles_in
from ..i18n import _
from ..roster.models import Person, Station
from ..topics import notice
from ..topics.models import Topic
from ..topics.page import register_part
from . import operations as ops
from .models import FORMS, GROUPS, Meeting

bp = Blueprint("meetings", __name__, url_prefix="/t/<slug>/meetings")
menu.entry("meetings.index", "议事会", 80, "meetings", "meetings.view", kinds={"street"}, current="meetings.")
EXTRA_ROWS = 3  # blank rows for people who are not on the roster
UPCOMING_SHOWN = 50


def _labels() -> dict:
    """Label tables, translated, for the templates."""
    tr = lambda d: {k: _(v) for k, v in d.items()}  # noqa: E731
    return {"form_labels": tr(ops.FORM_LABELS), "group_labels": tr(ops.GROUP_LABELS),
            "status_labels": tr(ops.STATUS_LABELS), "work_labels": tr(ops.WORK_LABELS)}


def _meeting(number: int) -> Meeting:
    meeting = ops.get_meeting(number)
    if meeting is None:
        abort(404)
    return meeting


# ---------------------------------------------------------------- lists

@bp.get("/")
@require("meetings.view")
def index():
    """Meetings still to be held first (few: shown whole), then the record, a page at a time."""
    upcoming = db.scalars(select(Meeting).where(Meeting.status == "planned")
                          .order_by(Meeting.starts_at).limit(UPCOMING_SHOWN)).all()
    page = paginate(select(Meeting).where(Meeting.status != "planned")
                    .order_by(Meeting.starts_at.desc(), Meeting.number.desc()))
    conveners = ops.conveners_of([m.id for m in upcoming] + [m.id for m in page.items])
    return render_template("meetings/index.html", upcoming=upcoming, page=page, conveners=conveners, now=utcnow(),
                           **_labels())


@bp.get("/work")
@require("meetings.view")
def work():
    page = paginate(ops.open_work_stmt(), scalars=False)
    return render_template("meetings/work.html", page=page, today=ops.local_today(g.tenant),
                           manage=can("meetings.manage"), **_labels())


# ---------------------------------------------------------------- the form

def _form_from_request() -> tuple[dict, dict]:
    """(what the person typed, for the page; the input of create/update_meeting)."""
    f = request.form
    attend, convene = f.getlist("attend"), f.getlist("convene")
    extras = [{"name": f.get(f"extra_name_{i}", "").strip(), "group": f.get(f"extra_group_{i}", "stakeholder"),
               "convener": bool(f.get(f"extra_convener_{i}"))}
              for i in range(min(f.get("extra_rows", 0, type=int) or 0, ops.MAX_PARTICIPANTS))]
    form = {k: f.get(k, "") for k in ("title", "form", "starts_at", "place", "station_id", "agenda")}
    form.update(attend=set(attend), convene=set(convene), topics={int(n) for n in f.getlist("topics") if n.isdigit()},
                extras=[e for e in extras if e["name"]])
    people = [{"person_id": pid, "convener": pid in convene} for pid in dict.fromkeys(attend + convene)]
    data = {**{k: form[k] for k in ("title", "form", "starts_at", "place", "station_id", "agenda")},
            "participants": people + form["extras"], "topics": sorted(form["topics"])}
    return form, data


def _form_from_meeting(meeting: Meeting) -> dict:
    rows = ops.participants(meeting)
    local = meeting.starts_at.astimezone(ZoneInfo(g.tenant.timezone))
    return {"title": meeting.title, "form": meeting.form, "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "place": meeting.place, "station_id": str(meeting.station_id or ""), "agenda": meeting.agenda,
            "attend": {str(p.person_id) for p in rows if p.person_id},
            "convene": {str(p.person_id) for p in rows if p.person_id and p.convener},
            "extras": [{"name": p.name, "group": p.group, "convener": p.convener} for p in rows if not p.person_id],
            "topics": {t.number for _mt, t in ops.linked_topics(meeting)}}


def _render_form(form: dict, errors: dict, meeting: Meeting | None = None, status: int = 200):
    open_topics = db.scalars(select(Topic).where(Topic.status == "open").order_by(Topic.number.desc()).limit(100)).all()
    # Topics already linked stay offered even once closed, so that saving the form keeps them.
    missing = form["topics"] - {t.number for t in open_topics}
    if missing:
        open_topics += db.scalars(select(Topic).where(Topic.number.in_(missing)).order_by(Topic.number)).all()
    stations = db.scalars(select(Station).where(Station.active.is_(True)).order_by(Station.name)).all()
    return render_template("meetings/form.html", form=form, errors=errors, meeting=meeting,
                           roster=ops.roster_by_group(keep=form["attend"] | form["convene"]), topics=open_topics,
                           tallies=notice.tallies(t.id for t in open_topics),  # 议题公示: supports, comments
                           stations=stations, forms=FORMS,
                           groups=GROUPS, extra_rows=len(form["extras"]) + EXTRA_ROWS, **_labels()), status


@bp.route("/new", methods=["GET", "POST"])
@require("meetings.manage")
def new():
    if request.method == "GET":
        start = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo(g.tenant.timezone))
        topic = request.args.get("topic", type=int)
        form = {"form": "meeting_room", "starts_at": start.strftime("%Y-%m-%dT14:30"), "attend": set(),
                "convene": set(), "extras": [], "topics": {topic} if topic else set()}
        return _render_form(form, {})
    form, data = _form_from_request()
    with Attempt() as attempt:
        meeting = ops.create_meeting(g.tenant, current_user.id, data)
        flash(_("已创建议事会 #{n}", n=meeting.number), "success")
        return redirect(url_for(".show", number=meeting.number))
    return _render_form(form, attempt.errors, status=attempt.status)


@bp.route("/<int:number>/edit", methods=["GET", "POST"])
@require("meetings.manage")
def edit(number: int):
    meeting = _meeting(number)
    if request.method == "GET":
        return _render_form(_form_from_meeting(meeting), {}, meeting)
    form, data = _form_from_request()
    with Attempt() as attempt:
        ops.update_meeting(g.tenant, current_user.id, meeting, data,
                           expected_version=request.form.get("version", type=int))
        flash(_("已保存"), "success")
        return redirect(url_for(".show", number=number))
    return _render_form(form, attempt.errors, _meeting(number), status=attempt.status)


# ---------------------------------------------------------------- a meeting

@bp.get("/<int:number>")
@require("meetings.view")
def show(number: int, errors=None, typed=None, status=200):
    meeting = _meeting(number)
    roles = roles_in(current_user, g.tenant)
    people = ops.participants(meeting)
    revisions = ops.minutes(meeting)
    topics = ops.linked_topics(meeting)
    items = ops.work_items(meeting)
    authors = {r.created_by for r in revisions if r.created_by}
    names = dict(db.execute(select(User.id, User.display_name).where(User.id.in_(authors))).all()) if authors else {}
    owner_users = dict(db.execute(select(Person.id, Person.user_id).where(
        Person.id.in_({i.owner_person_id for i in items if i.owner_person_id}))).all()) if items else {}
    station = db.get(Station, {"tenant_id": g.tenant.id, "id": meeting.station_id}) if meeting.station_id else None
    states = {mt.topic_id: ops.consult_state(meeting, mt, t, roles, current_user.id) for mt, t in topics}
    tallies = notice.tallies(t.id for _mt, t in topics)  # what residents said of them on notice, in one statement
    return render_template(
        "meetings/show.html", meeting=meeting, people=people, revisions=revisions, topics=topics, items=items,
        authors=names, station=station, states=states, tallies=tallies, errors=errors or {}, typed=typed or {},
        owner_users=owner_users, today=ops.local_today(g.tenant), manage=can("meetings.manage"),
        roster=ops.roster_by_group() if can("meetings.manage") else {},
        cancel_reason=ops.cancel_reason(meeting) if meeting.status == "cancelled" else "",
        admin=bool(roles & ADMIN_ROLES), has_gallery=_gallery(),
        **_labels()), status


def topic_meetings(topic, log, roles, user_id) -> dict:
    """The meetings that consulted the topic, on its page."""
    return {"meetings": ops.meetings_of_topic(topic) if can("meetings.view") else []}


register_part("meetings", topic_meetings)


def _gallery() -> bool:
    """Whether the files module (its gallery macro and the template globals it needs) is installed."""
    try:
        current_app.jinja_env.get_template("files/_gallery.html")
    except TemplateNotFound:
        return False
    return "attachments_of" in current_app.jinja_env.globals


def _act(number: int, do, done: str, typed: dict | None = None):
    """Run one change on the meeting page, or show the page again with why not."""
    meeting = _meeting(number)
    with Attempt() as attempt:
        do(meeting)
        flash(done, "success")
        return _after(number)
    return show(number, errors=attempt.errors, typed=typed, status=attempt.status)


def _after(number: int):
    if request.form.get("back") == "work":  # updated from the open work list
        return redirect(url_for(".work"))
    anchor = request.form.get("anchor", "")
    return redirect(url_for(".show", number=number) + (anchor if re.fullmatch(r"#[\w-]{1,60}", anchor) else ""))


def _version() -> int | None:
    return request.form.get("version", type=int)


@bp.post("/<int:number>/attendance")
@require("meetings.manage")
def attendance(number: int):
    return _act(number, lambda m: ops.set_attendance(g.tenant, current_user.id, m, request.form.getlist("attended"),
                                                     expected_version=_version()), _("已保存出席情况"))


@bp.post("/<int:number>/minutes")
@require("meetings.manage")
def add_minutes(number: int):
    typed = {"text": request.form.get("text", ""), "note": request.form.get("note", "")}
    return _act(number, lambda m: ops.add_minutes(g.tenant, current_user.id, m, typed["text"], note=typed["note"],
                                                  base_revision=request.form.get("base_revision", -1, type=int)),
                _("已保存新版本纪要"), typed)


@bp.post("/<int:number>/status")
@require("meetings.manage")
def change_status(number: int):
    to = request.form.get("status", "")
    return _act(number, lambda m: ops.set_status(g.tenant, current_user.id, m, to, expected_version=_version(),
                                                 reason=request.form.get("reason", "")),
                _("议事会已标记为已召开") if to == "held" else _("议事会已取消"), {"reason": request.form.get("reason", "")})


@bp.post("/<int:number>/delete")
@require("meetings.manage")
def delete(number: int):
    meeting = _meeting(number)
    with Attempt() as attempt:
        ops.delete_meeting(g.tenant, current_user.id, roles_in(current_user, g.tenant), meeting,
                           expected_version=_version())
        flash(_("已删除议事会 #{n}", n=number), "success")
        return redirect(url_for(".index"))
    return show(number, errors=attempt.errors, status=attempt.status)


@bp.post("/<int:number>/topics/<int:topic_number>")
@require("meetings.manage")
def topic(number: int, topic_number: int):
    """Save the agreement on a topic, and with `record`, log it on the topic."""
    found = db.scalar(select(Topic).where(Topic.number == topic_number))
    if found is None:
        abort(404)
    record = request.form.get("do") == "record"
    agreement = request.form.get("agreement", "")

    def do(meeting):
        ops.set_agreement(g.tenant, current_user.id, meeting, found, agreement)
        if record:
            ops.record_consultation(g.tenant, current_user.id, roles_in(current_user, g.tenant), meeting, found)

    return _act(number, do, _("已记入议题 #{n} 的协商记录", n=topic_number) if record else _("已保存"),
                {f"agreement_{topic_number}": agreement})


@bp.post("/<int:number>/work")
@require("meetings.manage")
def add_work(number: int):
    f = request.form
    owner = f.get("owner", "")
    typed = {k: f.get(k, "") for k in ("title", "owner", "owner_name", "due_on", "topic_number", "note")}
    data = {**typed, "owner_person_id": owner if owner and not owner.startswith("name:") else None,
            "owner_name": f.get("owner_name", "").strip() or owner.removeprefix("name:")}
    return _act(number, lambda m: ops.add_work_item(g.tenant, current_user.id, m, data), _("已加入工作清单"),
                {f"work_{k}": v for k, v in typed.items()})


@bp.post("/<int:number>/work/<uuid:item_id>")
@require("meetings.view")
def update_work(number: int, item_id):
    meeting = _meeting(number)
    item = ops.get_work_item(meeting, item_id)
    if item is None:
        abort(404)
    status = request.form.get("status") or None
    return _act(number, lambda m: ops.update_work_item(g.tenant, current_user.id, item, status=status,
                                                       note=request.form.get("note"),
                                                       may_manage=can("meetings.manage")),
                _("已更新工作清单"))
