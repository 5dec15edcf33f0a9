"""The generated history (demo/history.py, demo/history_store.py) follows each built-in procedure
as act() would: every event's steps and canonical phases are the procedure's, each step is left
only with the evidence it asks for and by a role that acts there, replaying a log gives its
topic's columns, intake fixes the deadlines `add_time_limit`/`procedure_deadline` give; meetings,
files and shifts are real rows. And a sample of generated logs fed through create_topic and act()
on the same clock comes out event for event, column for column, the same."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import factories
from conftest import PASSWORD
from shangliang.accounts.operations import add_membership, create_user
from shangliang.demo.history import Profile
from shangliang.demo.history_store import generate
from shangliang.core.db import db
from shangliang.core.storage import current_storage
from shangliang.core.tenancy import tenant_context
from shangliang.departments.models import Department
from shangliang.files.models import Attachment
from shangliang.meetings.models import Meeting, MeetingParticipant, MeetingTopic
from shangliang.procedures.operations import current_version, publish
from shangliang.roster.models import DutyShift, Person
from shangliang.tenants.models import Community
from shangliang.topics import log as topic_log
from shangliang.topics import operations as ops
from shangliang.topics.counts import by_step
from shangliang.topics.models import Topic, TopicCounter, TopicEvent
from support.clock import Clock
from support.databases import build_once, config, world, writes  # noqa: F401  (fixtures: the year, once per procedure)

PROCEDURES = sorted((Path(__file__).resolve().parents[1] / "tenants" / "procedures").glob("*.yaml"))
NOW = datetime(2026, 6, 17, 6, 30, tzinfo=timezone.utc)
# Branchy on purpose: every transition a procedure has should turn up in a year.
PROFILE = Profile(monthly=7, out_of_scope=0.12, transfer=0.4, escalate=0.3, satisfaction=0.6, stall=0.05, invite=0.4)


def street_with_roster(world, procedure: Path):
    """yanshan on `procedure`, with two members who log in, a secretary, a department contact,
    a station and two communities."""
    street = world.yanshan
    second = create_user("yanshan-member2", "委员乙", PASSWORD)
    with tenant_context(street.id):
        publish(street, None, procedure.read_text("utf-8"))
        add_membership(street, None, second, "member")
        # (no operation adds communities to a street that exists: the console makes them with the street)
        for i, (name, grids) in enumerate((("燕子山社区", ["1 网格", "2 网格"]), ("立功社区", ["5 网格"])), start=1):
            db.add(Community(tenant_id=street.id, name=name, grids=grids, position=i))
        for user, specialties in ((world.users["yanshan-member"], ["物业"]), (second, ["养老", "供暖"])):
            factories.person(street, "member", user.display_name, username=user.username, specialties=specialties)
        factories.person(street, "community_secretary", "周红", community="燕子山社区")
        factories.person(street, "department_contact", "郑磊", organisation="街道城管中心")
        factories.department(street, "街道城管中心")  # on the list, so a 转交 in the history names it
        factories.station(street, "燕子山议事室", "meeting_room", community="燕子山社区")
        db.commit()
    return street


@pytest.fixture(scope="module", params=PROCEDURES, ids=[p.stem for p in PROCEDURES])
def built(request, tmp_path_factory):
    """A year generated for yanshan on each procedure, once; the test that changes it gets a copy."""
    def build(world):
        street = street_with_roster(world, request.param)
        with tenant_context(street.id):
            done = generate(street, PROFILE, now=NOW)
            db.commit()
        return {"street": street, "done": done}

    return build_once(request, tmp_path_factory, build)


def missing(step: dict, visit: list, topic: Topic) -> list[str]:
    """What the step still asks for, as missing_evidence judges it (fields are never cleared, so
    the topic's final values stand for the values then)."""
    ev = step["evidence"]
    out = [f for f in ev["fields"] if not (getattr(topic, f) if f in ops.TOPIC_COLUMNS else topic.details.get(f))]
    for kind, need in (("photo", ev["photos"]), ("attachment", ev["attachments"])):
        if sum(1 for e in visit if e.action == "attach" and e.data.get("kind") == kind) < need:
            out.append(kind)
    for flag, action in (("consultation_record", "consult"), ("signatures", "sign"), ("rating", "rate")):
        if ev[flag] and not any(e.action == action for e in visit):
            out.append(flag)
    return out


def check_log(topic: Topic, log: list, steps: dict, tz: str) -> None:
    first = next(iter(steps.values()))
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[0].action == "create" and log[0].to_step == first["key"] and log[0].phase_to == "intake"
    assert all(a.at <= b.at for a, b in zip(log, log[1:])), "time never goes back"
    at, visit, rnd = first["key"], [log[0]], 1
    for e in log:
        for key, phase in ((e.from_step, e.phase_from), (e.to_step, e.phase_to)):
            assert (key is None) == (phase is None) and (key is None or steps[key]["phase"] == phase)
        rnd += e.action == "reopen"
        assert e.round == rnd
        if e.action != "create":
            step = steps[at]
            assert e.from_step in (None, at), f"#{topic.number} {e.action} leaves a step it is not at"
            assert e.actor_role in step["roles"], f"#{topic.number} {e.action} by {e.actor_role} at {at}"
            if e.action in ops.MOVING:
                assert any(t["kind"] == e.action and t.get("to", at) == e.to_step for t in step["transitions"])
            if e.action in ("advance", "close"):
                assert not missing(step, visit, topic), f"#{topic.number} left {at} without its evidence"
            if e.action == "close":
                assert step["phase"] == "closure"
            if e.action == "reopen":
                assert not ops.last_rating(visit)["satisfied"]
        if e.to_step is not None:
            at, visit = e.to_step, [e]
        else:
            visit.append(e)
    recorded = {f for e in log if e.action == "record" for f in e.data["fields"]}
    moved_with = ({"department"} if any(e.action == "transfer" for e in log) else set()) | \
        ({"reason"} if any(e.action == "close_out_of_scope" for e in log) else set())
    assert set(topic.details) <= recorded | moved_with, "a detail nobody recorded"
    state = ops.replay(log)
    assert state == {"step_key": topic.step_key, "round": topic.round, "status": topic.status,
                     "escalated": topic.escalated}
    assert topic.updated_at == log[-1].at
    assert topic.response_due_at == ops.add_time_limit(topic.created_at, first.get("time_limit"), tz)
    assert topic.deadline_at == ops.procedure_deadline(list(steps.values()), topic.created_at, tz)
    moved = [e for e in log if e.to_step is not None][-1]
    assert topic.step_entered_at == moved.at
    if topic.status == "open":
        assert topic.due_at == ops.add_time_limit(moved.at, steps[topic.step_key].get("time_limit"), tz)
        assert topic.overdue == (topic.due_at is not None and topic.due_at < NOW)
    else:
        assert topic.due_at is None and topic.closed_as == ("out_of_scope" if log[-1].action == "close_out_of_scope"
                                                            else "done")


def test_generated_topics_follow_the_procedure_and_replay_to_their_state(app, world, built, writes):
    with app.app_context():
        street, done = built.data["street"], built.data["done"]
        with tenant_context(street.id):
            version = current_version(street)
            steps = {s["key"]: s for s in version.steps}
            topics = list(db.scalars(select(Topic).order_by(Topic.number)))
            assert done["topics"] == len(topics) > 60 and [t.number for t in topics] == list(range(1, len(topics) + 1))
            assert db.get(TopicCounter, street.id).last == len(topics)  # the next intake takes the next number
            # the board's counts, made from the inserted rows
            assert by_step("all") == dict(Counter(t.step_key for t in topics))
            assert by_step("closed") == dict(Counter(t.step_key for t in topics if t.status == "closed"))
            assert by_step("overdue") == dict(Counter(t.step_key for t in topics if t.status == "open" and t.overdue))
            assert topics[0].created_at.astimezone(ZoneInfo(street.timezone)).date().isoformat() >= "2025-06-01"
            actions = set()
            for topic in topics:
                log = ops.events(topic)
                check_log(topic, log, steps, street.timezone)
                actions |= {e.action for e in log}
            # Every way the procedure has out of a step turns up in the year.
            kinds = {t["kind"] for s in version.steps for t in s["transitions"]}
            assert kinds | {"create", "close", "claim", "invite", "record"} <= actions
            assert {"open", "closed"} == {t.status for t in topics}
            check_side_rows(street, topics)
            still = next(t for t in topics if t.status == "open")  # a generated topic is worked like any other
            ops.act(street, world.users["yanshan-admin"].id, {"street_admin"}, still, "comment",
                    expected_version=still.version, comment="继续跟进")
            db.commit()
            assert generate(street, PROFILE, now=NOW + timedelta(days=1)) is None  # once per street
            assert db.scalar(select(func.count()).select_from(Topic)) == len(topics)


def check_side_rows(street, topics) -> None:
    """Evidence files, meetings and shifts are what the pages and the rollups read."""
    store = current_storage()
    for e in db.scalars(select(TopicEvent).where(TopicEvent.action == "attach")):
        att = db.scalar(select(Attachment).where(Attachment.id == uuid.UUID(e.data["attachment_id"])))
        assert att.status == "ready" and att.owner_id == e.topic_id and att.key == e.data["key"]
        assert store.exists(att.key) and (att.kind != "photo") == (e.data["kind"] == "attachment")
    consults = list(db.scalars(select(TopicEvent).where(TopicEvent.action == "consult")))
    assert consults
    for e in consults:
        meeting = db.scalar(select(Meeting).where(Meeting.id == uuid.UUID(e.data["meeting_id"])))
        assert meeting.status == "held" and meeting.starts_at < e.at and f"#{meeting.number}" in e.comment
        linked = db.get(MeetingTopic, {"tenant_id": street.id, "meeting_id": meeting.id, "topic_id": e.topic_id})
        assert linked.recorded_at == e.at and linked.agreement == e.data["agreement"]
    for meeting in db.scalars(select(Meeting)):
        people = list(db.scalars(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)))
        assert 1 <= sum(p.convener for p in people) <= 2 and any(p.attended for p in people)
    monday = NOW.astimezone(ZoneInfo(street.timezone)).date()
    monday -= timedelta(days=monday.weekday())
    shifts = list(db.scalars(select(DutyShift)))
    members = set(db.scalars(select(Person.id).where(Person.kind == "member")))
    assert shifts and {s.status for s in shifts} == {"kept", "missed"}
    assert all(s.day < monday and s.person_id in members for s in shifts)


