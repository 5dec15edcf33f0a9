"""The member ledger (履职档案): what each CPPCC member of a street did in a period, and the points
the county's scale gives it, for the annual review.

A member is active in a period by the same definition as the participation measure
(`rollups._active_members`): a claim of or an invitation to a topic, attendance at or convening
of a held meeting, a kept duty shift. The ledger adds what judges the work: the topics a member
led that were closed, their final ratings, and missed shifts.

Each kind of activity comes from one statement (`_takings`, `_closings`, …). The ledger groups
them by person over the whole street, a fixed number of queries whatever the number of members;
a member's dated list reads the same statements for one person, so the list and the counts
cannot disagree.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, false, func, or_, select

from ..benchmarks.measures import DEFAULT_POINTS, POINT_LABELS
from ..benchmarks.operations import settings_for_street
from ..benchmarks.periods import Period
from ..core.db import db
from ..meetings.models import Meeting, MeetingParticipant
from ..roster.models import DutyShift, Person, Station
from ..tenants.models import Tenant
from ..topics.models import Topic, TopicEvent
from ..topics.ratings import BASIC, RATE, counts_as_satisfied, decides_sql, level_sql, score_sql, valid_sql

KINDS = tuple(DEFAULT_POINTS)  # claim, close, attend, convene, duty_kept, duty_missed, rated_…
# A topic is led by whoever claimed it; members invited to it take part without leading it, so
# its closing and its rating count for those who claimed it only.
LED_BY = ("claim",)
ORDER = {k: i for i, k in enumerate((*KINDS, "rated_basic"))}  # of a day's activities
UNITS = {"claim": "件", "close": "件", "attend": "场", "convene": "场", "duty_kept": "次", "duty_missed": "次",
         "rated_satisfied": "件", "rated_unsatisfied": "件"}
RULES = {  # how each kind is counted, in the words pages and exports show
    "claim": "本期认领或受邀参与的议题，按认领、受邀时间计",
    "close": "本人认领的议题在本期办结（不予受理的不计）",
    "attend": "本期召开的议事会中出席的",
    "convene": "本期召开的议事会中担任召集人的",
    "duty_kept": "本期轮值班次中到岗的",
    "duty_missed": "本期轮值班次中缺岗的",
    "rated_satisfied": "本人认领的议题，最后一次有效评价在本期、为“非常满意”或“满意”",
    "rated_unsatisfied": "本人认领的议题，最后一次有效评价在本期、为“不满意”",
}
BASIC_RULE = {True: "“基本满意”按县（区）设置计入满意", False: "“基本满意”按县（区）设置不计分"}

E, P = TopicEvent, Person


# ---------------------------------------------------------------- what counted, one statement each

def _taker():
    """The member an event brings onto a topic: who claimed it, or who was invited."""
    return case((E.action == "claim", E.actor_id), else_=E.data["user_id"].as_integer())


def _window(col, period: Period, tz: str):
    start, end = period.bounds(tz)
    return and_(col >= start, col < end)


def _on_roster(person_col, tenant_col):
    """Joined to the member on the roster (a person of another kind does not count)."""
    return and_(P.tenant_id == tenant_col, P.id == person_col, P.kind == "member")


def _takings(period: Period, tz: str):
    """Claims of and invitations to topics made in the period."""
    return (select(P.id.label("person_id"), E.tenant_id, E.topic_id, E.action, E.at)
            .join(P, and_(P.tenant_id == E.tenant_id, P.user_id == _taker(), P.kind == "member"))
            .where(E.action.in_(("claim", "invite")), _window(E.at, period, tz)))


def _leads():
    """Who led each topic, from which event of its log on (a closing or a rating before they
    took it up is not theirs)."""
    return (select(P.id.label("person_id"), E.tenant_id, E.topic_id, E.seq)
            .join(P, and_(P.tenant_id == E.tenant_id, P.user_id == _taker(), P.kind == "member"))
            .where(E.action.in_(LED_BY)).subquery())


def _led(lead):
    return and_(lead.c.tenant_id == E.tenant_id, lead.c.topic_id == E.topic_id, lead.c.seq < E.seq)


def _closings(period: Period, tz: str):
    """Led topics closed as done in the period."""
    lead = _leads()
    return (select(lead.c.person_id, E.tenant_id, E.topic_id, E.at).join(lead, _led(lead))
            .where(E.action == "close", _window(E.at, period, tz)))


def _ratings(period: Period, tz: str):
    """Led topics whose last rating (the one that stands) was given in the period and is valid.
    Ratings logged before levels existed read as satisfied or not, as in the rollups."""
    last = (select(E.tenant_id, E.topic_id, func.max(E.seq).label("seq")).where(E.action == RATE, decides_sql(E.data))
            .group_by(E.tenant_id, E.topic_id).subquery())
    lead = _leads()
    return (select(lead.c.person_id, E.tenant_id, E.topic_id, E.at, level_sql(E.data).label("level"),
                   score_sql(E.data).label("score"))
            .join(last, and_(last.c.tenant_id == E.tenant_id, last.c.topic_id == E.topic_id, last.c.seq == E.seq))
            .join(lead, _led(lead))
            .where(valid_sql(E.data), _window(E.at, period, tz)))


def _meetings(period: Period, tz: str):
    """Held meetings of the period a member attended or convened."""
    M, MP = Meeting, MeetingParticipant
    return (select(MP.person_id, M.tenant_id, M.id.label("meeting_id"), M.number, M.title, M.starts_at,
                   func.coalesce(MP.attended, false()).label("attended"), MP.convener)
            .join(M, and_(M.tenant_id == MP.tenant_id, M.id == MP.meeting_id))
            .join(P, _on_roster(MP.person_id, MP.tenant_id))
            .where(M.status == "held", or_(MP.attended.is_(True), MP.convener.is_(True)),
                   _window(M.starts_at, period, tz)))


def _shifts(period: Period):
    """Duty shifts of the period's days that were kept or missed (planned ones are not yet either)."""
    D = DutyShift
    return (select(D.person_id, D.tenant_id, D.id.label("shift_id"), D.day, D.status, D.station_id)
            .join(P, _on_roster(D.person_id, D.tenant_id))
            .where(D.status.in_(("kept", "missed")), D.day >= period.start_day(), D.day < period.end_day()))


