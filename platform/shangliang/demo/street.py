"""The street a generated history is lived in (history.py): how well it works (`Profile`), who acts
(`Cast`), its procedure's deadlines, remembered where the zone allows (`Deadlines`), and ids drawn
like the application's own (`uuid7`). Pure: nothing here reads or writes the database."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable
from zoneinfo import ZoneInfo

from ..topics.operations import add_time_limit, main_path


@dataclass(frozen=True)
class Profile:
    """How a street works, so that streets differ and rankings mean something. Rates are
    probabilities per topic (or per step, for `pace` and `stall`)."""

    monthly: float = 25.0  # topics collected per month, on average
    response: float = 0.85  # first response within the intake step's limit
    pace: float = 0.85  # any other step done within its limit
    satisfaction: float = 0.85  # a first rating is (very) satisfied or basically satisfied
    stall: float = 0.015  # a step drags on far beyond its limit
    out_of_scope: float = 0.04  # where the procedure allows 不予受理
    transfer: float = 0.25  # where the procedure allows 转交
    escalate: float = 0.08  # where it allows 提请
    claim: float = 0.85  # a member takes the topic up where members may
    invite: float = 0.2  # the claimant invites another member
    attendance: float = 0.85  # people invited to a meeting come
    duty_kept: float = 0.9  # a duty shift is kept
    meeting_day: int = 2  # the weekday of the weekly consultation meeting (0 = Monday)

    @classmethod
    def of(cls, data: dict | None) -> Profile:
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})

    @classmethod
    def drawn(cls, rnd, monthly: float) -> Profile:
        """A street somewhere between poor and excellent (for benchmarks)."""
        q = rnd.random()
        return cls(monthly=monthly, response=0.55 + 0.43 * q, pace=0.5 + 0.45 * rnd.random(),
                   satisfaction=0.6 + 0.37 * (0.6 * q + 0.4 * rnd.random()), stall=0.005 + 0.04 * (1 - q),
                   claim=0.6 + 0.35 * rnd.random(), duty_kept=0.7 + 0.28 * q, attendance=0.65 + 0.3 * q)


@dataclass(frozen=True)
class Member:
    """A CPPCC member with a login: who claims topics."""

    user_id: int
    person_id: uuid.UUID | None = None
    specialties: tuple[str, ...] = ()


@dataclass
class Cast:
    admin_id: int | None  # the street's administrator acts for the staff
    members: list[Member]
    communities: list[tuple[str, list[str]]]  # (community, its grids)
    departments: list[str]



# ---------------------------------------------------------------- time

@lru_cache(maxsize=64)
def fixed_offset(tz: str) -> timedelta | None:
    """The zone's offset if it has been the same all of the last two years (all of China): then
    a deadline lies a fixed time after its start, given the start's weekday and time of day."""
    zone = ZoneInfo(tz)
    now = datetime.now(timezone.utc)
    offsets = {(now - timedelta(days=d)).astimezone(zone).utcoffset() for d in range(0, 731, 15)}
    return offsets.pop() if len(offsets) == 1 else None


class Deadlines:
    """`add_time_limit` and `procedure_deadline` for one procedure and zone, remembered by
    (weekday, time of day) where the zone allows: 2,000,000 topics cost a few thousand walks."""

    def __init__(self, steps: list[dict], tz: str):
        self.tz, self.offset = tz, fixed_offset(tz)
        self.limits = {s["key"]: s.get("time_limit") for s in steps}
        self.path = tuple(s["time_limit"] for s in main_path(steps) if s.get("time_limit"))
        self.memo: dict = {}

    def _cached(self, what, start: datetime, compute) -> datetime | None:
        if self.offset is None:
            return compute(start)
        local = start + self.offset
        key = (what, local.weekday(), local.hour, local.minute, local.second, local.microsecond)
        if key not in self.memo:
            end = compute(start)
            self.memo[key] = None if end is None else end - start
        gap = self.memo[key]
        return None if gap is None else start + gap

    def due(self, step_key: str, start: datetime) -> datetime | None:
        """When a step entered at `start` falls due (what `_move` writes to `due_at`)."""
        limit = self.limits[step_key]
        return self._cached(step_key, start, lambda s: add_time_limit(s, limit, self.tz)) if limit else None

    def deadline(self, start: datetime) -> datetime | None:
        """`procedure_deadline`: the main path's limits one after another."""
        def walk(s):
            for limit in self.path:
                s = add_time_limit(s, limit, self.tz)
            return s
        return self._cached("*", start, walk) if self.path else None


def uuid7(at: datetime, rnd) -> uuid.UUID:
    """A UUIDv7 like `core.db.new_id`, stamped with `at` and drawn from `rnd` (deterministic)."""
    value = (int(at.timestamp() * 1000) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | rnd.getrandbits(12) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return uuid.UUID(int=value)



# ---------------------------------------------------------------- the street

@dataclass
class Street:
    """What living a topic needs to know of its street."""

    tenant_id: int
    tz: str
    version_id: uuid.UUID
    steps: list[dict]
    cast: Cast
    profile: Profile
    # (kind "photo"|"attachment", topic id, actor id, at) → the `attach` event's data
    evidence_file: Callable[[str, uuid.UUID, int | None, datetime], dict]
    deadlines: Deadlines | None = None  # one may be shared by streets of the same procedure and zone
    new_id: Callable = uuid7  # (at, rnd) → an id; the benchmark takes them as hex
    by_key: dict = field(init=False)
    claim_steps: set = field(init=False)

    def __post_init__(self):
        self.by_key = {s["key"]: s for s in self.steps}
        self.deadlines = self.deadlines or Deadlines(self.steps, self.tz)
        self.zone = ZoneInfo(self.tz)
        self.roles_at: dict = {}

        with_members = [s for s in self.steps if "member" in s["roles"] and s["phase"] != "intake"]
        # Members claim where the procedure has them deliberate (参单); failing that, at their first step.
        deliberating = [s["key"] for s in with_members if s["phase"] == "deliberation"]
        self.claim_steps = set(deliberating[:1] or [s["key"] for s in with_members[:1]])
        self.claim_steps |= {s["key"] for s in with_members if s["roles"] == ["member"]}

    def next_meeting(self, after: datetime) -> datetime:
        """The street's next weekly meeting (14:30 local) at least two hours after `after`."""
        local = (after + timedelta(hours=2)).astimezone(self.zone)
        day = local.date() + timedelta(days=(self.profile.meeting_day - local.weekday()) % 7)
        start = datetime.combine(day, time(14, 30), self.zone)
        if start < local:
            start += timedelta(days=7)
        return start.astimezone(timezone.utc)
