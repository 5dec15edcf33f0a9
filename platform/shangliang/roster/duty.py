"""The duty rota (轮值): members on duty at a station on a day, a week at a time.

Days are calendar days in the street's time zone: "today" and "tomorrow" are the street's, not
the server's, so a reminder sent at 23:30 UTC is still the day before in Asia/Shanghai.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from ..core.errors import Refused
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..notifications.operations import notify
from ..tenants.models import Tenant
from .models import SHIFT_STATUSES, DutyShift, Person, Station
from .operations import find_station, people_by_ids

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
STATUS_LABELS = {"planned": "待到岗", "kept": "已到岗", "missed": "缺岗"}
MAX_DAYS = 31  # one assignment covers at most a month


def local_today(tenant: Tenant) -> date:
    return datetime.now(ZoneInfo(tenant.timezone or "Asia/Shanghai")).date()


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None, today: date) -> date:
    """`2025-W07` → the Monday of that ISO week; anything else → this week's Monday."""
    try:
        year, week = (value or "").upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return monday_of(today)


def week_param(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_day(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- reading the rota

def _rows(*where):
    """Shifts with their person and station, in one query."""
    return db.execute(
        select(DutyShift, Person, Station)
        .join(Person, and_(Person.tenant_id == DutyShift.tenant_id, Person.id == DutyShift.person_id))
        .join(Station, and_(Station.tenant_id == DutyShift.tenant_id, Station.id == DutyShift.station_id))
        .where(*where).order_by(DutyShift.day, Station.name, Person.name)).all()


def shifts_between(start: date, end: date) -> list[tuple[DutyShift, Person, Station]]:
    return _rows(DutyShift.day >= start, DutyShift.day <= end)


def on_duty(tenant: Tenant, day: date | None = None) -> list[tuple[DutyShift, Person, Station]]:
    """Who is on duty on `day` (the street's today by default), at which station."""
    return _rows(DutyShift.day == (day or local_today(tenant)), DutyShift.status != "missed")


def on_duty_days(start: date, end: date, person_ids=None) -> dict[uuid.UUID, set[date]]:
    """person id → the days between `start` and `end` they are on duty (missed shifts left out)."""
    stmt = select(DutyShift.person_id, DutyShift.day).where(DutyShift.day >= start, DutyShift.day <= end,
                                                            DutyShift.status != "missed")
    if person_ids is not None:
        stmt = stmt.where(DutyShift.person_id.in_(list(person_ids)))
    out: dict[uuid.UUID, set[date]] = {}
    for pid, day in db.execute(stmt):
        out.setdefault(pid, set()).add(day)
    return out


@dataclass
class Week:
    monday: date
    today: date
    stations: list[Station]
    cells: dict[tuple[uuid.UUID, date], list[tuple[DutyShift, Person]]] = field(default_factory=dict)
    shifts: list[tuple[DutyShift, Person, Station]] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    @property
    def param(self) -> str:
        return week_param(self.monday)

    @property
    def previous(self) -> str:
        return week_param(self.monday - timedelta(days=7))

    @property
    def next(self) -> str:
        return week_param(self.monday + timedelta(days=7))


def week(tenant: Tenant, monday: date) -> Week:
    """The calendar of one week: every active station (and any inactive one with shifts) × 7 days."""
    rows = shifts_between(monday, monday + timedelta(days=6))
    used = {st.id: st for _s, _p, st in rows}
    listed = [st for st in db.scalars(select(Station).order_by(Station.kind, Station.name))
              if st.active or st.id in used]
    out = Week(monday=monday, today=local_today(tenant), stations=listed, shifts=rows)
    for shift, person, station in rows:
        out.cells.setdefault((station.id, shift.day), []).append((shift, person))
    return out


def find_shift(shift_id) -> DutyShift | None:
    shift_id = _uuid(shift_id)
    return db.scalar(select(DutyShift).where(DutyShift.id == shift_id)) if shift_id else None


# ---------------------------------------------------------------- changing the rota

def _members(person_ids) -> list[Person]:
    ids = [i for i in (_uuid(p) for p in person_ids or ()) if i]
    found = people_by_ids(ids)
    people = [found[i] for i in dict.fromkeys(ids) if i in found]
    if not people or any(p.kind != "member" or not p.active for p in people):
        raise Refused("请选择在册的政协委员", "person_ids", "validation_error")
    return people


def assign(tenant: Tenant, actor_id: int | None, station_id, person_ids, days) -> tuple[int, int]:
    """Put members on duty at a station on some days. Returns (added, skipped): a member already
    on duty somewhere that day is skipped, so a week can be filled in again without doubling."""
    station = find_station(_uuid(station_id)) if _uuid(station_id) else None
    if station is None or not station.active:
        raise Refused("请选择站点", "station_id", "validation_error")
    wanted = sorted({d for d in (parse_day(v) for v in days or ()) if d})
    if not wanted:
        raise Refused("请选择轮值日期", "days", "validation_error")
    if (wanted[-1] - wanted[0]).days >= MAX_DAYS:
        raise Refused("一次最多安排 31 天", "days", "validation_error")
    people = _members(person_ids)
    busy = {(pid, d) for pid, d in db.execute(select(DutyShift.person_id, DutyShift.day).where(
        DutyShift.day >= wanted[0], DutyShift.day <= wanted[-1], DutyShift.person_id.in_([p.id for p in people])))}
    added = 0
    for day in wanted:
        for person in people:
            if (person.id, day) in busy:
                continue
            db.add(DutyShift(tenant_id=tenant.id, station_id=station.id, day=day, person_id=person.id))
            added += 1
    skipped = len(wanted) * len(people) - added
    if added:
        record(tenant.id, actor_id, "duty.assign", str(station.id),
               {"days": [d.isoformat() for d in wanted], "people": [str(p.id) for p in people], "added": added})
        db.flush()
    return added, skipped


def _planned(shift: DutyShift) -> None:
    if shift.status != "planned":
        raise Refused("已记录到岗情况的班次不能再调整", "shift_id", "conflict")


def _free(person_id: uuid.UUID, day: date, station_id: uuid.UUID, but: set[uuid.UUID]) -> bool:
    return db.scalar(select(DutyShift.id).where(DutyShift.person_id == person_id, DutyShift.day == day,
                                                DutyShift.station_id == station_id, DutyShift.id.not_in(but))
                     .limit(1)) is None


def _tell(tenant: Tenant, person: Person, shift: DutyShift, station_name: str) -> None:
    if person.user_id:
        notify(tenant.id, person.user_id, "duty.changed",
               f"轮值调整：{shift.day.isoformat()} {WEEKDAYS[shift.day.weekday()]} 在{station_name}轮值",
               link=f"/t/{tenant.slug}/duty/?week={week_param(monday_of(shift.day))}")


def swap(tenant: Tenant, actor_id: int | None, shift: DutyShift, other: DutyShift) -> None:
    """Two members trade their shifts; each shift remembers whom it was swapped away from."""
    if shift.id == other.id or shift.person_id == other.person_id:
        raise Refused("请选择两位不同委员的班次", "other_id", "validation_error")
    _planned(shift)
    _planned(other)
    but = {shift.id, other.id}
    if not (_free(other.person_id, shift.day, shift.station_id, but)
            and _free(shift.person_id, other.day, other.station_id, but)):
        raise Refused("换班后会有委员在同一天同一站点重复轮值", "other_id", "conflict")
    people = people_by_ids([shift.person_id, other.person_id])
    names = {s.id: s.name for s in db.scalars(select(Station).where(Station.id.in_([shift.station_id,
                                                                                     other.station_id])))}
    a, b = shift.person_id, other.person_id
    shift.person_id, shift.swapped_from, shift.reminded_at = b, a, None
    other.person_id, other.swapped_from, other.reminded_at = a, b, None
    record(tenant.id, actor_id, "duty.swap", str(shift.id),
           {"with": str(other.id), "days": [shift.day.isoformat(), other.day.isoformat()],
            "people": [people[a].name, people[b].name]})
    _tell(tenant, people[b], shift, names[shift.station_id])
    _tell(tenant, people[a], other, names[other.station_id])
    db.flush()


def hand_over(tenant: Tenant, actor_id: int | None, shift: DutyShift, person_id) -> None:
    """Another member takes the shift over (顶班)."""
    _planned(shift)
    person = _members([person_id])[0]
    if person.id == shift.person_id:
        raise Refused("请选择另一位委员", "person_id", "validation_error")
    if not _free(person.id, shift.day, shift.station_id, {shift.id}):
        raise Refused("该委员当天已在这个站点轮值", "person_id", "conflict")
    before = people_by_ids([shift.person_id]).get(shift.person_id)
    shift.swapped_from, shift.person_id, shift.reminded_at = shift.person_id, person.id, None
    record(tenant.id, actor_id, "duty.hand_over", str(shift.id),
           {"day": shift.day.isoformat(), "from": before.name if before else None, "to": person.name})
    station = find_station(shift.station_id)
    _tell(tenant, person, shift, station.name)
    db.flush()


def mark(tenant: Tenant, actor_id: int | None, shift: DutyShift, status: str) -> None:
    """Record whether the member came (kept) or not (missed); only on or after the day."""
    if status not in SHIFT_STATUSES:
        raise Refused("未知的到岗状态", "status", "validation_error")
    if status != "planned" and shift.day > local_today(tenant):
        raise Refused("还没到轮值日期，不能记录到岗情况", "status", "validation_error")
    if shift.status != status:
        record(tenant.id, actor_id, "duty.mark", str(shift.id), {"from": shift.status, "to": status})
        shift.status, shift.updated_at = status, utcnow()


def remove(tenant: Tenant, actor_id: int | None, shift: DutyShift) -> None:
    _planned(shift)
    record(tenant.id, actor_id, "duty.remove", str(shift.id),
           {"day": shift.day.isoformat(), "person": str(shift.person_id)})
    db.delete(shift)


# ---------------------------------------------------------------- reminders

def send_reminders(tenant: Tenant) -> int:
    """Tell each member with a login about tomorrow's shift, once (reminded_at)."""
    tomorrow = local_today(tenant) + timedelta(days=1)
    rows = _rows(DutyShift.day == tomorrow, DutyShift.status == "planned", DutyShift.reminded_at.is_(None),
                 Person.user_id.is_not(None), Person.active.is_(True))
    now = utcnow()
    for shift, person, station in rows:
        where = "，".join(x for x in (station.address, station.hours) if x)
        notify(tenant.id, person.user_id, "duty.reminder",
               f"明天（{tomorrow.isoformat()} {WEEKDAYS[tomorrow.weekday()]}）您在{station.name}轮值", where,
               link=f"/t/{tenant.slug}/duty/?week={week_param(monday_of(tomorrow))}")
        shift.reminded_at = now
    return len(rows)