# ---------------------------------------------------------------- the ledger of a street

@dataclass
class Entry:
    """One member's counts for the period: every kind of KINDS, plus `invited` (of the claims),
    `rated` (valid final ratings) and `rated_basic` (基本满意 not counted as satisfied)."""

    person: Person
    counts: Counter = field(default_factory=Counter)
    score_sum: int = 0
    score_n: int = 0
    points: int = 0

    @property
    def active(self) -> bool:
        """As the participation measure counts a member active."""
        c = self.counts
        return bool(c["claim"] or c["attend"] or c["convene"] or c["duty_kept"])

    @property
    def score_avg(self) -> float | None:
        return round(self.score_sum / self.score_n, 2) if self.score_n else None

    def subtotals(self, scale: dict) -> dict[str, int]:
        return {k: self.counts[k] * scale[k] for k in KINDS}


@dataclass
class Ledger:
    street: Tenant
    period: Period
    scale: dict  # kind → points
    basic_counts: bool
    entries: list[Entry]

    @property
    def members_total(self) -> int:
        """Members on the roster (deactivated ones are listed only for what they did)."""
        return sum(1 for e in self.entries if e.person.active)

    @property
    def members_active(self) -> int:
        return sum(1 for e in self.entries if e.person.active and e.active)


def scale_of(street: Tenant, actor_id: int | None) -> tuple[dict, bool]:
    """The county's points for each kind and whether 基本满意 counts as satisfied."""
    settings = settings_for_street(street, actor_id)
    return {**DEFAULT_POINTS, **settings["points"]}, bool(settings["basic_counts"])


