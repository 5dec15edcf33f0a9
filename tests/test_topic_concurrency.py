"""Many people at once: one advance wins, the claim limit holds, and the board's counts stay right
(real parallelism on PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import factories
from shangliang.core.errors import Refused
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics import operations as ops
from shangliang.topics.models import Topic
from test_topic_counts import assert_counts_agree
from support.parallel import PEOPLE, in_parallel


@pytest.fixture
def topic_at_consultation(app, world):
    """A topic at 商单 (members and staff act there) and twelve members of the street."""
    with app.app_context():
        factories.procedure(world.yanshan)
        topic = factories.raise_topic(world.yanshan, title="停车难", category="交通", description="小区停车位不足")
        factories.act(world.yanshan, topic, "advance", roles={"staff"}, to="shang")
        members = [factories.login(world.yanshan, "member", f"parallel-{i}", f"委员{i}").id for i in range(PEOPLE)]
        db.commit()
        return topic.number, members


def load(number):
    return db.scalar(select(Topic).where(Topic.number == number))


def test_only_one_of_many_simultaneous_advances_succeeds(app, world, topic_at_consultation):
    number, _members = topic_at_consultation
    with app.app_context(), tenant_context(world.yanshan.id):
        seen = load(number).version

    def advance(i):
        topic = load(number)
        try:
            ops.act(world.yanshan, None, {"staff"}, topic, "escalate", expected_version=seen,
                    data={"reason": f"第 {i} 人"})
            db.commit()
            return "ok"
        except Refused as exc:
            db.rollback()
            return exc.code

    results = in_parallel(app, world, advance)
    assert results.count("ok") == 1 and results.count("conflict") == PEOPLE - 1, results
    with app.app_context(), tenant_context(world.yanshan.id):
        escalations = [e for e in ops.events(load(number)) if e.action == "escalate"]
        assert len(escalations) == 1


def test_the_claim_limit_holds_when_everyone_claims_at_once(app, world, topic_at_consultation):
    number, members = topic_at_consultation

    def claim(i):
        for _ in range(30):  # a person who loses the race reloads and tries again, as the page invites
            topic = load(number)
            try:
                ops.act(world.yanshan, members[i], {"member"}, topic, "claim", expected_version=topic.version)
                db.commit()
                return "claimed"
            except Refused as exc:
                db.rollback()
                if exc.code != "conflict":
                    return exc.code
        return "gave up"

    results = in_parallel(app, world, claim)
    assert results.count("claimed") == ops.MAX_CLAIMANTS, results
    assert results.count("forbidden") == PEOPLE - ops.MAX_CLAIMANTS
    with app.app_context(), tenant_context(world.yanshan.id):
        assert len(ops.claimants(ops.events(load(number)))) == ops.MAX_CLAIMANTS


def test_simultaneous_intakes_all_get_their_own_number(app, world, topic_at_consultation):
    def raise_one(i):
        try:
            topic = ops.create_topic(world.yanshan, None, {"title": f"同时登记 {i}", "channel": "hotline_12345"})
            db.commit()
            return topic.number
        except Refused as exc:
            db.rollback()
            return exc.code

    numbers = in_parallel(app, world, raise_one)
    assert all(isinstance(n, int) for n in numbers), numbers
    assert sorted(numbers) == list(range(2, 2 + PEOPLE))  # topic 1 was made by the fixture
    with app.app_context():
        assert assert_counts_agree(world.yanshan)["open"] == {"dian": PEOPLE, "shang": 1}


def test_simultaneous_moves_between_the_same_steps_keep_the_counts(app, world, topic_at_consultation):
    """Half move their own topic 点单 → 商单 while the other half move theirs 商单 → 评单, then
    everyone tries to move the fixture's topic 商单 → 评单: the counters the moves lock are shared,
    in both directions, and the moves that lose the topic's race count nothing."""
    number, _members = topic_at_consultation
    with app.app_context():
        own = []
        for i in range(PEOPLE):
            topic = factories.raise_topic(world.yanshan, title=f"议题 {i}", category="市政", description="说明")
            if i % 2:
                factories.act(world.yanshan, topic, "advance", roles={"staff"}, to="shang")
            own.append(topic.number)
        with tenant_context(world.yanshan.id):
            for topic_number in [number] + own[1::2]:  # 商单 asks for a consultation record before 评单
                factories.act(world.yanshan, load(topic_number), "consult", roles={"staff"}, data={"agreement": "同意"})
        db.commit()
        with tenant_context(world.yanshan.id):
            seen = load(number).version

    def move(i):
        results = []
        for target, version, to in ((own[i], None, "ping" if i % 2 else "shang"), (number, seen, "ping")):
            topic = load(target)
            try:
                ops.act(world.yanshan, None, {"staff"}, topic, "advance",
                        expected_version=topic.version if version is None else version, to=to)
                db.commit()
                results.append("ok")
            except Refused as exc:
                db.rollback()
                results.append(exc.code)
        return results

    results = in_parallel(app, world, move)
    assert [r[0] for r in results] == ["ok"] * PEOPLE, results
    # Losers are refused: mostly as a conflict; on PostgreSQL one who read the topic just before the
    # winner's commit and its log just after sees the log's new visit, which lacks its evidence.
    assert [r[1] for r in results].count("ok") == 1, results
    assert {r[1] for r in results} - {"ok"} <= {"conflict", "evidence_missing"}, results
    with app.app_context():
        assert assert_counts_agree(world.yanshan)["all"] == {"shang": PEOPLE // 2, "ping": PEOPLE // 2 + 1}
