"""Data for tests, built through the application's own operations (never rows slipped in past
them), so that what a test starts from is a state the application can reach.

Each function flushes like an operation and leaves the commit to the caller; the ones that work
inside one street enter its tenant context themselves, so they may be called from outside one.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from sqlalchemy import select

from conftest import PASSWORD, uploaded_key
from shangliang.accounts.operations import add_membership, create_user
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.departments import operations as departments
from shangliang.departments.models import Department
from shangliang.meetings import operations as meetings
from shangliang.procedures.operations import adopt, publish
from shangliang.roster import duty
from shangliang.roster import operations as roster
from shangliang.roster.models import DutyShift
from shangliang.tenants.operations import create_tenant
from shangliang.topics import operations as topics
from support.procedures import SMALL

EVERYONE = {"street_admin", "staff", "member", "department", "resident"}
STREET_PROCEDURES = ("qibu_dingdan", "tiyi_banping", "sanji_liangti_yizhuan")
_serial = itertools.count()


def serial() -> int:
    """A number no other factory call in this run has had: for slugs and usernames."""
    return next(_serial)


# ---------------------------------------------------------------- tenants and people

def procedure(street, which: str = "small"):
    """The street's procedure: the shared SMALL one, or a built-in template adopted by its key."""
    with tenant_context(street.id):
        if which == "small":
            return publish(street, None, SMALL)
        return adopt(street, None, which)


def street(slug: str, name: str, *, parent=None, procedure_key: str | None = "small", admin=None, **fields):
    tenant = create_tenant(None, kind="street", slug=slug, name=name, parent=parent, admin=admin, **fields)
    if procedure_key:
        procedure(tenant, procedure_key)
    return tenant


def login(tenant, role: str, username: str | None = None, name: str | None = None):
    """A user who signs in with PASSWORD and holds `role` in `tenant`."""
    user = create_user(username or f"u{serial()}-{role}", name or f"{tenant.name}{role}", PASSWORD)
    with tenant_context(tenant.id):
        add_membership(tenant, None, user, role)
    return user


@contextmanager
def roster_clock(moment: datetime | None):
    """The roster stamps its rows with the wall clock; a story told on a fake clock needs its
    people changed before the story starts."""
    if moment is None:
        yield
        return
    with mock.patch.object(roster, "utcnow", lambda: moment):
        yield


def person(street, kind: str = "member", name: str = "委员", *, changed_at: datetime | None = None, **fields):
    """A roster person (`username` links a login of the street)."""
    with tenant_context(street.id), roster_clock(changed_at):
        return roster.create_person(street, None, {"kind": kind, "name": name, **fields})


def member(street, name: str, username: str | None = None, *, changed_at: datetime | None = None, **fields):
    """A member on the roster who signs in: (user, person)."""
    user = login(street, "member", username, name)
    return user, person(street, "member", name, username=user.username, changed_at=changed_at, **fields)


def station(street, name: str = "e站", kind: str = "grid_station", **fields):
    with tenant_context(street.id):
        return roster.save_station(street, None, {"name": name, "kind": kind, **fields})


def county(n_streets: int = 2, procedures=None, *, members: int = 2, changed_at: datetime | None = None):
    """A fresh county with streets on different built-in procedures, each with `members` members
    who sign in, a grid worker and a station: (county, [{tenant, people: [(user_id, person)],
    station, topics: []}, …])."""
    tag = serial()
    procedures = procedures or [STREET_PROCEDURES[(tag + i) % 3] for i in range(n_streets)]
    parent = create_tenant(None, kind="county", slug=f"bc{tag}", name=f"对标区{tag}")
    streets = []
    for i in range(n_streets):
        tenant = street(f"bs{tag}x{i}", f"对标街道{tag}-{i}", parent=parent, procedure_key=procedures[i],
                        households=1000 + i)
        people = []
        for j in range(members):
            user, who = member(tenant, f"委员{j}", f"bm{tag}x{i}x{j}", changed_at=changed_at)
            people.append((user.id, who))
        person(tenant, "grid_worker", "网格员", grid="1 网格", changed_at=changed_at)
        streets.append({"tenant": tenant, "people": people, "station": station(tenant), "topics": []})
    return parent, streets


# ---------------------------------------------------------------- topics

INTAKE = {"title": "楼道灯不亮", "channel": "wechat"}


def raise_topic(street, user_id: int | None = None, **intake):
    with tenant_context(street.id):
        return topics.create_topic(street, user_id, {**INTAKE, **intake})


def act(street, topic, kind: str, user_id: int | None = None, roles=EVERYONE, data=None, to=None, comment=""):
    """One action on the topic, as its page or the API would take it (at the topic's version)."""
    with tenant_context(street.id):
        return topics.act(street, user_id, set(roles), topic, kind, expected_version=topic.version, to=to,
                          comment=comment, data=data or {})


FIELDS = {"urgency": "normal", "channel": "wechat"}


