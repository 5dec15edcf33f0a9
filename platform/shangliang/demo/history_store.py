"""Writing a street's generated year (history.py): its topics and their logs, the meetings that
consulted them (participants, minutes, work list), duty shifts kept and missed every week, and the
photos and documents its `attach` events show. Bulk inserts inside the street's scope; once per
street (the audit log says whether it was done).

`plan_meetings` and `plan_shifts` are pure, like history.py, so bench/benchmarks.py reuses them."""
from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from ..accounts.models import Membership
from ..audit.models import AuditLog
from ..audit.operations import record
from ..core.db import db, utcnow
from ..core.storage import current_storage
from ..files.operations import file_key, thumb_key
from ..files.models import Attachment
from ..meetings.models import Meeting, MeetingMinutes, MeetingParticipant, MeetingTopic, WorkItem
from ..meetings.operations import KIND_GROUP
from ..procedures.operations import current_version
from ..roster.duty import monday_of
from ..roster.models import DutyShift, Person, Station
from ..tenants.models import Community, Tenant
from ..topics.counts import recount
from ..topics.models import Topic, TopicCounter, TopicEvent, Transfer
from . import history
from .departments import history_transfers, listed_names
from .history import Cast, Member, Profile, Street

AUDIT_ACTION = "benchmarks.history"
BATCH = 2000


@dataclass(frozen=True)
class RosterPerson:
    id: object
    name: str
    kind: str
    community: str | None


# ---------------------------------------------------------------- the whole street

def has_history() -> bool:
    return db.scalar(select(AuditLog.id).where(AuditLog.action == AUDIT_ACTION).limit(1)) is not None


def generate(street: Tenant, profile: Profile, *, seed: str | None = None, now: datetime | None = None) -> dict | None:
    """A year of history up to `now` for the street (inside its scope). None if it already has
    one or has no published procedure."""
    version = current_version(street)
    if version is None or has_history():
        return None
    now, rnd = now or utcnow(), random.Random(f"history:{seed or street.slug}")
    cast, people = _cast(street), _people()
    files = EvidenceFiles(street.id, rnd)
    s = Street(street.id, street.timezone, version.id, version.steps, cast, profile, files)
    counter = db.get(TopicCounter, street.id)
    first = (counter.last if counter else 0) + 1
    topics, events = [], []
    for topic, log in history.year(s, rnd, first, now):
        topics.append(topic)
        events += log
    number = (db.scalar(select(func.max(Meeting.number))) or 0) + 1
    meetings = plan_meetings(street.id, street.timezone, topics, events, people, _stations(), profile, rnd,
                             cast.admin_id, number, now)
    shifts = plan_shifts(street.id, street.timezone, _rota(), [p for p in people if p.kind == "member"],
                         history.window(now, street.timezone), now, profile, rnd, _stations())
    _publish(topics, now)
    _insert(Topic, topics)
    _insert(TopicEvent, events)
    _insert(Transfer, history_transfers(street, version.steps, events, rnd, now))
    _insert(Attachment, files.rows)
    for model, rows in ((Meeting, meetings["meetings"]), (MeetingParticipant, meetings["participants"]),
                        (MeetingMinutes, meetings["minutes"]), (MeetingTopic, meetings["topics"]),
                        (WorkItem, meetings["work"]), (DutyShift, shifts)):
        _insert(model, rows)
    if topics:
        recount(street.id)  # inserted around act(): the board's counts are made from the rows
        if counter is None:
            db.add(TopicCounter(tenant_id=street.id, last=first + len(topics) - 1))
        else:
            counter.last = first + len(topics) - 1
    done = {"topics": len(topics), "events": len(events), "open": sum(t["status"] == "open" for t in topics),
            "meetings": len(meetings["meetings"]), "shifts": len(shifts), "files": len(files.rows)}
    record(street.id, None, AUDIT_ACTION, None, done)
    db.flush()
    return done


def _publish(topics: list[dict], now: datetime) -> None:
    """办理公示 as staff reviewed it: concluded topics published a day after closing, the last
    week's still waiting for review."""
    for t in topics:
        done = t["status"] == "closed" and t["closed_as"] == "done" and t["updated_at"] < now - timedelta(days=7)
        t["published_at"], t["publication"] = (t["updated_at"] + timedelta(days=1) if done else None), None


