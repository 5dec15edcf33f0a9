"""Sessions end after SESSION_IDLE_MINUTES without a request (issue 16), besides 12 hours after
sign-in. The last request's time is written at most once a minute, in a transaction of its own,
and sends no change notice: a signed-in page still reads no session while nothing changes. Time is
the test's clock (support/clock.py)."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, update

from conftest import changes_settled, login
from shangliang.accounts.models import AuthSession
from shangliang.core.db import db
from support.clock import START, signing_in_at

PAGE = "/t/yanshan/manage/members"
IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录"


@pytest.fixture
def clock(monkeypatch):
    return signing_in_at(monkeypatch, START)


@pytest.fixture
def staff(app, world, clock):
    client = app.test_client()
    login(client, "yanshan-staff")
    return client


def sessions_of(app, world, name="yanshan-staff") -> int:
    with app.app_context():
        return db.scalar(select(func.count()).select_from(AuthSession)
                         .where(AuthSession.user_id == world.users[name].id))


def session_writes(statements) -> list[str]:
    return [s for s in statements if s.startswith(("UPDATE auth_sessions", "DELETE FROM auth_sessions"))]


def test_a_session_idle_past_the_limit_ends_and_the_sign_in_page_says_why(app, world, clock, staff):
    clock.now += timedelta(minutes=29)  # the default limit: 30 minutes
    assert staff.get(PAGE).status_code == 200
    clock.now += timedelta(minutes=29)  # 58 minutes after signing in, 29 after the last request
    assert staff.get(PAGE).status_code == 200
    clock.now += timedelta(minutes=31)
    resp = staff.get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.location
    assert IDLE_MESSAGE in staff.get(resp.location).get_data(as_text=True)
    assert sessions_of(app, world) == 0  # ended, not merely refused
    assert staff.get(PAGE).status_code == 302


def test_the_idle_limit_is_a_setting(app, world, clock, staff):
    app.config["SHANGLIANG"] = dataclasses.replace(app.config["SHANGLIANG"], session_idle_minutes=5)
    clock.now += timedelta(minutes=6)
    assert staff.get(PAGE).status_code == 302


def test_the_sign_in_page_says_sessions_end_when_idle(client, world):
    assert "30 分钟内没有操作将自动退出登录" in client.get("/login").get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(app, world, clock, staff, query_counter):
    staff.get(PAGE)
    clock.now += timedelta(seconds=59)
    with query_counter() as stmts:
        assert staff.get(PAGE).status_code == 200
    assert session_writes(stmts) == []
    clock.now += timedelta(seconds=2)
    with query_counter() as stmts:
        assert staff.get(PAGE).status_code == 200
    writes = session_writes(stmts)
    assert len(writes) == 1 and writes[0].startswith("UPDATE auth_sessions SET last_seen_at="), writes
    with query_counter() as stmts:
        assert staff.get(PAGE).status_code == 200
    assert session_writes(stmts) == []


def test_a_request_seen_by_another_process_keeps_the_session_alive_here(app, world, clock, staff):
    """This process's copy of the session is older than the one in the database: the row decides."""
    staff.get(PAGE)
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)
    try:
        with engine.begin() as c:  # another web process saw a request 25 minutes in
            c.execute(update(AuthSession.__table__).values(last_seen_at=clock.now + timedelta(minutes=25)))
    finally:
        engine.dispose()
    clock.now += timedelta(minutes=40)
    assert staff.get(PAGE).status_code == 200
    assert sessions_of(app, world) == 1


@pytest.mark.services
def test_writing_last_seen_costs_a_signed_in_page_no_read_of_its_session(app, world, clock, staff, query_counter):
    staff.get(PAGE)
    clock.now += timedelta(minutes=2)
    assert staff.get(PAGE).status_code == 200  # writes last seen
    changes_settled(app)  # had the write sent a change notice, it would have been taken in by now
    with query_counter() as stmts:
        assert staff.get(PAGE).status_code == 200
    assert [s for s in stmts if "auth_sessions" in s] == []
