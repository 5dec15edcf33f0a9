"""督办: a county or a street's 党工委 supervises an overdue or referred topic with a note and a new
due time; the people who answer for it are told, and the board counts it as on time again."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.topics.counts import by_step
from shangliang.topics.models import Supervision, Topic
from shangliang.topics.tasks import mark_overdue
from support.clock import START, stopped_at


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def overdue_topic(app, world, clock) -> int:
    with app.app_context():
        factories.procedure(world.yanshan)
        topic = factories.raise_topic(world.yanshan, title="路灯不亮一个月")  # 点单: 24 hours
        db.commit()
        clock.now = START + timedelta(days=2)
        with tenant_context(world.yanshan.id):
            mark_overdue.work(world.yanshan.id)
        db.commit()
        return topic.number


def topic(app, world, number) -> Topic:
    with app.app_context(), tenant_context(world.yanshan.id):
        return db.scalar(select(Topic).where(Topic.number == number))


def test_a_county_supervises_an_overdue_topic_with_a_new_due_date(app, as_user, world, monkeypatch):
    clock = stopped_at(monkeypatch, START)
    number = overdue_topic(app, world, clock)
    assert topic(app, world, number).overdue
    county, url = as_user("lixia-admin"), f"/t/yanshan/topics/{number}/supervise"
    assert "督办意见" in county.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    resp = post(county, url, note="", due_on=(START + timedelta(days=5)).date().isoformat())
    assert resp.status_code == 400 and "请写明督办意见" in resp.get_data(as_text=True)
    resp = post(county, url, note="请三日内修复", due_on="2001-01-01")
    assert resp.status_code == 400 and "期限不能早于今天" in resp.get_data(as_text=True)
    assert "请三日内修复" in resp.get_data(as_text=True)  # what was typed is kept
    due = (START + timedelta(days=5)).date().isoformat()
    assert post(county, url, note="请街道城管中心三日内修复", due_on=due).status_code == 302

    t = topic(app, world, number)
    assert not t.overdue and t.due_at > clock.now
    with app.app_context(), tenant_context(world.yanshan.id):
        (row,) = db.scalars(select(Supervision)).all()
        assert row.level == "county" and row.note == "请街道城管中心三日内修复"
        assert by_step("overdue").get(t.step_key, 0) == 0  # the board's counts moved with it
        told = db.scalars(select(Notification.title).where(Notification.kind == "topic.supervised")).all()
    assert told and all("被督办" in t for t in told)
    page = as_user("yanshan-staff").get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "区县督办" in page and "请街道城管中心三日内修复" in page
    assert f"新期限 {due}" in page  # the day the county named, not the midnight ending it (the next day)


def test_only_overdue_or_referred_topics_are_supervised_and_only_by_a_level_above(app, as_user, world,
                                                                                 monkeypatch):
    stopped_at(monkeypatch, START)
    with app.app_context():
        factories.procedure(world.yanshan)
        number = factories.raise_topic(world.yanshan).number
        db.commit()
    url, due = f"/t/yanshan/topics/{number}/supervise", (START + timedelta(days=5)).date().isoformat()
    resp = post(as_user("lixia-admin"), url, note="催办", due_on=due)
    assert resp.status_code == 409 and "只有超时或已提请的议题可以督办" in resp.get_data(as_text=True)
    assert post(as_user("yanshan-member"), url, note="催办", due_on=due).status_code == 403
    assert post(as_user("chengguan-admin"), url, note="催办", due_on=due).status_code == 404


def test_a_street_supervises_a_topic_its_community_referred(app, as_user, world, monkeypatch):
    stopped_at(monkeypatch, START)
    with app.app_context():
        factories.procedure(world.yanshan)
        t = factories.topic_at(world.yanshan, "shang")
        factories.act(world.yanshan, t, "escalate", data={"reason": "协调不动"})
        db.commit()
        number = t.number
    due = (START + timedelta(days=5)).date().isoformat()
    assert post(as_user("yanshan-admin"), f"/t/yanshan/topics/{number}/supervise", note="本周内召开协调会",
                due_on=due).status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(Supervision.level)) == "street"
