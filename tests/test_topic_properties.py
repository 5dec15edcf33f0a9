"""Random people doing random things to a topic, in every procedure. After every action:
the topic is in exactly one step, replaying its log gives its state, and nothing outside
the actor's rights succeeded."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import uploaded_key
from shangliang.core.errors import Refused
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.departments import operations as departments
from shangliang.departments.models import Department
from shangliang.procedures.operations import publish
from shangliang.topics import operations as ops
from support.procedures import SMALL

FILES = sorted((Path(__file__).resolve().parents[1] / "tenants" / "procedures").glob("*.yaml"))
TEXTS = {p.stem: p.read_text("utf-8") for p in FILES} | {"small": SMALL}
ROLE_SETS = [{"staff"}, {"member"}, {"department"}, {"resident"}, {"street_admin"}, {"staff", "member"}]
KINDS = ["record", "attach", "consult", "confirm", "sign", "rate", "claim", "invite", "comment", "advance", "reopen", "escalate",
         "transfer", "close_out_of_scope", "close"]
GOOD = {"agreement": "同意", "department": "城管中心",
        "reason": "理由", "kind": "photo", "category": "市政", "plan": "方案", "outcome": "结果", "summary": "总结",
        "grid": "1 网格", "community": "社区", "place": "2 号楼", "urgency": "normal", "description": "说明",
        "channel": "wechat", "score": "4"}

DEPARTMENT: list[str] = []  # the street office a good transfer names, made by the test

step_strategy = st.tuples(st.sampled_from(range(len(ROLE_SETS))), st.sampled_from(KINDS),
                          st.integers(min_value=0, max_value=9), st.booleans(), st.booleans())


def data_for(topic, kind, good: bool, satisfied: bool, members: list[int]) -> dict:
    if not good:
        return {}
    data = dict(GOOD)
    if kind == "record":
        data = {f: GOOD[f] for f in topic.step["evidence"]["fields"]} or {"description": "说明"}
    if kind == "attach":
        data["key"] = uploaded_key(topic.tenant_id)
    if kind == "rate":
        data["satisfied"] = satisfied
    if kind == "invite":
        data = {"user_id": members[1]}
    if kind == "transfer":
        data = {"departments": DEPARTMENT, "asked": "核实"}
    return data


@pytest.mark.parametrize("name", sorted(TEXTS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=st.lists(step_strategy, min_size=5, max_size=40))
def test_random_actions_keep_the_topic_consistent(app, world, name, script):
    with app.app_context(), tenant_context(world.yanshan.id):
        street = world.yanshan
        publish(street, None, TEXTS[name])
        dept = db.scalar(select(Department.id).where(Department.name == "城管中心")) \
            or departments.save(street, None, {"name": "城管中心", "kind": "street_office"}).id
        DEPARTMENT[:] = [f"{street.id}:{dept}"]
        members = [world.users["yanshan-member"].id, world.users["yanshan-staff"].id]
        topic = ops.create_topic(street, None, {"title": "随机", "channel": "wechat"})
        db.commit()  # a refused action rolls back to here, not past the topic
        keys = [s["key"] for s in topic.procedure.steps]
        for role_index, kind, target, good, satisfied in script:
            roles = ROLE_SETS[role_index]
            offered = ops.available_actions(topic, roles, members[0])
            to = keys[target % len(keys)] if kind in ("advance", "reopen", "transfer", "close_out_of_scope") else None
            before = (topic.step_key, topic.round, topic.status, topic.version)
            try:
                ops.act(street, members[0], roles, topic, kind, expected_version=topic.version, to=to,
                        data=data_for(topic, kind, good, satisfied, members))
                db.commit()
                ok = True
            except Refused:
                db.rollback()
                ok = False
            if ok:  # it must have been offered to these roles, with everything it needed
                match = [a for a in offered if a.kind == kind and (to is None or a.to == to)]
                assert match, f"{kind}→{to} succeeded for {roles} but was not offered"
                if kind in ("advance", "close"):
                    assert match[0].ready
            else:
                assert (topic.step_key, topic.round, topic.status, topic.version) == before
            assert sum(1 for k in keys if k == topic.step_key) == 1
            state = ops.replay(ops.events(topic))
            assert (state["step_key"], state["round"], state["status"], state["escalated"]) == \
                (topic.step_key, topic.round, topic.status, topic.escalated)
        db.rollback()
