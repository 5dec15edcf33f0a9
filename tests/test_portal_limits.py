"""The portal's limits hold under parallel requests (issue 16): 20 residents' forms from one address
sent at once over real HTTP, against a per-address limit of 5, are 5 topics and 15 refusals (429 with
Retry-After), on SQLite and on PostgreSQL. The limits' clock stands still meanwhile: a window that
ends during the test would let more through and prove nothing."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timezone

import pytest
import requests

import factories
from support.browser import live_server  # noqa: F401
from support.clock import stopped_at
from test_portal import FORM, topics_in

PARALLEL = 20
# Mid-window for every limit (hours and quarter hours): nothing rolls over while the test runs.
NOW = datetime(2026, 12, 9, 10, 7, 30, tzinfo=timezone.utc)


@pytest.fixture
def street(app, world, monkeypatch):
    from shangliang.core.db import db
    from shangliang.portal import limits, operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 0)
    stopped_at(monkeypatch, NOW)
    monkeypatch.setattr(limits, "utcnow", lambda: NOW)
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    return world.yanshan


def _forms(base: str, n: int) -> list[tuple[requests.Session, dict]]:
    """n residents' forms, each fetched as a browser fetches it (its own session, CSRF and form token)."""
    out = []
    for i in range(n):
        s = requests.Session()
        html = s.get(f"{base}/t/yanshan/raise", timeout=30).text
        fields = {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
                  for name in ("csrf_token", "form_token")}
        out.append((s, {**fields, **FORM, "title": f"第 {i} 件"}))
    return out


def _all_at_once(url: str, forms) -> list[requests.Response]:
    gate, answers = threading.Barrier(len(forms)), [None] * len(forms)

    def send(i):
        session, data = forms[i]
        gate.wait()
        answers[i] = session.post(url, data=data, timeout=60)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(forms))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return answers


def test_parallel_submissions_from_one_address_hold_the_per_address_limit(app, street, live_server):  # noqa: F811
    from shangliang.portal.operations import PER_ADDRESS

    assert PER_ADDRESS.count == 5
    answers = _all_at_once(f"{live_server}/t/yanshan/raise", _forms(live_server, PARALLEL))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [429] * 15, (codes.count(201), codes.count(429))
    refused = [a for a in answers if a.status_code == 429]
    # The window is the clock hour: at 10:07:30 it ends in 52.5 minutes.
    assert {a.headers.get("Retry-After") for a in refused} == {"3150"}
    assert all("提交过于频繁" in a.text for a in refused)
    assert len(topics_in(app, street)) == 5
    # Nothing refused was counted: not towards the address, nor towards the street's limit.
    assert counts(app) == {"raise.address": 5, "raise.address.all": 5, "raise.tenant": 5}
    later = _all_at_once(f"{live_server}/t/yanshan/raise", _forms(live_server, 1))
    assert later[0].status_code == 429 and later[0].headers["Retry-After"] == "3150"  # the same window
    assert counts(app)["raise.tenant"] == 5


def counts(app) -> dict:
    from sqlalchemy import select

    from shangliang.core.db import db
    from shangliang.portal.models import ThrottleCount

    with app.app_context():
        rows = db.execute(select(ThrottleCount.bucket, ThrottleCount.n)).all()
        db.remove()
    return dict(rows)


def _follow_forms(base: str, guesses: list[tuple[str, str]]):
    out = []
    for code, last4 in guesses:
        s = requests.Session()
        html = s.get(f"{base}/t/yanshan/follow", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        out.append((s, {"csrf_token": token, "code": code, "last4": last4}))
    return out


def test_parallel_receipt_guesses_hold_the_look_up_limit_and_a_found_one_is_not_counted(app, street,
                                                                                          live_server):  # noqa: F811
    from shangliang.portal.operations import LOOKUP_FAILURES

    made = _all_at_once(f"{live_server}/t/yanshan/raise", _forms(live_server, 1))[0]
    code = re.search(r'id="receipt-code">([0-9A-Z-]+)<', made.text).group(1)
    found = _all_at_once(f"{live_server}/t/yanshan/follow", _follow_forms(live_server, [(code, "5678")] * 3))
    assert [a.status_code for a in found] == [200] * 3
    assert counts(app)["follow.failures"] == 0  # each look-up counted before it was made, and given back
    guesses = [(f"AAAAA-{i:05d}", "5678") for i in range(LOOKUP_FAILURES.count + 5)]
    answers = _all_at_once(f"{live_server}/t/yanshan/follow", _follow_forms(live_server, guesses))
    codes = [a.status_code for a in answers]
    assert sorted(codes) == [400] * LOOKUP_FAILURES.count + [429] * 5, codes
    assert {a.headers["Retry-After"] for a in answers if a.status_code == 429} == {"450"}  # 10:07:30 → 10:15
    right = _all_at_once(f"{live_server}/t/yanshan/follow", _follow_forms(live_server, [(code, "5678")]))[0]
    assert right.status_code == 429 and "查询失败次数过多" in right.text