def test_generated_logs_are_what_act_would_log(app, world, built, monkeypatch):
    """(What act() logs is flushed, never committed: the generated year stays as it was.)"""
    clock = Clock(NOW)
    monkeypatch.setattr(topic_log, "utcnow", clock)
    with app.app_context():
        street = built.data["street"]
        with tenant_context(street.id):
            admin = world.users["yanshan-admin"].id
            roles = {admin: {"street_admin"}, None: {"resident"}}
            roles |= {p.user_id: {"member"} for p in db.scalars(select(Person).where(Person.user_id.is_not(None)))}
            sample = varied(list(db.scalars(select(Topic).order_by(Topic.number))))
            for topic in sample:
                log = ops.events(topic)
                again = through_act(street, topic, log, clock, roles)
                assert [shape(e) for e in ops.events(again)] == [shape(e) for e in log], f"#{topic.number}"
                # (Not the version: a lock that act() bumps once per flush, so once or twice an action.)
                for col in ("step_key", "round", "status", "closed_as", "escalated", "step_entered_at", "due_at",
                            "response_due_at", "deadline_at", "details", "category", "community",
                            "grid", "place", "channel", "urgency"):
                    assert getattr(again, col) == getattr(topic, col), f"#{topic.number} {col}"


def shape(e) -> tuple:
    return (e.seq, e.action, e.from_step, e.to_step, e.phase_from, e.phase_to, e.round, e.actor_id, e.actor_role,
            e.at, e.comment, e.data)


