"""The board's counts per step (topics/counts.py) agree with the topics after every kind of change:
intake, moves, escalation, transfer, 复盘, closing, 不予受理, the overdue job, a move that loses its
race, and topics written in bulk then counted again."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import factories
from shangliang.core.db import db, utcnow
from shangliang.core.errors import Refused
from shangliang.core.tenancy import tenant_context
from shangliang.topics import counts
from shangliang.topics import operations as ops
from shangliang.topics.models import Topic, TopicStepCount
from shangliang.topics.tasks import mark_overdue
from support.clock import stopped_at

STATUSES = ("open", "overdue", "closed", "all")


def counted_from_topics(status: str) -> dict[str, int]:
    """What the board's status filter shows, counted from the topics themselves."""
    stmt = select(Topic.step_key, func.count()).group_by(Topic.step_key)
    if status == "overdue":
        stmt = stmt.where(Topic.status == "open", Topic.overdue.is_(True))
    elif status in ("open", "closed"):
        stmt = stmt.where(Topic.status == status)
    return dict(db.execute(stmt).all())


def assert_counts_agree(street) -> dict[str, dict[str, int]]:
    with tenant_context(street.id):
        seen = {status: counts.by_step(status) for status in STATUSES}
        assert seen == {status: counted_from_topics(status) for status in STATUSES}
    return seen


@pytest.fixture
def street(app, world):
    with app.app_context():
        factories.procedure(world.yanshan)
        db.commit()
    return world.yanshan


def test_counts_follow_every_move_closure_and_the_overdue_job(app, street, monkeypatch):
    clock = stopped_at(monkeypatch, utcnow() - timedelta(days=3))  # 点单's 24 hours are long past by now
    with app.app_context():
        topics = [factories.raise_topic(street, title=f"议题 {i}") for i in range(7)]
        assert assert_counts_agree(street)["open"] == {"dian": 7}
        factories.advance(street, topics[0])  # 点单 → 商单
        factories.act(street, topics[1], "close_out_of_scope", to="shou", data={"reason": "不属于本街道"})
        factories.topic_at(street, "shou", title="办结的议题")
        assert assert_counts_agree(street)["open"] == {"dian": 5, "shang": 1, "shou": 1}
        factories.advance(street, factories.topic_at(street, "shou", title="又一个"))  # 办结
        factories.act(street, topics[0], "escalate", data={"reason": "需街道协调"})  # stays at 商单
        factories.act(street, topics[0], "transfer", to="shang", data=factories.transfer_to(street, "城管中心"))
        unsatisfied = factories.topic_at(street, "ping", title="不满意")
        factories.act(street, unsatisfied, "rate", data={"level": "unsatisfied", "solved": False, "valid": True})
        factories.act(street, unsatisfied, "reopen", to="shang")  # 复盘: back to 商单
        seen = assert_counts_agree(street)
        assert seen["open"] == {"dian": 5, "shang": 2, "shou": 1}
        assert seen["closed"] == {"shou": 2}
        db.commit()

        clock.now = utcnow()
        with tenant_context(street.id):
            mark_overdue.work(street.id)  # the five left at 点单 (24 hours); 商单's 5 working days are not up
        seen = assert_counts_agree(street)
        assert seen["overdue"] == {"dian": 5} and seen["open"] == {"dian": 5, "shang": 2, "shou": 1}
        factories.advance(street, topics[2])  # moved on: on time again at its new step
        seen = assert_counts_agree(street)
        assert seen["overdue"] == {"dian": 4} and seen["all"] == {"dian": 4, "shang": 3, "shou": 3}


def test_the_board_shows_the_counts_of_its_status_filter(app, street, as_user, monkeypatch):
    stopped_at(monkeypatch, utcnow() - timedelta(days=3))
    with app.app_context():
        for i in range(3):
            factories.raise_topic(street, title=f"议题 {i}")
        factories.act(street, factories.raise_topic(street), "close_out_of_scope", to="shou", data={"reason": "重复"})
        with tenant_context(street.id):
            mark_overdue.work(street.id)
        db.commit()
    board = as_user("yanshan-admin")

    def shown(query=""):
        html = board.get(f"/t/yanshan/topics/{query}").get_data(as_text=True)
        return dict(re.findall(r'<span>(点单|商单|评单|收单)</span>\s*<span class="counts">(?:<span class="late"[^>]*>[^<]*</span>)?<span class="count">(\d+)</span>', html))

    assert shown() == {"点单": "3", "商单": "0", "评单": "0", "收单": "0"}
    assert shown("?status=overdue")["点单"] == "3"
    assert shown("?status=closed") == {"点单": "0", "商单": "0", "评单": "0", "收单": "1"}
    assert shown("?status=all")["收单"] == "1"
    assert shown("?channel=hotline_12345&status=all") == {"点单": "0", "商单": "0", "评单": "0", "收单": "0"}


def test_a_move_that_loses_its_race_leaves_the_counts_as_they_were(app, street):
    with app.app_context():
        topic = factories.raise_topic(street)
        db.commit()
        with tenant_context(street.id):
            before = counts.by_step("all")
            # Someone else changed the topic meanwhile: its version moved on behind this session's back.
            db.execute(update(Topic).where(Topic.id == topic.id).values(version=Topic.version + 1)
                       .execution_options(synchronize_session=False))
            with pytest.raises(Refused) as refused:
                ops.act(street, None, factories.EVERYONE, topic, "close_out_of_scope", expected_version=topic.version,
                        to="shou", data={"reason": "重复"})
            assert refused.value.code == "conflict"
        assert assert_counts_agree(street)["all"] == before == {"dian": 1}


def test_topics_written_in_bulk_are_counted_again(app, street):
    with app.app_context():
        for i in range(4):
            factories.raise_topic(street, title=f"议题 {i}")
        factories.topic_at(street, "ping")
        db.commit()
        with tenant_context(street.id):
            truth = counts.by_step("all")
            db.execute(update(TopicStepCount).values(topics=99))  # as if rows had been slipped in past act()
            assert counts.by_step("all") != truth
            counts.recount(street.id)
        assert assert_counts_agree(street)["all"] == truth == {"dian": 4, "ping": 1}