def ledger(street: Tenant, period: Period, actor_id: int | None = None, scale: tuple[dict, bool] | None = None
           ) -> Ledger:
    """Every member of the street with their counts and points for `period`: the members on the
    roster, and deactivated ones who did something in it. Inside the street's scope."""
    points, basic = scale or scale_of(street, actor_id)
    tz = street.timezone
    members = db.scalars(select(P).where(P.kind == "member").order_by(P.name, P.id)).all()
    entries = {p.id: Entry(p) for p in members}

    def add(person_id, kind, n):
        if person_id in entries and n:
            entries[person_id].counts[kind] += int(n)

    t = _takings(period, tz).subquery()
    for pid, claims, invited in db.execute(
            select(t.c.person_id, func.count(distinct(t.c.topic_id)),
                   func.count(distinct(case((t.c.action == "invite", t.c.topic_id)))))
            .group_by(t.c.person_id)):
        add(pid, "claim", claims)
        add(pid, "invited", invited)
    c = _closings(period, tz).subquery()
    for pid, n in db.execute(select(c.c.person_id, func.count(distinct(c.c.topic_id))).group_by(c.c.person_id)):
        add(pid, "close", n)
    r = _ratings(period, tz).subquery()
    for row in db.execute(select(r.c.person_id, r.c.level, func.count(), func.sum(r.c.score), func.count(r.c.score))
                          .group_by(r.c.person_id, r.c.level)):
        _add_rating(entries.get(row[0]), row[1], row[2], row[3] or 0, row[4], basic)
    m = _meetings(period, tz).subquery()
    for pid, attended, convened in db.execute(
            select(m.c.person_id, func.count(distinct(case((m.c.attended.is_(True), m.c.meeting_id)))),
                   func.count(distinct(case((m.c.convener.is_(True), m.c.meeting_id)))))
            .group_by(m.c.person_id)):
        add(pid, "attend", attended)
        add(pid, "convene", convened)
    s = _shifts(period).subquery()
    for pid, status, n in db.execute(select(s.c.person_id, s.c.status, func.count())
                                     .group_by(s.c.person_id, s.c.status)):
        add(pid, f"duty_{status}", n)
    shown = [e for e in entries.values() if e.person.active or any(e.counts.values())]
    for e in shown:
        e.points = sum(e.subtotals(points).values())
    return Ledger(street, period, points, basic, shown)


def rating_kind(level: str, basic_counts: bool) -> str:
    """rated_satisfied or rated_unsatisfied; 基本满意 where it does not count as satisfied is
    rated_basic, listed and worth nothing."""
    if counts_as_satisfied(level, basic_counts):
        return "rated_satisfied"
    return "rated_basic" if level == BASIC else "rated_unsatisfied"


def _add_rating(entry: Entry | None, level: str, n: int, score_sum: int, score_n: int, basic: bool) -> None:
    if entry is None:
        return
    entry.counts[rating_kind(level, basic)] += n
    entry.counts["rated"] += n
    entry.score_sum += score_sum
    entry.score_n += score_n


SORTS = ("points", "name", *KINDS)


def sorted_entries(entries: list[Entry], sort: str) -> list[Entry]:
    """Most first (points or a count), ties by name; or by name."""
    if sort == "name":
        return sorted(entries, key=lambda e: (e.person.name, str(e.person.id)))
    value = (lambda e: e.points) if sort == "points" else (lambda e: e.counts[sort])
    return sorted(entries, key=lambda e: (-value(e), e.person.name, str(e.person.id)))


# ---------------------------------------------------------------- one member, activity by activity

@dataclass
class Activity:
    kind: str  # one of KINDS
    day: date  # in the street's time zone
    at: datetime | None  # shifts have a day only
    time: str | None  # local "HH:MM"
    points: int
    topic_number: int | None = None
    topic_title: str | None = None
    invited: bool = False  # a claim that was an invitation
    level: str | None = None  # ratings
    score: int | None = None
    meeting_number: int | None = None
    meeting_title: str | None = None
    station: str | None = None


