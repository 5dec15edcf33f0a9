"""Database plumbing: the declarative base, the engine, the scoped session and ids.

Tenant filtering is not here: `core.tenancy` hooks into every ORM statement.
"""
from __future__ import annotations

import os
import secrets
import time
import uuid
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use shangliang.core.db.utcnow()")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> uuid.UUID:
    """A UUIDv7: time-ordered, so tenant-owned primary keys stay index-friendly.

    Composite (tenant_id, id) keys cannot autoincrement on SQLite, and ids made
    in the application are known before the flush (jobs can name them).
    """
    ms = int(time.time() * 1000)
    rand = secrets.randbits(74)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | (rand >> 62) << 64  # version 7 + 12 random bits
    value |= 0b10 << 62 | (rand & ((1 << 62) - 1))  # RFC 4122 variant + 62 random bits
    return uuid.UUID(int=value)


Session = scoped_session(sessionmaker(expire_on_commit=False))
# `db` reads better in operations: db.add(...), db.execute(...), db.flush(); the request commits.
db = Session


@contextmanager
def own_transaction():
    """A short transaction beside the request's, committed at once, for rows that must survive
    the request's rollback: a failed sign-in counted for throttling, the audit of a read."""
    with Session.session_factory(bind=Session.get_bind()) as s, s.begin():
        yield s


_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A process forked from one that built the app (gunicorn's preload_app): the parent's pooled
    connections stay the parent's; the child starts with empty pools and leaves them open."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _ENGINES.add(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    pool = int(os.environ.get("DATABASE_POOL_SIZE", "5"))
    engine = create_engine(url, pool_size=pool, max_overflow=pool)
    ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING = 2.0  # seconds a pooled connection may sit unused before it is tested again


def ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping costs a round trip on every checkout, a seventh of a small page. A
    connection in constant use is known to be alive; one that sat idle (the database may have
    restarted, a firewall dropped it) is tested before it is handed out, and replaced if dead."""
    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_conn, record):
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return  # new (just connected) or busy: no round trip
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:  # dead: the pool connects again and retries
            raise exc.DisconnectionError(str(err)) from err


def bind(engine: Engine) -> None:
    Session.remove()
    Session.configure(bind=engine)

