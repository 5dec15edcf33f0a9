"""A year of generated history for a street (对标 needs months of topics to compare).

`live()` (life.py) lives one topic through the street's published procedure the way
`topics.operations.act` would log it: the same actions, steps, canonical phases, rounds and
sequence numbers, the acting role taken from the step's roles, the evidence each step asks for
before it may be left, claims by members with logins, transfers and escalations where the
procedure has them, 复盘 after an unsatisfied rating, the odd 不予受理, and topics still open where
the clock (`now`) stops them. `year()` draws a year of intake with seasons (catalogue.py) for a
street (street.py). Both are pure: rows as dicts, nothing written, so bench/benchmarks.py turns
the same rows into COPY lines. `generate()` (history_store.py) writes a street's year with its
meetings, duty shifts and evidence files.

Deterministic: everything comes from the `random.Random` passed in (ids included).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# The generator's parts, named here too: history_store.py and bench/benchmarks.py read them as `history.X`.
from .catalogue import SEASON, SURNAMES, poisson
from .life import CONSULT_AFTER, live
from .street import Cast, Deadlines, Member, Profile, Street, uuid7

__all__ = ["CONSULT_AFTER", "SURNAMES", "Cast", "Deadlines", "Member", "Profile", "Street", "intake_times", "live",
           "uuid7", "window", "year"]


# ---------------------------------------------------------------- a year of intake

def window(now: datetime, tz: str, months: int = 12) -> datetime:
    """The start of the month `months` months before `now`'s (local): twelve whole months and
    this one so far."""
    local = now.astimezone(ZoneInfo(tz))
    y, m = divmod(local.year * 12 + local.month - 1 - months, 12)
    return datetime(y, m + 1, 1, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def intake_times(rnd, start: datetime, now: datetime, tz: str, monthly: float) -> list[datetime]:
    """When topics came in: a Poisson number a day around the street's monthly mean, by season,
    fewer at weekends, in the day's waking hours."""
    zone, out = ZoneInfo(tz), []
    day = start.astimezone(zone).date()
    while True:
        weekend = day.weekday() >= 5
        rate = monthly * SEASON[day.month - 1] * 12 / 365 * (0.55 if weekend else 1.18)
        for _ in range(poisson(rnd, rate)):
            minutes = 7 * 60 + int(rnd.triangular(0, 15 * 60, 3 * 60))
            at = datetime.combine(day, time(0), zone) + timedelta(minutes=minutes)
            out.append(at.astimezone(timezone.utc))
        day += timedelta(days=1)
        if datetime.combine(day, time(0), zone) > now:
            break
    return sorted(t for t in out if t <= now)


def year(street: Street, rnd, first_number: int, now: datetime, months: int = 12):
    """Every topic of the window, numbered from `first_number` in order of intake: yields
    (topic row, its events)."""
    start = window(now, street.tz, months)
    for i, created in enumerate(intake_times(rnd, start, now, street.tz, street.profile.monthly)):
        yield live(street, rnd, first_number + i, created, now)