def supply(street, topic, missing, user_id: int | None = None, rating=None, roles=EVERYONE):
    """Whatever the step still asks for (an action's `missing`) before the topic may leave it."""
    for item in missing:
        kind, _, rest = item.partition(":")
        if kind == "field":
            act(street, topic, "record", user_id, roles, {rest: FIELDS.get(rest, "有")})
        elif kind in ("photos", "attachments"):
            for _ in range(int(rest)):
                act(street, topic, "attach", user_id, roles, {"key": uploaded_key(street.id),
                                                              "kind": "photo" if kind == "photos" else "attachment"})
        elif kind == "consultation_record":
            act(street, topic, "consult", user_id, roles, {"agreement": "同意"})
        elif kind == "signatures":
            act(street, topic, "confirm", None, {"resident"}, {"via": "portal"})  # the resident agrees first
            act(street, topic, "sign", user_id, roles)
        elif kind == "rating":
            act(street, topic, "rate", user_id, roles,
                evaluated(topic, rating or {"level": "satisfied", "solved": True, "valid": True}))


def evaluated(topic, rating: dict) -> dict:
    """A rating as the step asks for it: by the party that decides, with every dimension scored."""
    ev = topic.step.get("evaluation") or {}
    party = {"party": ev["decides"]} if ev.get("parties") else {}
    return {**rating, **party, **{f"score_{d['key']}": 4 for d in ev.get("dimensions", [])}}


def advance(street, topic, user_id: int | None = None, roles=EVERYONE, rating=None, toward: str | None = None):
    """To the next step (or closed, at the last), its evidence supplied first; to `toward` when a
    way leads there from here (a transfer to the department's step, say)."""
    with tenant_context(street.id):
        offered = [a for a in topics.available_actions(topic, set(roles), user_id)
                   if a.kind in ("advance", "transfer", "close")]
    step = next((a for a in offered if toward and a.to == toward), None) \
        or next((a for a in offered if a.kind in ("close", "advance")), None)
    if step is None:
        raise AssertionError(f"nothing leads on from {topic.step_key} ({topic.status}) for {sorted(roles)}")
    supply(street, topic, step.missing, user_id, rating, roles)
    data = transfer_to(street, "城管中心") if step.kind == "transfer" else None
    return act(street, topic, step.kind, user_id, roles, data, to=step.to)


def department(tenant, name: str = "城管中心", kind: str = "street_office", contacts=()):
    """A department on the tenant's list, with the users who answer for it."""
    with tenant_context(tenant.id):
        dept = departments.save(tenant, None, {"name": name, "kind": kind})
        for user in contacts:
            departments.add_contact(tenant, None, dept, user.username)
    return dept


def transfer_to(street, *names: str, asked: str = "请核实现场并提出办理方案", **more) -> dict:
    """A transfer's form: the street's departments of these names (added when missing)."""
    values = []
    with tenant_context(street.id):
        for name in names:
            dept = db.scalar(select(Department).where(Department.name == name)) \
                or departments.save(street, None, {"name": name, "kind": "street_office"})
            values.append(f"{street.id}:{dept.id}")
    return {"departments": values, "asked": asked, **more}


def topic_at(street, step_key: str, user_id: int | None = None, roles=EVERYONE, **intake):
    """A topic raised in the street and moved on, step by step with each step's evidence, until
    it stands at `step_key`."""
    topic = raise_topic(street, user_id, **intake)
    for _ in range(20):
        if topic.step_key == step_key:
            return topic
        advance(street, topic, user_id, roles, toward=step_key)
    raise AssertionError(f"{step_key} is not on the way: stuck at {topic.step_key}")


# ---------------------------------------------------------------- meetings

def meeting(street, title: str = "议事会", starts_at: str = "2025-05-20 14:30", *, form: str = "on_site",
            place: str = "议事室", conveners=("召集人",), participants=(), topics=(), **fields):
    """A meeting planned in the street; `conveners` and `participants` are names or roster people."""
    def row(who, convener):
        if isinstance(who, str):
            return {"name": who, "group": "member", "convener": convener}
        return {"person_id": str(who.id), "convener": convener}

    data = {"title": title, "form": form, "starts_at": starts_at, "place": place, "topics": list(topics),
            "participants": [row(c, True) for c in conveners] + [row(p, False) for p in participants], **fields}
    with tenant_context(street.id):
        return meetings.create_meeting(street, None, data)


def work_item(street, meeting, title: str = "换灯", owner_name: str = "责任人", due_on=None, **fields):
    """An item on the meeting's work list, due today unless said otherwise."""
    with tenant_context(street.id):
        due = due_on or meetings.local_today(street)
        return meetings.add_work_item(street, None, meeting, {"title": title, "owner_name": owner_name,
                                                             "due_on": due.isoformat(), **fields})


def attend(street, meeting, people):
    """The roster people who attended; everyone else invited did not."""
    wanted = {p.id for p in people}
    with tenant_context(street.id):
        present = [str(row.id) for row in meetings.participants(meeting) if row.person_id in wanted]
        meetings.set_attendance(street, None, meeting, present, expected_version=meeting.version)


def hold(street, meeting, minutes: str = "议定事项"):
    """Minutes recorded, then the meeting marked held."""
    with tenant_context(street.id):
        meetings.add_minutes(street, None, meeting, minutes, base_revision=meetings.current_revision(meeting))
        meetings.set_status(street, None, meeting, "held", expected_version=meeting.version)


# ---------------------------------------------------------------- duty

def shift(street, station, person, day, status: str = "planned"):
    """A member on duty at the station that day, kept or missed once the day has come."""
    with tenant_context(street.id):
        duty.assign(street, None, str(station.id), [str(person.id)], [day.isoformat()])
        row = db.scalar(select(DutyShift).where(DutyShift.person_id == person.id, DutyShift.day == day))
        if status != "planned":
            duty.mark(street, None, row, status)
        return row
