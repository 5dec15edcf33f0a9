"""What a web process keeps of the rows every request reads (core/changes.py): nothing read again
while nothing changed, and whatever changed, wherever (another process, a hand-written SQL
statement, a trigger), seen at the next request. Changes "elsewhere" are made on a connection of
their own, as the table owner, and the test waits for the notice to reach the process's socket
(not a sleep): the request that follows must take it in by itself."""
from __future__ import annotations

import select

import pytest
from flask import g
from sqlalchemy import create_engine, text

from shangliang.core import changes
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import TENANTS, by_slug

PAGE = "/t/yanshan/manage/members"  # a signed-in page of yanshan's staff
KEPT_READS = ("FROM auth_sessions", "FROM tenants \nWHERE tenants.slug", "FROM procedure_versions")


def feed(app):
    return changes.feed_for(app.config["SHANGLIANG"].listen_url)


def elsewhere(app, sql: str, **params) -> None:
    """A write committed by another connection, then the notice waited for on the feed's socket."""
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.begin() as c:
            c.execute(text(sql), params)
    finally:
        engine.dispose()
    readable, _, _ = select.select([feed(app).conn.pgconn.socket], [], [], 10)
    assert readable, "no change notice reached the process within 10 s"


def kept_reads(query_counter, client, url, status=200) -> list[str]:
    with query_counter() as stmts:
        assert client.get(url).status_code == status
    return [s for s in stmts if any(k in s for k in KEPT_READS)]


@pytest.mark.services
def test_a_signed_in_request_reads_no_session_nor_tenant_while_neither_changes(app, as_user, world,
                                                                             query_counter):
    from shangliang.procedures.operations import publish
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        db.commit()
    staff = as_user("yanshan-staff")
    staff.get(PAGE)
    assert kept_reads(query_counter, staff, PAGE) == []
    staff.get("/t/yanshan/topics/")
    assert kept_reads(query_counter, staff, "/t/yanshan/topics/") == []  # the procedure too, once read


def test_embedded_sqlite_keeps_nothing_and_reads_every_time(app, as_user, world, query_counter):
    if not app.config["SHANGLIANG"].embedded:
        pytest.skip("the embedded mode's own behaviour")
    staff = as_user("yanshan-staff")
    staff.get(PAGE)
    assert any("FROM auth_sessions" in s for s in kept_reads(query_counter, staff, PAGE))


@pytest.mark.services
@pytest.mark.parametrize("change, sql, status", [
    ("a session ended", "DELETE FROM auth_sessions WHERE user_id = :u", 302),
    ("an account disabled", "UPDATE users SET is_active = false WHERE id = :u", 302),
    ("a role revoked", "DELETE FROM memberships WHERE user_id = :u AND tenant_id = :t", 404),
])
def test_a_change_of_the_person_made_elsewhere_is_seen_at_the_next_request(app, as_user, world, change, sql,
                                                                          status):
    staff = as_user("yanshan-staff")
    assert staff.get(PAGE).status_code == 200
    elsewhere(app, sql, u=world.users["yanshan-staff"].id, t=world.yanshan.id)
    assert staff.get(PAGE).status_code == status, change


@pytest.mark.services
def test_a_street_archived_elsewhere_is_gone_at_the_next_request_for_staff_and_residents(app, as_user, world):
    staff, resident = as_user("yanshan-staff"), app.test_client()
    assert staff.get(PAGE).status_code == 200 and resident.get("/t/yanshan/").status_code == 200
    elsewhere(app, "UPDATE tenants SET status = 'archived' WHERE id = :t", t=world.yanshan.id)
    assert staff.get(PAGE).status_code == 404
    assert resident.get("/t/yanshan/").status_code == 404


@pytest.mark.services
def test_a_street_renamed_elsewhere_shows_its_new_name_at_the_next_request(app, world):
    resident = app.test_client()
    assert "燕山街道" in resident.get("/t/yanshan/").get_data(as_text=True)
    elsewhere(app, "UPDATE tenants SET name = '燕山新街道' WHERE id = :t", t=world.yanshan.id)
    assert "燕山新街道" in resident.get("/t/yanshan/").get_data(as_text=True)


def test_a_procedure_published_by_this_process_is_on_the_board_at_once(app, as_user, world):
    from shangliang.procedures.operations import publish
    from support.procedures import SMALL

    staff = as_user("yanshan-staff")
    staff.get("/t/yanshan/topics/")
    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL.replace("{zh: 商单", "{zh: 新商单"))
        db.commit()
    assert "新商单" in staff.get("/t/yanshan/topics/").get_data(as_text=True)


@pytest.mark.services
def test_a_lost_feed_forgets_what_it_kept_and_listens_again(app, as_user, world, monkeypatch):
    staff = as_user("yanshan-staff")
    assert staff.get(PAGE).status_code == 200
    monkeypatch.setattr(changes, "RETRY", 0.0)
    listener = feed(app).conn
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.begin() as c:  # as a database restart would: the listening session is gone
            c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.info.backend_pid})
        readable, _, _ = select.select([listener.pgconn.socket], [], [], 10)
        assert readable
        with engine.begin() as c:  # a change nobody hears of
            c.execute(text("DELETE FROM auth_sessions WHERE user_id = :u"), {"u": world.users["yanshan-staff"].id})
    finally:
        engine.dispose()
    assert staff.get(PAGE).status_code == 302  # read, not kept: signed out
    staff.get("/login")
    assert feed(app).conn is not None and feed(app).conn is not listener  # listening again
    assert not feed(app).conn.closed