def member_activities(street: Tenant, person: Person, period: Period, actor_id: int | None = None,
                      scale: tuple[dict, bool] | None = None) -> list[Activity]:
    """What the member did in `period`, oldest first, each with its points."""
    points, basic = scale or scale_of(street, actor_id)
    tz = street.timezone
    zone = ZoneInfo(tz)
    out: list[Activity] = []

    def topic_rows(q):
        q = q.subquery()
        return db.execute(select(q, Topic.number, Topic.title)
                          .join(Topic, and_(Topic.tenant_id == q.c.tenant_id, Topic.id == q.c.topic_id))
                          .where(q.c.person_id == person.id))

    def add(kind, at, **kw):
        if isinstance(at, datetime):
            local = at.astimezone(zone)
            out.append(Activity(kind, local.date(), at, local.strftime("%H:%M"), points.get(kind, 0), **kw))
        else:
            out.append(Activity(kind, at, None, None, points.get(kind, 0), **kw))

    for row in topic_rows(_takings(period, tz)).mappings():
        add("claim", row["at"], topic_number=row["number"], topic_title=row["title"],
            invited=row["action"] == "invite")
    for row in topic_rows(_closings(period, tz)).mappings():
        add("close", row["at"], topic_number=row["number"], topic_title=row["title"])
    for row in topic_rows(_ratings(period, tz)).mappings():
        add(rating_kind(row["level"], basic), row["at"], topic_number=row["number"], topic_title=row["title"],
            level=row["level"], score=row["score"])
    m = _meetings(period, tz).subquery()
    for row in db.execute(select(m).where(m.c.person_id == person.id)).mappings():
        for kind, flag in (("attend", row["attended"]), ("convene", row["convener"])):
            if flag:
                add(kind, row["starts_at"], meeting_number=row["number"], meeting_title=row["title"])
    s = _shifts(period).subquery()
    for row in db.execute(select(s, Station.name).outerjoin(
            Station, and_(Station.tenant_id == s.c.tenant_id, Station.id == s.c.station_id))
            .where(s.c.person_id == person.id)).mappings():
        add(f"duty_{row['status']}", row["day"], station=row["name"])
    out.sort(key=lambda a: (a.day, a.at or datetime.combine(a.day, datetime.min.time(), zone), ORDER[a.kind]))
    return out


def summary(person: Person, activities: list[Activity]) -> Entry:
    """A member's entry made from their activities: the same figures as their line in `ledger`."""
    entry = Entry(person)
    for a in activities:
        entry.counts[a.kind] += 1
        entry.counts["invited"] += a.invited
        if a.level is not None:
            entry.counts["rated"] += 1
            if a.score is not None:
                entry.score_sum, entry.score_n = entry.score_sum + a.score, entry.score_n + 1
        entry.points += a.points
    return entry


def find_member(person_id) -> Person | None:
    return db.scalar(select(P).where(P.id == person_id, P.kind == "member"))  # the tenant filter hides others'


def own_member(user_id: int) -> Person | None:
    """The member on the roster linked to this login, if any."""
    return db.scalar(select(P).where(P.kind == "member", P.user_id == user_id).order_by(P.active.desc()).limit(1))


# ---------------------------------------------------------------- the scale in words

def scale_words(scale: dict, basic_counts: bool) -> list[dict]:
    """[{kind, label, points, unit, rule, note}] in the order of KINDS, for pages and exports."""
    return [{"kind": k, "label": POINT_LABELS[k], "points": scale[k], "unit": UNITS[k], "rule": RULES[k],
             "note": BASIC_RULE[basic_counts] if k == "rated_satisfied" else None} for k in KINDS]


def signed(n: int) -> str:
    return f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "0"
