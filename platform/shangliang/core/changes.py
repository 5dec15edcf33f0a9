"""Rows every request reads (the signed-in session and its user, the tenant of the path, a street's
current procedure), kept by each web process and dropped the moment they change anywhere.

Why not read them each time: they are most of what a small page costs (a bare signed-in route
spent three quarters of its time on two such reads). Why not a time limit: a session ended or a
tenant archived must stop at the next request, on every node.

How: on PostgreSQL a trigger on each watched table (migration 0020) sends `NOTIFY
shangliang_changes, '<table>:<part>'` with every write, delivered when its transaction commits;
every web process LISTENs on one connection of its own and, before each request, takes in what
arrived (a non-blocking read of its socket: no round trip) and drops the copies it names. What
this process writes itself is dropped at its own commit, and a copy is never kept from a
transaction that wrote its tables. A feed that is lost (the database restarted) forgets every
copy and keeps none until it listens again; it is checked with a round trip every PING seconds.
SQLite (the embedded trial) and jobs keep nothing: they read every time.

Areas declare what they keep: `watch_table(table, column)` (the column naming the part a row's
change touches: the tenant, the user) and `watch(name, *tables, whole=())` (a change of a table
in `whole` drops every copy); then `kept(name, key, make, part)` where `part(value)` says which
part the copy belongs to. Copies of ORM rows are kept detached (`detached_copy`) and attached to
each request's session with `attach`, which costs no statement.
"""
from __future__ import annotations

import os
import secrets
import select
import threading
import time
import weakref
from collections import defaultdict
from typing import Callable, Hashable

import psycopg
from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from .db import db

CHANNEL = "shangliang_changes"
PING = 10.0  # seconds between round trips that prove the feed's connection is still alive
RETRY = 1.0  # seconds before a lost feed connects again (meanwhile every request reads)
MAX_ENTRIES = 4096  # per kept name: past it (thousands of sessions in one process) start again
TABLES: dict[str, str] = {}  # table → the column its change notices name (as the trigger does)
WATCHES: dict[str, tuple[frozenset, frozenset]] = {}  # name → (tables by part, tables dropping all)
_WRITTEN = "changes.written"  # session.info: {(table, part or None)} written in this transaction


def watch_table(table: str, column: str) -> None:
    TABLES[table] = column


def watch(name: str, *tables: str, whole: tuple[str, ...] = ()) -> str:
    WATCHES[name] = (frozenset(tables), frozenset(whole))
    return name