def varied(topics: list[Topic], n: int = 10) -> list[Topic]:
    """Topics covering every kind of action the year holds, then the longest logs."""
    logs = {t.id: [e.action for e in ops.events(t)] for t in topics}
    out, seen = [], set()
    for t in sorted(topics, key=lambda t: -len(set(logs[t.id]))):
        if set(logs[t.id]) - seen or (t.status == "open" and not any(x.status == "open" for x in out)):
            out.append(t)
            seen |= set(logs[t.id])
    return (out + [t for t in sorted(topics, key=lambda t: -len(logs[t.id])) if t not in out])[:max(n, len(out))]


def through_act(street, topic: Topic, log: list, clock, roles) -> Topic:
    """The same story told to create_topic and act(), one event at a time, at its time."""
    recorded = {f for e in log if e.action == "record" for f in e.data["fields"]}
    intake = {c: getattr(topic, c) for c in ("title", "description", "channel", "category", "urgency", "community",
                                             "grid", "place", "resident_name", "resident_phone")
              if c not in recorded}
    clock.now = log[0].at
    new = ops.create_topic(street, log[0].actor_id, intake, actor_role=log[0].actor_role)
    steps = {s["key"]: s for s in new.procedure.steps}
    for e in log[1:]:
        clock.now = e.at
        to = None
        if e.action in ops.MOVING:  # the transition's own target, when it names one
            named = any(t["kind"] == e.action and t.get("to") == e.to_step for t in steps[new.step_key]["transitions"])
            to = e.to_step if named else None
        ops.act(street, e.actor_id, roles[e.actor_id], new, e.action, expected_version=new.version, to=to,
                comment=e.comment, data=act_input(e, topic))
    db.flush()
    return new


def act_input(e, topic: Topic) -> dict:
    """What a form or the API would send for this event."""
    if e.action == "record":
        return {f: getattr(topic, f) if f in ops.TOPIC_COLUMNS else topic.details[f] for f in e.data["fields"]}
    if e.action == "attach":
        return {"attachment_id": e.data["attachment_id"], "kind": e.data["kind"]}
    if e.action == "transfer":  # the form names the department by its row, the log by its name
        with tenant_context(topic.tenant_id):
            dept = db.scalar(select(Department).where(Department.name == e.data["departments"][0]))
        return {"departments": [f"{dept.tenant_id}:{dept.id}"], "asked": e.data["asked"]}
    if e.action == "rate":  # a dimension's score is a field of its own; whether it decides, and the
        # party's standing, are the step's
        return {**{k: v for k, v in e.data.items() if k not in ("decides", "standing", "scores", "score_points")},
                **{f"score_{k}": v for k, v in e.data.get("scores", {}).items()}}
    if e.action in ("consult", "sign", "invite", "close_out_of_scope"):
        return dict(e.data)
    if e.action == "escalate":
        return {"reason": e.data["reason"]}
    return {}
