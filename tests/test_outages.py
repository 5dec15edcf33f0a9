"""The database gone for a while (issue 16): every request answers 503 with Retry-After, a page
saying the service is briefly unavailable (HTML) or the API's error shape, never a 500; and
everything answers again once it is back. PostgreSQL is taken off the network through a TCP proxy
this test starts in front of it (to the app the same as a stopped server: connections drop, new
ones are refused), never by stopping the machine's server."""
from __future__ import annotations

import dataclasses

import pytest

from conftest import login
from shangliang import create_app
from shangliang.core.db import Session
from support.procs import TcpProxy

pytestmark = pytest.mark.services


@pytest.fixture
def cut_off(config, world):
    """An app whose database connections (pool and change feed) pass through a proxy of its own."""
    proxy = TcpProxy(5432)
    proxy.start()
    through = lambda url: url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")  # noqa: E731
    cfg = dataclasses.replace(config, database_url=through(config.database_url),
                              database_listen_url=through(config.listen_url))
    app = create_app(cfg)
    app.config["TESTING"] = True
    yield app, proxy
    Session.remove()
    app.extensions["engine"].dispose()
    proxy.stop()


def test_pages_and_the_api_answer_503_while_the_database_is_away_and_work_again_after(cut_off, world):
    app, proxy = cut_off
    staff, resident = app.test_client(), app.test_client()
    login(staff, "yanshan-staff")
    assert staff.get("/t/yanshan/manage/members").status_code == 200
    assert resident.get("/t/yanshan/").status_code == 200

    proxy.stop()
    for client, url in ((staff, "/t/yanshan/manage/members"), (staff, "/t/yanshan/topics/"),
                        (resident, "/t/yanshan/"), (resident, "/t/yanshan/raise")):
        resp = client.get(url)
        assert resp.status_code == 503, (url, resp.status_code)
        assert resp.headers["Retry-After"].isdigit()
        assert "服务暂时不可用" in resp.get_data(as_text=True)
    api = resident.get("/api/v1/t/yanshan/topics", headers={"Authorization": "Bearer slt_0_x"})
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "service_unavailable"
    assert api.headers["Retry-After"].isdigit()

    proxy.start()
    assert staff.get("/t/yanshan/manage/members").status_code == 200  # the same session, still signed in
    assert resident.get("/t/yanshan/").status_code == 200


def test_a_submission_committed_as_the_database_goes_away_still_shows_its_receipt(cut_off, world, monkeypatch):
    """Nothing read after the commit: the receipt page is drawn before it, and nothing the answer
    needs afterwards (its headers) goes back to the database."""
    from sqlalchemy import create_engine, event, text
    from sqlalchemy.orm import Session as OrmSession

    import factories
    from shangliang.core.db import db
    from shangliang.portal import operations
    from shangliang.topics.models import Topic
    from test_portal import FORM, form_of, receipt_of

    app, proxy = cut_off
    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    resident = app.test_client()
    data = {**form_of(resident), **FORM}

    def wrote(session, _ctx):  # the request's own transaction: the one that adds the topic
        if any(isinstance(row, Topic) for row in session.new):
            session.info["raised"] = True

    def gone(session):  # ... went through: from now on the database is away
        if session.info.pop("raised", False):
            proxy.stop()

    event.listen(OrmSession, "after_flush", wrote)
    event.listen(OrmSession, "after_commit", gone)
    try:
        resp = resident.post("/t/yanshan/raise", data=data)
    finally:
        event.remove(OrmSession, "after_flush", wrote)
        event.remove(OrmSession, "after_commit", gone)
    assert proxy._listener is None  # it did go away, right after the commit
    assert resp.status_code == 201 and receipt_of(resp)
    engine = create_engine(app.config["SHANGLIANG"].database_admin_url)  # the server itself, not the proxy
    try:
        with engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM topics WHERE title = :t"), {"t": FORM["title"]}) == 1
    finally:
        engine.dispose()