def _insert(model, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.execute(model.__table__.insert(), rows[i:i + BATCH])


# ---------------------------------------------------------------- who and where

def _cast(street: Tenant) -> Cast:
    admin = db.scalar(select(Membership.user_id).where(Membership.role == "street_admin")
                      .order_by(Membership.user_id).limit(1))
    members = [Member(p.user_id, p.id, tuple(p.specialties or ())) for p in db.scalars(
        select(Person).join(Membership, (Membership.tenant_id == Person.tenant_id)
                            & (Membership.user_id == Person.user_id) & (Membership.role == "member"))
        .where(Person.kind == "member", Person.active.is_(True)).order_by(Person.name))]
    communities = [(c.name, list(c.grids or [])) for c in db.scalars(select(Community).order_by(Community.position))]
    if not communities:  # none listed: the communities its roster names, or the street itself
        named = db.scalars(select(Person.community).where(Person.community.is_not(None)).distinct()
                           .order_by(Person.community))
        communities = [(n, []) for n in named] or [(street.name, [])]
    departments = sorted(set(db.scalars(select(Person.organisation).where(
        Person.kind == "department_contact", Person.organisation.is_not(None)))) | listed_names(street))
    return Cast(admin, members, communities, departments)


def _people() -> list[RosterPerson]:
    return [RosterPerson(p.id, p.name, p.kind, p.community)
            for p in db.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name))]


def _stations() -> list[tuple]:
    return [(s.id, s.name, s.kind, s.community) for s in db.scalars(
        select(Station).where(Station.active.is_(True)).order_by(Station.name))]


def _rota() -> list[tuple]:
    """The rota as it stands (station, weekday, person), repeated back over the year."""
    return sorted({(d.station_id, d.day.weekday(), d.person_id) for d in db.scalars(select(DutyShift))})


# ---------------------------------------------------------------- evidence files

