"""Evaluation by several parties, on the procedure's own dimensions: 四环八步's 党政点评, 委员评议 and
群众评议 are each kept and the residents' decides; 提议办评's 时长, 类型 and 成效 are scored, never
dropped; an unknown key is refused by name."""
from __future__ import annotations

import pytest

import factories
from shangliang.core.db import db
from shangliang.core.errors import Refused
from shangliang.core.tenancy import tenant_context
from shangliang.procedures.schema import ProcedureInvalid, parse
from shangliang.topics import operations as ops
from support.procedures import SMALL


def rate(street, topic, roles, user_id=None, **data):
    with tenant_context(street.id):
        return ops.act(street, user_id, set(roles), topic, "rate", expected_version=topic.version, data=data)


def offered(street, topic, roles, user_id=None) -> set[str]:
    with tenant_context(street.id):
        return {a.kind for a in ops.available_actions(topic, set(roles), user_id)}


def test_each_party_evaluates_and_the_residents_decide(app, world):
    street, member = world.yanshan, world.users["yanshan-member"].id
    with app.app_context():
        factories.procedure(street, "sihuan_babu")
        topic = factories.topic_at(street, "jianping")
        rate(street, topic, {"member"}, member, level="unsatisfied", solved="false")  # 委员评议
        assert "reopen" not in offered(street, topic, {"staff"})  # a member's view does not send it back
        with tenant_context(street.id):
            assert ops.missing_evidence(topic, ops.this_visit(topic, ops.events(topic))) == ["rating"]
        with pytest.raises(Refused) as err:  # an administrator speaks for 党政 or, as staff, for residents
            rate(street, topic, {"street_admin"}, None, level="satisfied")
        assert err.value.field == "party" and "党政点评" in err.value.message
        rate(street, topic, {"street_admin"}, None, level="satisfied", party="dangzheng")
        with pytest.raises(Refused) as err:
            rate(street, topic, {"member"}, member, level="satisfied", party="residents")
        assert err.value.field == "party"
        rate(street, topic, {"resident"}, None, level="unsatisfied", solved="false")  # 群众评议
        assert "reopen" in offered(street, topic, {"staff"})
        with tenant_context(street.id):
            log = [e.data for e in ops.events(topic) if e.action == "rate"]
        assert [(d["party"], d["decides"], d["level"]) for d in log] == [
            ("weiyuan", False, "unsatisfied"), ("dangzheng", False, "satisfied"), ("residents", True, "unsatisfied")]
        db.rollback()


def test_every_dimension_is_scored_and_an_unknown_key_is_refused_by_name(app, world):
    street = world.yanshan
    with app.app_context():
        factories.procedure(street, "tiyi_banping")
        topic = factories.topic_at(street, "ping")
        with pytest.raises(Refused) as err:
            rate(street, topic, {"resident"}, level="satisfied", score_duration=4, score_kind=5)
        assert err.value.field == "score_effect" and "成效" in err.value.message
        with pytest.raises(Refused) as err:
            rate(street, topic, {"resident"}, level="satisfied", score_duration=4, score_kind=5, score_effect=5,
                 speed=3)
        assert err.value.field == "speed" and "speed" in err.value.message
        with pytest.raises(Refused) as err:
            rate(street, topic, {"resident"}, level="satisfied", score_duration=9, score_kind=5, score_effect=5)
        assert err.value.field == "score_duration"
        rate(street, topic, {"resident"}, level="satisfied", score_duration=4, score_kind=5, score_effect=3)
        with tenant_context(street.id):
            (data,) = [e.data for e in ops.events(topic) if e.action == "rate"]
        assert data["scores"] == {"duration": 4, "kind": 5, "effect": 3} and data["decides"] is True
        db.rollback()


def test_a_step_without_parties_refuses_a_party_and_keeps_its_one_rating(app, world):
    street = world.yanshan
    with app.app_context():
        factories.procedure(street)
        topic = factories.topic_at(street, "ping")
        with pytest.raises(Refused) as err:
            rate(street, topic, {"staff"}, level="satisfied", party="dangzheng")
        assert err.value.field == "party"
        with pytest.raises(Refused) as err:
            rate(street, topic, {"staff"}, level="satisfied", score_effect=4)
        assert err.value.field == "score_effect"
        db.rollback()


@pytest.mark.parametrize("evaluation, where", [
    ("{parties: [{key: a, name: {zh: 甲, en: A}, roles: [county_admin]}], decides: a}", "parties[0].roles"),
    ("{parties: [{key: a, name: {zh: 甲, en: A}, roles: [staff]}], decides: b}", "decides"),
])
def test_a_procedure_names_only_parties_that_act_at_the_step_and_one_that_decides(evaluation, where):
    text = SMALL.replace("    evidence: {rating: true}\n", f"    evidence: {{rating: true}}\n    evaluation: {evaluation}\n")
    assert "evaluation:" in text
    with pytest.raises(ProcedureInvalid) as err:
        parse(text)
    assert any(w.endswith(where) for w, _m in err.value.problems), err.value.problems
