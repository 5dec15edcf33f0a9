"""Sign-in throttling (issue 16, after OWASP's Authentication Cheat Sheet): wrong passwords slow
down whoever types them, with growing waits answered as 429 with Retry-After, and never lock the
owner out from elsewhere nor lock out the colleagues behind the same address. Time is the test's
clock (support/clock.py), never the machine's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import PASSWORD, csrf_token
from support.clock import START, signing_in_at

ATTACKER, OWNER_HOME, OFFICE = "10.66.0.1", "10.1.0.1", "10.2.0.1"  # the office is one NAT address
WRONG = "nope-nope-nope"


@pytest.fixture
def clock(monkeypatch):
    return signing_in_at(monkeypatch, START)


def attempt(app, username, password, ip):
    client = app.test_client()
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": ip})


def fail(app, clock, username, ip, times):
    """`times` wrong passwords that are counted: each waits out the delay the last one earned."""
    for _ in range(times):
        resp = attempt(app, username, WRONG, ip)
        assert resp.status_code in (401, 429)
        if resp.status_code == 429:
            clock.now += timedelta(seconds=int(resp.headers["Retry-After"]))
            assert attempt(app, username, WRONG, ip).status_code == 401


def test_an_attackers_wrong_passwords_do_not_stop_the_owner_signing_in_from_elsewhere(app, world, clock):
    for _ in range(6):
        attempt(app, "yanshan-staff", WRONG, ATTACKER)
    assert attempt(app, "yanshan-staff", PASSWORD, OWNER_HOME).status_code == 302


def test_failures_against_accounts_behind_an_address_do_not_stop_a_colleague_there(app, world, clock):
    for name in ("yanshan-staff", "yanshan-member", "langshan-admin", "lixia-admin", "guangwumen-staff", "nobody"):
        for _ in range(5):
            attempt(app, name, WRONG, OFFICE)  # thirty wrong passwords from the office's address
    assert attempt(app, "yanshan-admin", PASSWORD, OFFICE).status_code == 302


def test_thirty_counted_failures_against_one_account_do_not_stop_a_colleague_behind_that_address(app, world, clock):
    fail(app, clock, "yanshan-staff", OFFICE, 30)
    assert attempt(app, "yanshan-admin", PASSWORD, OFFICE).status_code == 302
    refused = attempt(app, "yanshan-staff", PASSWORD, OFFICE)  # the attacked account from there still waits
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_attacker_is_slowed_by_growing_waits_even_with_the_right_password(app, world, clock):
    from shangliang.accounts import throttle

    assert attempt(app, "yanshan-staff", WRONG, ATTACKER).status_code == 401
    assert attempt(app, "yanshan-staff", WRONG, ATTACKER).status_code == 401  # a typo or two costs nothing
    waits = []
    for _ in range(4):
        assert attempt(app, "yanshan-staff", WRONG, ATTACKER).status_code == 401
        resp = attempt(app, "yanshan-staff", PASSWORD, ATTACKER)  # within the wait: refused all the same
        assert resp.status_code == 429
        waits.append(int(resp.headers["Retry-After"]))
        clock.now += timedelta(seconds=waits[-1])
    assert waits == [1, 2, 4, 8]
    assert attempt(app, "yanshan-staff", PASSWORD, ATTACKER).status_code == 302  # waited: in
    assert throttle.CAP == timedelta(minutes=15)


def test_every_429_carries_retry_after_and_says_in_chinese_when_to_try_again(app, world, clock):
    fail(app, clock, "yanshan-staff", ATTACKER, 5)
    resp = attempt(app, "yanshan-staff", PASSWORD, ATTACKER)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "4"
    html = resp.get_data(as_text=True)
    assert "请 4 秒后再试" in html
    assert "等待时间随错误次数增加" in html  # how it works, said where it is met


def test_an_address_trying_many_accounts_waits_for_unknown_ones_but_not_for_colleagues_known_there(app, world,
                                                                                                  clock):
    from shangliang.accounts import throttle

    assert attempt(app, "yanshan-admin", PASSWORD, OFFICE).status_code == 302  # she signs in at the office
    for i in range(throttle.ADDRESS_ACCOUNTS):
        attempt(app, f"guess-{i}", WRONG, OFFICE)  # password spraying: one try at each of many accounts
    resp = attempt(app, "lixia-admin", PASSWORD, OFFICE)  # never signed in from there: waits
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert attempt(app, "yanshan-admin", PASSWORD, OFFICE).status_code == 302  # known there: not held up
    assert attempt(app, "lixia-admin", PASSWORD, OWNER_HOME).status_code == 302  # nor from elsewhere
    clock.now += timedelta(seconds=1)
    assert attempt(app, "lixia-admin", PASSWORD, OFFICE).status_code == 302


def test_failures_are_counted_exactly_under_parallel_requests(app, world, clock):
    from support.parallel import PEOPLE, in_parallel

    from shangliang.accounts import throttle
    from shangliang.accounts.models import SignInCount
    from shangliang.core.db import db
    from shangliang.core.web import address_key

    with app.test_request_context("/"):
        where = address_key(ATTACKER)
    in_parallel(app, world, lambda i: throttle.failed("yanshan-staff", where))
    with app.app_context():
        counted = dict(db.execute(select(SignInCount.account, SignInCount.failures)
                                  .where(SignInCount.address == where)).all())
    assert counted == {"yanshan-staff": PEOPLE, throttle.ANY: 1}  # one account tried from that address