def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    w, h = size
    for i in range(6):  # a few shapes, so that it looks like a picture of something
        x, y = w * i // 6, h // 3 + (i % 3) * h // 9
        draw.rectangle((x, y, x + w // 8, y + h // 3), fill=tuple((c + 40 * i) % 256 for c in colour))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


class EvidenceFiles:
    """The files of `attach` events. A street gets a few real objects (stored through the storage
    API as a passed check leaves them: the file, and a thumbnail for photos); each event gets an
    attachment row of its own topic sharing those bytes (`same_as`), so that galleries, signed
    links, quotas (each object counted once) and the storage check find what they expect."""

    PHOTOS = (("现场照片.jpg", (176, 196, 222)), ("公示照片.jpg", (222, 196, 160)), ("办理前后.jpg", (170, 210, 170)))
    DOCUMENTS = (("调研材料.pdf",),)

    def __init__(self, tenant_id: int, rnd):
        self.tenant_id, self.rnd = tenant_id, rnd
        self.rows: list[dict] = []
        self.originals: dict[str, list[dict]] = {}

    def __call__(self, kind: str, topic_id, actor_id, at: datetime) -> dict:
        specs = self.PHOTOS if kind == "photo" else self.DOCUMENTS
        pool = self.originals.setdefault(kind, [])
        if len(pool) < len(specs) and (not pool or self.rnd.random() < 0.2):
            row = self._original(kind, specs[len(pool)], topic_id, actor_id, at)  # this event's own file
            pool.append(row)
        else:
            twin = self.rnd.choice(pool)
            row = {**twin, "id": history.uuid7(at, self.rnd), "owner_id": topic_id, "same_as": twin["id"],
                   "created_by": actor_id, "created_at": at, "checked_at": at + timedelta(minutes=1)}
        self.rows.append(row)
        return {"kind": kind, "key": row["key"], "attachment_id": str(row["id"]), "name": row["filename"]}

    def _original(self, kind: str, spec: tuple, topic_id, actor_id, at: datetime) -> dict:
        store = current_storage()
        att = SimpleNamespace(tenant_id=self.tenant_id, id=history.uuid7(at, self.rnd))
        if kind == "photo":
            body, thumb = _jpeg((800, 600), spec[1]), _jpeg((320, 240), spec[1])
            key, tkey = file_key(att, "jpg"), thumb_key(att)
            store.put(key, body, "image/jpeg")
            store.put(tkey, thumb, "image/jpeg")
            extra = {"kind": "photo", "content_type": "image/jpeg", "size": len(body) + len(thumb),
                     "width": 800, "height": 600, "thumb_key": tkey}
        else:
            body, key = PDF, file_key(att, "pdf")
            store.put(key, body, "application/pdf")
            extra = {"kind": "document", "content_type": "application/pdf", "size": len(body), "width": None,
                     "height": None, "thumb_key": None}
        return {"tenant_id": self.tenant_id, "id": att.id, "owner_kind": "topic", "owner_id": topic_id, "key": key,
                "filename": spec[0], "declared_size": len(body), "status": "ready",
                "sha256": hashlib.sha256(body).hexdigest(), "taken_at": None, "web_key": None, "same_as": None,
                "error": None, "created_by": actor_id, "created_at": at, "checked_at": at + timedelta(minutes=1),
                **extra}


# ---------------------------------------------------------------- meetings

def plan_meetings(tenant_id: int, tz: str, topics: list[dict], events: list[dict], people: list[RosterPerson],
                  stations: list[tuple], profile: Profile, rnd, admin_id, first_number: int, now: datetime) -> dict:
    """The meetings behind the `consult` events: a community's weekly meeting took up the topics
    whose consultations were logged after it (history.CONSULT_AFTER), so a meeting records once
    per topic. Each has conveners, roster participants (some absent) and stakeholders, minutes,
    what was agreed on each topic and a work item for it. Each consult event is patched with its
    meeting, as `meetings.operations.record_consultation` logs it."""
    zone = ZoneInfo(tz)
    by_id = {t["id"]: t for t in topics}
    slots: dict[tuple, list[dict]] = {}
    for ev in events:
        if ev["action"] == "consult":
            starts = ev["at"] - history.CONSULT_AFTER
            slots.setdefault((starts, by_id[ev["topic_id"]]["community"] or ""), []).append(ev)
    out = {"meetings": [], "participants": [], "minutes": [], "topics": [], "work": []}
    for number, (key, consults) in enumerate(sorted(slots.items()), start=first_number):
        _meeting(out, tenant_id, zone, number, key[0], consults, by_id, people, stations, profile, rnd, admin_id, now)
    return out


def _meeting(out, tenant_id, zone, number, starts, consults, by_id, people, stations, profile, rnd, admin_id, now):
    subjects = [by_id[e["topic_id"]] for e in consults]
    community = subjects[0]["community"]
    station = _station_for(stations, community, rnd)
    form = rnd.choices(("meeting_room", "on_site", "online", "written"), (6, 3, 1, 0.5))[0]
    if station is None and form in ("meeting_room", "on_site"):
        form = "on_site"
    title = (f"关于“{subjects[0]['title']}”的协商议事会" if len(subjects) == 1
             else f"{community or ''}协商议事会（{starts.astimezone(zone):%Y年%m月%d日}）")[:120]
    mid = history.uuid7(starts, rnd)
    place = "" if station or form not in ("meeting_room", "on_site") else f"{community or ''}现场"
    out["meetings"].append({
        "tenant_id": tenant_id, "id": mid, "number": number, "title": title, "form": form, "starts_at": starts,
        "place": place, "station_id": station[0] if station and form in ("meeting_room", "on_site") else None,
        "agenda": "\n".join(f"议题：{t['title']}" for t in subjects), "status": "held", "created_by": admin_id,
        "created_at": starts - timedelta(days=3), "updated_at": min(starts + timedelta(hours=1), now), "version": 3})
    conveners = _participants(out, tenant_id, mid, starts, community, people, profile, rnd)
    agreed = "\n".join(f"{i}. {t['title']}：{e['data']['agreement']}" for i, (t, e) in
                       enumerate(zip(subjects, consults), start=1))
    out["minutes"].append({"tenant_id": tenant_id, "id": history.uuid7(starts, rnd), "meeting_id": mid, "revision": 1,
                           "text": f"召集人：{'、'.join(p.name for p in conveners) or '街道政协工委'}。\n经充分协商，议定：\n{agreed}",
                           "note": "会后整理", "created_by": admin_id,
                           "created_at": min(starts + timedelta(hours=1), now)})
    for topic, ev in zip(subjects, consults):
        ev["data"] = {**ev["data"], "meeting_id": str(mid)}
        ev["comment"] = f"议事会 #{number} {title}"[:2000]
        out["topics"].append({"tenant_id": tenant_id, "meeting_id": mid, "topic_id": topic["id"],
                              "agreement": ev["data"]["agreement"], "recorded_at": ev["at"]})
        _work_item(out, tenant_id, mid, topic, conveners, starts, rnd, now)


def _station_for(stations, community, rnd):
    if not stations:
        return None
    rooms = [s for s in stations if s[3] == community] or [s for s in stations if s[2] == "meeting_room"] or stations
    return rnd.choice(rooms)


def _participants(out, tenant_id, meeting_id, starts, community, people, profile, rnd) -> list[RosterPerson]:
    """One or two conveners (双召集人: the community's secretary and a member), members,
    a department and residents from the roster, and two people not on it (4+X)."""
    kinds: dict[str, list[RosterPerson]] = {}
    for p in people:
        kinds.setdefault(p.kind, []).append(p)
    members = kinds.get("member", [])
    secretaries = [p for p in kinds.get("community_secretary", []) if p.community in (community, None)]
    conveners = ([rnd.choice(secretaries)] if secretaries else []) + \
        ([rnd.choice(members)] if members and (not secretaries or rnd.random() < 0.5) else [])
    others = [p for p in members if p not in conveners]
    invited = rnd.sample(others, min(len(others), rnd.randint(1, 3)))
    for kind in ("department_contact", "resident_rep", "building_head", "grid_worker", "partner"):
        if kinds.get(kind) and rnd.random() < 0.6:
            invited.append(rnd.choice(kinds[kind]))
    for p in conveners + invited:
        out["participants"].append({
            "tenant_id": tenant_id, "id": history.uuid7(starts, rnd), "meeting_id": meeting_id,
            "person_id": p.id, "name": p.name, "group": KIND_GROUP.get(p.kind, "stakeholder"),
            "convener": p in conveners, "attended": p in conveners or rnd.random() < profile.attendance})
    for name, group in (("物业服务中心代表", "stakeholder"), (f"居民代表 {rnd.choice(history.SURNAMES)}先生", "resident")):
        out["participants"].append({"tenant_id": tenant_id, "id": history.uuid7(starts, rnd),
                                    "meeting_id": meeting_id, "person_id": None, "name": name, "group": group,
                                    "convener": False, "attended": True})
    return conveners


def _work_item(out, tenant_id, meeting_id, topic, conveners, starts, rnd, now):
    due = starts.date() + timedelta(days=14)
    done_at = starts + timedelta(days=rnd.randint(3, 20))
    finished = done_at <= now and (topic["status"] == "closed" or rnd.random() < 0.8)
    owner = conveners[0] if conveners else None
    out["work"].append({
        "tenant_id": tenant_id, "id": history.uuid7(starts, rnd), "meeting_id": meeting_id, "topic_id": topic["id"],
        "title": f"落实：{topic['title']}"[:200], "owner_person_id": owner.id if owner else None,
        "owner_name": owner.name if owner else "社区", "due_on": due, "status": "done" if finished else "in_progress",
        "note": "", "done_at": done_at if finished else None, "created_at": min(starts + timedelta(hours=1), now),
        "updated_at": done_at if finished else min(starts + timedelta(hours=1), now)})


# ---------------------------------------------------------------- duty shifts

def plan_shifts(tenant_id: int, tz: str, rota: list[tuple], members: list[RosterPerson], start: datetime,
                now: datetime, profile: Profile, rnd, stations: list | None = None) -> list[dict]:
    """Every week from `start` up to this week (whose shifts the rota already has): the street's
    rota (station, weekday, person) kept or missed, now and then taken over by another member
    (`swapped_from`). A street with no rota yet gets one drawn from its stations and members."""
    zone = ZoneInfo(tz)
    if not rota and stations and members:
        rota = [(s[0], d, rnd.choice(members).id) for s in stations[:3] for d in sorted(rnd.sample(range(5), 2))]
    this_monday = monday_of(now.astimezone(zone).date())
    monday = monday_of(start.astimezone(zone).date())
    out, ids = [], [m.id for m in members]
    while monday < this_monday:
        taken: set[tuple] = set()
        for station_id, weekday, person_id in rota:
            day = monday + timedelta(days=weekday)
            if day < start.astimezone(zone).date():
                continue
            person, swapped = person_id, None
            if len(ids) > 1 and rnd.random() < 0.05:
                person, swapped = rnd.choice([i for i in ids if i != person_id]), person_id
            if (day, person) in taken:
                person, swapped = person_id, None
            if (day, person) in taken:
                continue
            taken.add((day, person))
            kept = rnd.random() < profile.duty_kept
            out.append({"tenant_id": tenant_id, "id": history.uuid7(_evening(day, zone), rnd), "station_id": station_id,
                        "day": day, "person_id": person, "status": "kept" if kept else "missed",
                        "swapped_from": swapped, "note": "" if kept else "未到岗，已电话提醒", "reminded_at": None,
                        "updated_at": _evening(day, zone)})
        monday += timedelta(days=7)
    return out


def _evening(day: date, zone) -> datetime:
    return datetime.combine(day, time(18, 0), zone).astimezone(timezone.utc)