@pytest.mark.services
def test_nothing_is_kept_from_a_transaction_that_wrote_the_rows(app, world):
    with app.test_request_context("/"):
        g.changes_live = True
        tenant = db.get(Tenant, world.yanshan.id)
        tenant.name = "未提交的名字"
        db.flush()
        assert by_slug("yanshan").name == "未提交的名字"  # this transaction's own view
        assert app.extensions["changes"].copies[TENANTS] == {}
        db.rollback()
        assert by_slug("yanshan").name == "燕山街道"  # rolled back: read again, and now kept
        assert "yanshan" in app.extensions["changes"].copies[TENANTS]


def test_a_copy_read_while_a_change_went_by_is_not_kept(app):
    """A read that may predate a change: the change's notice arrived while it ran."""
    store = app.extensions["changes"]
    with app.test_request_context("/"):
        g.changes_live = True

        def read_during_a_change():
            store.apply([("tenants", "7")])
            return "old"

        assert changes.kept(TENANTS, "x", read_during_a_change, part=lambda _: 7) == "old"
        assert "x" not in store.copies[TENANTS]
        assert changes.kept(TENANTS, "x", lambda: "new", part=lambda _: 7) == "new"
        assert changes.kept(TENANTS, "x", lambda: "newer", part=lambda _: 7) == "new"  # kept
        store.apply([("tenants", "8")])  # another tenant's change
        assert "x" in store.copies[TENANTS]
        store.apply([("tenants", "7")])
        assert "x" not in store.copies[TENANTS]


@pytest.mark.services
def test_every_watched_table_sends_notices(app, world):
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.connect() as c:
            triggers = set(c.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    finally:
        engine.dispose()
    assert {f"{t}_changed" for t in changes.TABLES} <= triggers


@pytest.mark.services
def test_a_kept_row_never_undoes_a_change_the_request_holds(app, world):
    with app.test_request_context("/"):
        g.changes_live = True
        tenant = by_slug("yanshan")  # read, and kept
        assert "yanshan" in app.extensions["changes"].copies[TENANTS]
        tenant.name = "尚未写入的名字"  # changed in the session, not flushed
        assert by_slug("yanshan") is tenant and tenant.name == "尚未写入的名字"
        db.rollback()


@pytest.mark.services
def test_a_feed_the_server_says_goodbye_to_is_lost_before_its_end_of_file_arrives(app, monkeypatch):
    """The server's FATAL message and the closed socket may reach the process apart: the message
    alone must do (else one request could still be answered from what the feed kept)."""
    feed = changes.Feed(app.config["SHANGLIANG"].listen_url)
    assert feed.poll()
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.begin() as c:
            c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": feed.conn.info.backend_pid})
    finally:
        engine.dispose()
    readable, _, _ = select.select([feed.conn.pgconn.socket], [], [], 10)
    assert readable
    monkeypatch.setattr(changes.select, "select", lambda *_a: ([], [], []))  # no end of file seen yet
    assert feed.poll() is False and feed.conn is None


@pytest.mark.services
def test_sync_takes_in_every_change_committed_before_it(app, world):
    """Feed.sync: a change committed elsewhere is taken in by the time sync returns, with no wait
    on the socket first (tests count statements from that point)."""
    resident = app.test_client()
    assert "燕山街道" in resident.get("/t/yanshan/").get_data(as_text=True)
    store = app.extensions["changes"]
    assert store.copies.get("tenants"), "the tenant of the path is kept"
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.begin() as c:
            c.execute(text("UPDATE tenants SET name = '燕山新街道' WHERE id = :t"), {"t": world.yanshan.id})
    finally:
        engine.dispose()
    feed(app).sync()
    assert not any(str(part) == str(world.yanshan.id) for part, _v in store.copies["tenants"].values())
    assert "燕山新街道" in resident.get("/t/yanshan/").get_data(as_text=True)


@pytest.mark.services
def test_a_notice_that_arrives_with_the_feeds_ping_is_not_lost(app, world):
    """Every 10 s the feed speaks to the server (a dead peer shows only then); psycopg hands any
    notice it reads with that answer to the connection's notify handlers, not to the queue the
    feed reads: a change then must still drop the copy."""
    resident = app.test_client()
    assert "燕山街道" in resident.get("/t/yanshan/").get_data(as_text=True)
    elsewhere(app, "UPDATE tenants SET name = '燕山新街道' WHERE id = :t", t=world.yanshan.id)  # in the socket
    feed(app).pinged = 0.0  # the next poll pings first
    assert "燕山新街道" in resident.get("/t/yanshan/").get_data(as_text=True)
