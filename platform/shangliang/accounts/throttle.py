"""Sign-in throttling, after OWASP's Authentication Cheat Sheet: wrong passwords slow down whoever
types them, with growing waits, instead of a hard lock that anyone could set off against anyone.

- One account from one address: the first FREE_FAILURES wrong passwords cost nothing (typos); each
  one after them makes that address wait before its next try at that account, 1, 2, 4 … seconds up
  to CAP, the right password included. The owner signing in from another address is not held up,
  nor are colleagues behind the same address (an office behind one NAT), and a success clears it.
- One address trying many accounts (password spraying): once it has failed on ADDRESS_ACCOUNTS
  different accounts within ADDRESS_WINDOW, it waits, growing likewise, before trying an account it
  has not signed in to before; accounts that signed in from there (colleagues) are not held up.

A wait is answered 429 with Retry-After, before any password hash is checked, and is not counted.
Counting is one atomic statement per counter (INSERT … ON CONFLICT DO UPDATE … RETURNING), so
parallel tries are each counted. Addresses are kept only as a keyed hash (core.web.address_key)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.db import db, own_transaction, utcnow
from ..core.errors import Throttled
from .models import SignInCount

ANY = "*"  # the `account` of an address's own row: how many accounts it failed on (no username is "*")
FREE_FAILURES = 2
CAP = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # a day without a failure and an account's count from an address starts again
ADDRESS_ACCOUNTS = 30
ADDRESS_WINDOW = timedelta(hours=1)
KNOWN_FOR = timedelta(days=90)  # an account that signed in from an address since is a colleague there
MESSAGE = "登录尝试过于频繁，请稍后再试"
UPSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def growing(step: int) -> timedelta:
    """1, 2, 4, 8 … seconds, never more than CAP."""
    return min(timedelta(seconds=2 ** min(step, 20)), CAP)


def check(account: str, address: str) -> None:
    """Throttled (with the seconds to wait) if `address` must wait before trying `account`."""
    rows = {r.account: r for r in db.execute(
        select(SignInCount.account, SignInCount.failures, SignInCount.failed_at, SignInCount.succeeded_at)
        .where(SignInCount.address == address, SignInCount.account.in_((account, ANY))))}
    now = utcnow()
    until = [t for t in (_account_until(rows.get(account), now), _address_until(rows.get(ANY), rows.get(account), now))
             if t is not None and t > now]
    if until:
        raise Throttled(MESSAGE, (max(until) - now).total_seconds())


def _account_until(row, now: datetime) -> datetime | None:
    if row is None or row.failed_at is None or row.failed_at < now - FORGET_AFTER or row.failures <= FREE_FAILURES:
        return None
    return row.failed_at + growing(row.failures - FREE_FAILURES - 1)


def _address_until(row, pair, now: datetime) -> datetime | None:
    if row is None or row.failed_at < now - ADDRESS_WINDOW or row.failures < ADDRESS_ACCOUNTS:
        return None
    if pair is not None and pair.succeeded_at is not None and pair.succeeded_at >= now - KNOWN_FOR:
        return None  # a colleague who signs in from there
    return row.failed_at + growing(row.failures - ADDRESS_ACCOUNTS)


def failed(account: str, address: str) -> None:
    """One more failure, in a transaction of its own: it counts although the request rolls back."""
    with own_transaction() as s:
        if _add_failure(s, account, address, FORGET_AFTER) == 1:  # the first on this account from there
            _add_failure(s, ANY, address, ADDRESS_WINDOW)


def _add_failure(s, account: str, address: str, forget: timedelta) -> int:
    now, t = utcnow(), SignInCount.__table__
    stmt = UPSERT[s.get_bind().dialect.name](t).values(account=account, address=address, failures=1, failed_at=now)
    recent = t.c.failed_at >= now - forget  # NULL (signed in only) and old counts start again at 1
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.account, t.c.address],
                                      set_={"failures": case((recent, t.c.failures + 1), else_=1), "failed_at": now})
    return s.execute(stmt.returning(t.c.failures)).scalar_one()


def succeeded(account: str, address: str) -> None:
    """Signed in: the failures from this address are forgiven and it is known there (with the request)."""
    now, t = utcnow(), SignInCount.__table__
    stmt = UPSERT[db.get_bind().dialect.name](t).values(account=account, address=address, failures=0,
                                                         succeeded_at=now)
    db.execute(stmt.on_conflict_do_update(index_elements=[t.c.account, t.c.address],
                                          set_={"failures": 0, "failed_at": None, "succeeded_at": now}))
