"""The portal's rate limits, one rule for all of them (raising per address and per street, failed
receipt look-ups, 议题公示's support and comment, service accounts): a fixed-window counter row per
(bucket, key, window), taken by one statement,

    INSERT … ON CONFLICT (bucket, key, since) DO UPDATE SET n = n + 1 WHERE n < :count RETURNING n

that counts the request only if the window has room; no row back means the limit is reached. The
statement is atomic on PostgreSQL (the row is locked until its transaction ends: a parallel request
waits and sees the count it left) and on SQLite (one writer at a time), so a limit of 5 holds under
any number of parallel requests. A refused request is not counted, in this window or any later one.

Taken in the request's transaction (`take`), a count is undone with it: a request that fails for
any other reason after being counted (a form asked to confirm first, a database error) is not
counted. What must survive a refusal (a failed look-up, a repeated number) is taken in a transaction
of its own (`own_transaction`). Windows are aligned on the clock (an hour's limit is per clock
hour); a window's row goes when the same key counts in a later window."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..core.db import db, utcnow
from ..core.errors import Throttled
from .models import ThrottleCount

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Limit:
    bucket: str
    count: int
    window: timedelta


@dataclass(frozen=True)
class Taken:
    """One count taken: which row, so that it can be given back (`give_back`)."""
    limit: Limit
    key: str
    since: datetime


def window_of(limit: Limit, now: datetime) -> tuple[datetime, int]:
    """The start of the window `now` is in, and the seconds until it ends (at least 1)."""
    size = limit.window.total_seconds()
    elapsed = (now - EPOCH).total_seconds()
    since = EPOCH + timedelta(seconds=elapsed // size * size)
    return since, max(1, math.ceil((since - now).total_seconds() + size))


def _upsert(session: Session, limit: Limit, key: str, since: datetime) -> int | None:
    """The one statement: the window's count after counting this request, or None when it is full."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(ThrottleCount).values(bucket=limit.bucket, key=key, since=since, n=1)
    stmt = stmt.on_conflict_do_update(index_elements=["bucket", "key", "since"], set_={"n": ThrottleCount.n + 1},
                                      where=ThrottleCount.n < limit.count)
    return session.execute(stmt.returning(ThrottleCount.n)).scalar()


def take(limits: list[tuple[Limit, str]], say: Callable[[Limit], str], session: Session | None = None) -> list[Taken]:
    """Count this request towards each limit, in order, or raise Throttled (`say(limit)`, with the
    seconds until the full window ends) at the first that is full. In the request's transaction
    unless `session` is given: a refusal rolls back what the earlier limits counted."""
    session, now, taken = session or db, utcnow(), []
    for limit, key in limits:
        since, left = window_of(limit, now)
        n = _upsert(session, limit, key, since)
        if n is None:
            raise Throttled(say(limit), left)
        if n == 1:  # the key's first count in this window: its earlier windows are over
            session.execute(delete(ThrottleCount).where(ThrottleCount.bucket == limit.bucket,
                                                        ThrottleCount.key == key, ThrottleCount.since < since))
        taken.append(Taken(limit, key, since))
    return taken


def give_back(taken: list[Taken], session: Session) -> None:
    """Counts taken in a transaction of their own, undone (a look-up that found its topic)."""
    for t in taken:
        session.execute(update(ThrottleCount).where(
            ThrottleCount.bucket == t.limit.bucket, ThrottleCount.key == t.key, ThrottleCount.since == t.since,
            ThrottleCount.n > 0).values(n=ThrottleCount.n - 1))


def check(limits: list[tuple[Limit, str]], say: Callable[[Limit], str]) -> None:
    """Throttled if any of these limits is full now, counting nothing: a refusal said early (before
    a form is asked to confirm). Only `take` decides; a request let through here may still be refused."""
    now = utcnow()
    for limit, key in limits:
        since, left = window_of(limit, now)
        n = db.scalar(select(ThrottleCount.n).where(ThrottleCount.bucket == limit.bucket, ThrottleCount.key == key,
                                                    ThrottleCount.since == since))
        if (n or 0) >= limit.count:
            raise Throttled(say(limit), left)
