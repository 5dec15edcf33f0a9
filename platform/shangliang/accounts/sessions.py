"""Server-side sessions: the cookie holds a random token, the `auth_sessions` row its hash. A
session ends at sign-out, 12 hours after sign-in, or after SESSION_IDLE_MINUTES without a request
(config.py; 30 by default), whichever comes first.

A signed-in request reads its session from what the process keeps (core/changes.py), so it costs
no statement while nothing changes. The time of the last request is written at most once a minute
(SEEN_RESOLUTION), in a transaction of its own, and is no change of what processes keep: the
trigger does not send a notice for it (migration 0030) and the statement names the table, not the
mapped class, so this process keeps its copies too. A process's copy may be older than the row
(another process saw a later request): the row decides, in the one statement that writes it."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from ..core.changes import attach, detached_copy, kept, watch, watch_table
from ..core.db import db, own_transaction, utcnow
from .models import AuthSession, User

SESSION_LIFETIME = timedelta(hours=12)
SEEN_RESOLUTION = timedelta(minutes=1)

watch_table("users", "id")
watch_table("auth_sessions", "user_id")
watch_table("memberships", "tenant_id")
# A person's sessions go with any change of theirs; a change of memberships moves their roles
# version (a trigger's write, which this process does not see itself), so it drops them all.
SESSIONS = watch("sessions", "users", "auth_sessions", whole=("memberships",))


class SessionIdle(Exception):
    """The session sat idle longer than the limit: it has been ended."""


@dataclass
class Kept:
    """A session as the process keeps it; `last_seen_at` moves with the writes this process makes."""

    created_at: datetime
    last_seen_at: datetime
    user: User


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SHANGLIANG"].session_idle_minutes)


def start_session(user: User, ip: str | None, user_agent: str | None) -> str:
    """A new server-side session; the returned token goes in the (signed) cookie."""
    token, now = secrets.token_urlsafe(32), utcnow()
    db.add(AuthSession(token_hash=_sha256(token), user_id=user.id, ip=ip, user_agent=(user_agent or "")[:255],
                       created_at=now, last_seen_at=now))
    return token


def load_session(token: str | None) -> User | None:
    """The user of a signed-in request, or None; SessionIdle if it has just ended for being idle.
    The session and its user are read together and kept by the process until either changes."""
    if not token:
        return None
    token_hash = _sha256(token)
    found = kept(SESSIONS, token_hash, lambda: _session_of(token_hash), part=lambda s: s.user.id)
    now = utcnow()
    if found is None or found.created_at < now - SESSION_LIFETIME:
        return None  # unknown, ended, or past its lifetime (checked on every request, kept or not)
    if now - found.last_seen_at >= SEEN_RESOLUTION:
        if not _seen(token_hash, now):
            return None  # ended meanwhile by another process, whose notice has not arrived yet
        found.last_seen_at = now
    user = attach(found.user)
    return user if user.is_active_account else None


def _session_of(token_hash: str) -> Kept | None:
    row = db.execute(select(AuthSession.created_at, AuthSession.last_seen_at, User)
                     .join(User, AuthSession.user_id == User.id).where(AuthSession.token_hash == token_hash)).first()
    return Kept(row[0], row[1], detached_copy(row[2])) if row else None


def _seen(token_hash: str, now: datetime) -> bool:
    """Seen now, unless the row says it sat idle past the limit: then it is ended (SessionIdle).
    False if there is no such session any more."""
    table = AuthSession.__table__
    with own_transaction() as s:
        if s.execute(update(table).where(table.c.token_hash == token_hash, table.c.last_seen_at >= now - idle_limit())
                     .values(last_seen_at=now)).rowcount:
            return True
        # The mapped class here: this process drops its copies of the session at once.
        ended = s.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash)).rowcount
    if ended:
        raise SessionIdle()
    return False


def end_session(token: str | None) -> None:
    if token:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == _sha256(token)))