class Feed:
    """One LISTEN connection per process and database; the apps of the process subscribe."""

    def __init__(self, url: str):
        self.url, self.pid, self.conn, self.pinged, self.goodbye = url, os.getpid(), None, 0.0, False
        self.heard_with_answers: list[str] = []
        self.lock = threading.Lock()
        self.stores: weakref.WeakSet[Store] = weakref.WeakSet()
        self.retry_at = 0.0

    def _connect(self) -> None:
        self.conn, self.goodbye = psycopg.connect(self.url, autocommit=True, connect_timeout=3), False
        self.conn.add_notice_handler(self._heard)
        # psycopg reads the notices that come with a statement's answer (the ping, LISTEN) and
        # hands them to these handlers only: kept here, or they would be lost.
        self.heard_with_answers = []
        self.conn.add_notify_handler(lambda note: self.heard_with_answers.append(note.payload))
        self.conn.execute(f"LISTEN {CHANNEL}")
        self.pinged = time.monotonic()
        self._forget()  # what changed before this LISTEN was never heard of

    def _heard(self, diagnostic) -> None:
        """A server that ends this session (a restart, pg_terminate_backend) says so first, before
        it closes the socket: an error to an idle connection, which libpq hands over as a notice."""
        if diagnostic.severity_nonlocalized in ("FATAL", "PANIC"):
            self.goodbye = True

    def _forget(self) -> None:
        for store in list(self.stores):
            store.clear()

    def _lost(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        finally:
            self.conn, self.retry_at = None, time.monotonic() + RETRY
            self._forget()

    def poll(self) -> bool:
        """Take in every notice that arrived; False while there is no live feed (keep nothing)."""
        with self.lock:
            if self.conn is None:
                if time.monotonic() < self.retry_at:
                    return False
                try:
                    self._connect()
                except psycopg.Error:
                    self._lost()
                    return False
            try:
                if time.monotonic() - self.pinged > PING:
                    self.conn.execute("SELECT 1")  # a dead peer shows only when spoken to
                    self.pinged = time.monotonic()
                changes = self._take_in()
            except psycopg.Error:
                self._lost()
                return False
            if self.goodbye or self.conn.pgconn.status != psycopg.pq.ConnStatus.OK:  # the server said goodbye
                self._lost()
                return False
        self._apply(changes)
        return True

    def _take_in(self) -> list[str]:
        pgconn, changes = self.conn.pgconn, self.heard_with_answers
        self.heard_with_answers = []
        for _ in range(3):  # a closed peer's goodbye and its end of file may come apart
            pgconn.consume_input()  # non-blocking: what the socket holds, nothing more
            while (note := pgconn.notifies()) is not None:
                changes.append(note.extra.decode())
            if not select.select([pgconn.socket], [], [], 0)[0]:
                break
        return changes

    def _apply(self, changes: list[str]) -> None:
        for store in list(self.stores):
            store.apply(_parse(c) for c in changes)

    def sync(self, timeout: float = 10.0) -> None:
        """Take in every change committed before this call: a notice of its own, sent now, comes
        after all of them (notices are delivered in commit order). A point tests can count from."""
        token = f"sync:{secrets.token_hex(8)}"
        with self.lock:
            if self.conn is None:
                raise RuntimeError("no live change feed to sync")
            self.conn.execute(f"NOTIFY {CHANNEL}, '{token}'")
            deadline, heard = time.monotonic() + timeout, self._take_in()
            while token not in heard:
                if not select.select([self.conn.pgconn.socket], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise TimeoutError(f"the change feed did not hear its own notice within {timeout} s")
                heard += self._take_in()
        self._apply([c for c in heard if c != token])

    def close(self) -> None:
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def _parse(notice: str) -> tuple[str, str | None]:
    table, _, part = notice.partition(":")
    return table, part or None


_feeds: dict[str, Feed] = {}


def close_feeds() -> None:
    """Stop listening (a test about to copy its database, which must have no connections)."""
    for feed in _feeds.values():
        feed.close()


def feed_for(url: str) -> Feed:
    feed = _feeds.get(url)
    if feed is None or feed.pid != os.getpid():  # a forked child listens on a connection of its own
        feed = _feeds[url] = Feed(url)
    return feed


class Store:
    """One app's copies: name → key → (part, value). `generation` moves with every change a name
    hears of, so a copy read while a change went by is not kept (it may predate the change)."""

    def __init__(self):
        self.copies: dict[str, dict] = defaultdict(dict)
        self.generation: dict[str, int] = defaultdict(int)

    def clear(self) -> None:
        for name in list(self.copies):
            self.copies[name] = {}
            self.generation[name] += 1

    def apply(self, changes) -> None:
        for table, part in changes:
            for name, (by_part, whole) in WATCHES.items():
                if table in whole or (table in by_part and part is None):
                    self.copies[name] = {}
                elif table in by_part:
                    self.copies[name] = {k: v for k, v in self.copies[name].items() if str(v[0]) != part}
                else:
                    continue
                self.generation[name] += 1


def init_changes(app: Flask, listen_url: str | None) -> None:
    """Keep copies in this app when it runs on PostgreSQL (`listen_url`, a direct connection:
    LISTEN does not pass a pooler in transaction mode); take in the changes before each request."""
    store = app.extensions["changes"] = Store()
    if not listen_url:
        return
    feed = None

    @app.before_request
    def take_in_changes():
        nonlocal feed
        if feed is None or feed.pid != os.getpid():
            feed = feed_for(listen_url)
            feed.stores.add(store)
        g.changes_live = feed.poll()


def _store() -> Store | None:
    if not has_request_context() or not g.get("changes_live"):
        return None
    return current_app.extensions.get("changes")


def kept(name: str, key: Hashable, make: Callable, part: Callable) -> object:
    """The copy of `name` under `key`, or `make()` kept as one (not when it is None, nor while
    the feed is down, nor in a transaction that wrote a table the copy depends on)."""
    store = _store()
    if store is None or _written_here(name):
        return make()
    copies = store.copies[name]
    hit = copies.get(key)
    if hit is not None:
        return hit[1]
    generation = store.generation[name]
    value = make()
    if value is not None and store.generation[name] == generation:
        if len(copies) >= MAX_ENTRIES:
            copies = store.copies[name] = {}
        copies[key] = (part(value), value)
    return value


def detached_copy(obj):
    """A copy of a loaded row that no session holds: safe to share between threads and requests."""
    state = inspect(obj)
    copy = state.mapper.class_manager.new_instance()
    for attr in state.mapper.column_attrs:
        if attr.key in state.dict:  # a deferred column not read stays unread (loaded when asked)
            setattr(copy, attr.key, state.dict[attr.key])
    make_transient_to_detached(copy)
    return copy


def attach(copy):
    """The request's own instance of a kept row, in its session, without a statement. One the
    session holds already wins: it may carry changes of this transaction a copy must not undo."""
    if copy is None:
        return None
    held = db.identity_map.get(inspect(copy).key)
    return held if held is not None else db.merge(copy, load=False)


def _written_here(name: str) -> bool:
    if not db.registry.has():
        return False
    written = db().info.get(_WRITTEN)
    if not written:
        return False
    by_part, whole = WATCHES[name]
    return any(table in by_part or table in whole for table, _ in written)


@event.listens_for(Session, "before_flush")
def _note_rows(session, _ctx, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in TABLES:
            session.info.setdefault(_WRITTEN, set()).add((table, getattr(obj, TABLES[table], None)))


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state) -> None:
    if state.is_update or state.is_delete:  # a bulk statement: which rows is not known here
        for mapper in state.all_mappers:
            if mapper.local_table.name in TABLES:
                state.session.info.setdefault(_WRITTEN, set()).add((mapper.local_table.name, None))


@event.listens_for(Session, "after_commit")
def _drop_own_writes(session) -> None:
    """This process's own writes are dropped at once: its next request may come before the
    notice does."""
    written = session.info.pop(_WRITTEN, None)
    if written and has_app_context():
        store = current_app.extensions.get("changes")
        if store is not None:
            store.apply((t, None if p is None else str(p)) for t, p in written)


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:  # rolled back (a commit took them above); savepoints keep them
        session.info.pop(_WRITTEN, None)
