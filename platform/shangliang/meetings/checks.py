"""Checking what is submitted for a meeting: its fields, its participants (4+X) and its topics,
every problem reported at once (MeetingInvalid), each naming its field."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.db import db
from ..core.errors import Invalid
from ..roster.models import Person, Station
from ..tenants.models import Tenant
from ..topics.models import Topic
from .models import FORMS, GROUPS

# Roster kind → 4+X group. 楼院长 speak for their building's residents.
KIND_GROUP = {"member": "member", "community_secretary": "cadre", "grid_worker": "cadre",
              "department_contact": "department", "resident_rep": "resident", "building_head": "resident",
              "partner": "stakeholder"}
PLACE_NEEDED = ("on_site", "meeting_room")  # written and online consultations happen nowhere in particular
MAX_CONVENERS = 2  # 双召集人
MAX_PARTICIPANTS = 200


class MeetingInvalid(Invalid):
    """Every problem of a submitted meeting at once: field → message (a Chinese source string);
    the first is the refusal's own message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors, next(iter(errors.values())))


def text_field(data: dict, name: str, limit: int, errors: dict, required: str | None = None) -> str:
    """`data[name]` as text of at most `limit` characters; what is wrong with it goes into `errors`."""
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = required
    elif len(value) > limit:
        errors[name] = f"最多 {limit} 个字符"
    return value[:limit]


def parse_starts_at(value, tz: str) -> datetime:
    """A local date and time in the tenant's zone (as a datetime-local field sends it), or an
    aware ISO 8601 time; stored in UTC."""
    if isinstance(value, datetime):
        at = value
    else:
        at = datetime.fromisoformat(str(value).strip())
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    return at.astimezone(timezone.utc)


def parse_due(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def validate_meeting(tenant: Tenant, data: dict) -> dict:
    """Clean meeting fields, participants and topics, or MeetingInvalid with every problem.

    `participants`: [{person_id} | {name, group}, with `convener`]; a person from the roster
    takes their name and group from it. `topics`: topic numbers of this street."""
    errors: dict[str, str] = {}
    out = {"title": text_field(data, "title", 120, errors, "请填写议事会的名称"),
           "place": text_field(data, "place", 200, errors), "agenda": text_field(data, "agenda", 5000, errors)}
    out["form"] = data.get("form") or ""
    if out["form"] not in FORMS:
        errors["form"] = "请选择议事形式"
    try:
        out["starts_at"] = parse_starts_at(data.get("starts_at"), tenant.timezone)
    except (TypeError, ValueError):
        errors["starts_at"] = "请填写开会的日期和时间，例如 2025-05-20 14:30"
    out["station_id"] = None
    if data.get("station_id"):
        sid = as_uuid(data["station_id"])
        station = db.get(Station, {"tenant_id": tenant.id, "id": sid}) if sid else None
        if station is None:
            errors["station_id"] = "没有这个站点"
        else:
            out["station_id"] = station.id
            out["place"] = out["place"] or station.name
    if out["form"] in PLACE_NEEDED and not out["place"] and "place" not in errors:
        errors["place"] = "现场或议事室会议请填写地点或选择站点"
    out["participants"] = _participants(tenant, data.get("participants") or [], errors)
    out["topic_ids"] = _topic_ids(data.get("topics") or [], errors)
    if errors:
        raise MeetingInvalid(errors)
    return out


def _participants(tenant: Tenant, rows: list, errors: dict) -> list[dict]:
    ids = {as_uuid(r.get("person_id")) for r in rows if r.get("person_id")}
    people = {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    out, seen = [], set()
    for r in rows:
        if r.get("person_id"):
            person = people.get(as_uuid(r["person_id"]))
            if person is None:
                errors["participants"] = "名册中没有这个人"
                continue
            entry = {"person_id": person.id, "name": person.name[:60],
                     "group": r.get("group") or KIND_GROUP.get(person.kind, "stakeholder")}
        else:
            name = str(r.get("name") or "").strip()
            if not name:
                continue
            if len(name) > 60:
                errors["participants"] = "姓名最多 60 个字符"
                continue
            entry = {"person_id": None, "name": name, "group": r.get("group") or "stakeholder"}
        if entry["group"] not in GROUPS:
            errors["participants"] = "参会人员的分组须为委员、干部、部门、居民代表或利益相关方"
            continue
        key = entry["person_id"] or ("name", entry["name"])
        if key in seen:  # picked twice (e.g. convener and participant): one row, convener wins
            if r.get("convener"):
                next(e for e in out if (e["person_id"] or ("name", e["name"])) == key)["convener"] = True
            continue
        seen.add(key)
        entry["convener"] = bool(r.get("convener"))
        out.append(entry)
    count = sum(e["convener"] for e in out)
    if count == 0:
        errors["conveners"] = "请指定召集人（一名，或双召集人两名）"
    elif count > MAX_CONVENERS:
        errors["conveners"] = "召集人最多两名（双召集人），请减少召集人"
    if len(out) > MAX_PARTICIPANTS:
        errors["participants"] = "参会人员最多 200 人"
    return out


def _topic_ids(numbers: list, errors: dict) -> list[uuid.UUID]:
    try:
        wanted = sorted({int(n) for n in numbers})
    except (TypeError, ValueError):
        errors["topics"] = "议题编号须为数字"
        return []
    if not wanted:
        return []
    found = dict(db.execute(select(Topic.number, Topic.id).where(Topic.number.in_(wanted))).all())
    if set(wanted) - set(found):
        errors["topics"] = "本街道没有这个议题"
    return [found[n] for n in wanted if n in found]
