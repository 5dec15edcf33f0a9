"""Topics running through procedures: evidence, roles, loops, side paths, concurrency, the log."""
from __future__ import annotations

from pathlib import Path

import pytest

import factories
from conftest import uploaded_key
from shangliang.core.errors import Refused
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.procedures.operations import publish
from shangliang.topics import operations as ops
from support.procedures import SMALL

PROCEDURES = sorted((Path(__file__).resolve().parents[1] / "tenants" / "procedures").glob("*.yaml"))
ALL_ROLES = {"street_admin", "staff", "member", "department", "resident", "county_admin"}
INTAKE = {"title": "立功小区天然气安装", "channel": "hotline_12345", "description": "楼道里没有天然气管道",
          "community": "立功社区", "grid": "3 网格", "resident_name": "王大妈", "resident_phone": "13812341234",
          "category": "公共设施", "place": "立功小区 2 号楼"}
FILL = {"category": "公共设施", "urgency": "normal", "community": "立功社区", "grid": "3 网格", "place": "2 号楼",
        "description": "情况说明", "resident_name": "王大妈", "resident_phone": "13812341234",
        "channel": "hotline_12345", "plan": "方案", "outcome": "结果", "summary": "总结", "reason": "理由",
        "department": "城管中心"}


@pytest.fixture
def street(app, world):
    with app.app_context(), tenant_context(world.yanshan.id):
        yield world.yanshan


def new_topic(street, text=SMALL, **extra):
    from shangliang.procedures.operations import current_version

    if current_version(street) is None or text != SMALL:
        publish(street, None, text)
    return factories.raise_topic(street, None, **{**INTAKE, **extra})


def do(street, topic, action, roles=ALL_ROLES, user=None, to=None, comment="", **data):
    return factories.act(street, topic, action, user, roles, data, to, comment)


def satisfy(street, topic, user):
    """Give the current step everything it asks for before it may be left."""
    ev = topic.step["evidence"]
    if ev["fields"]:
        do(street, topic, "record", user=user, **{f: FILL[f] for f in ev["fields"]})
    for kind, n in (("photo", ev["photos"]), ("attachment", ev["attachments"])):
        for _ in range(n):
            do(street, topic, "attach", user=user, kind=kind, key=uploaded_key(street.id))
    if ev["consultation_record"]:
        do(street, topic, "consult", user=user, agreement="各方同意先装管道再修路面")
    if ev["signatures"]:
        do(street, topic, "confirm", roles={"resident"})
        do(street, topic, "sign", user=user)
    if ev["rating"]:
        do(street, topic, "rate", user=user, **factories.evaluated(topic, {"satisfied": True, "score": 5}))


def walk_to_closure(street, topic, user):
    for _ in range(40):
        if topic.status == "closed":
            return
        satisfy(street, topic, user)
        advances = [a for a in ops.available_actions(topic, ALL_ROLES, user) if a.kind in ("advance", "close")]
        if not advances:
            nxt = [a for a in ops.available_actions(topic, ALL_ROLES, user) if a.kind == "transfer"]
            do(street, topic, "transfer", user=user, to=nxt[0].to, **factories.transfer_to(street, "城管中心"))
            continue
        do(street, topic, advances[0].kind, user=user, to=advances[0].to)
    raise AssertionError(f"stuck at {topic.step_key}")


def assert_log_matches(topic):
    state = ops.replay(ops.events(topic))
    assert (state["step_key"], state["round"], state["status"], state["escalated"]) == \
        (topic.step_key, topic.round, topic.status, topic.escalated)


@pytest.mark.parametrize("path", PROCEDURES, ids=[p.stem for p in PROCEDURES])
def test_each_builtin_procedure_runs_from_intake_to_closure(street, world, path):
    topic = new_topic(street, path.read_text("utf-8"))
    first = topic.step_key
    walk_to_closure(street, topic, world.users["yanshan-member"].id)
    assert topic.status == "closed" and topic.closed_as == "done"
    log = ops.events(topic)
    assert log[0].action == "create" and log[0].to_step == first and log[-1].action == "close"
    phases = [e.phase_to for e in log if e.phase_to]
    assert phases[0] == "intake" and "closure" in phases
    assert_log_matches(topic)


def test_unsatisfied_rating_sends_the_topic_back_and_counts_the_round(street, world):
    topic = new_topic(street)
    user = world.users["yanshan-staff"].id
    satisfy(street, topic, user)
    do(street, topic, "advance", user=user, to="shang")
    satisfy(street, topic, user)
    do(street, topic, "advance", user=user, to="ping")
    assert "reopen" not in {a.kind for a in ops.available_actions(topic, ALL_ROLES, user)}  # no rating yet
    with pytest.raises(Refused) as err:
        do(street, topic, "advance", user=user, to="shou")
    assert err.value.field == "evidence" and "满意度评价" in err.value.message
    for round_ in (2, 3):
        do(street, topic, "rate", user=user, satisfied=False, score=2, via="12345")
        do(street, topic, "reopen", user=user, to="shang")
        assert (topic.step_key, topic.round) == ("shang", round_)
        satisfy(street, topic, user)
        do(street, topic, "advance", user=user, to="ping")
    do(street, topic, "rate", user=user, satisfied=False)
    # max_rounds is 3: no fourth round is offered
    assert "reopen" not in {a.kind for a in ops.available_actions(topic, ALL_ROLES, user)}
    do(street, topic, "rate", user=user, satisfied=True, score=4)
    do(street, topic, "advance", user=user, to="shou")
    satisfy(street, topic, user)
    do(street, topic, "close", user=user)
    assert topic.status == "closed" and topic.round == 3
    assert_log_matches(topic)


def at_rating(street, user):
    """A topic of the small procedure at its rating step (评单)."""
    topic = new_topic(street)
    for to in ("shang", "ping"):
        satisfy(street, topic, user)
        do(street, topic, "advance", user=user, to=to)
    return topic


@pytest.mark.parametrize("level", ops.RATING_LEVELS)
def test_each_rating_level_is_stored_and_only_unsatisfied_sends_it_back(street, world, level):
    user = world.users["yanshan-staff"].id
    topic = at_rating(street, user)
    do(street, topic, "rate", user=user, level=level, solved="false", score="3", via="12345")
    assert ops.events(topic)[-1].data == {"level": level, "satisfied": level != "unsatisfied", "solved": False,
                                          "valid": True, "score": 3, "via": "12345"}
    kinds = {a.kind for a in ops.available_actions(topic, ALL_ROLES, user)}
    assert ("reopen" in kinds) == (level == "unsatisfied")  # 基本满意 does not send the topic back
    assert "advance" in kinds  # a rating is the evidence the step asks for, whatever it says


def test_solved_defaults_to_the_level_and_a_bad_level_is_refused(street, world):
    user = world.users["yanshan-staff"].id
    topic = at_rating(street, user)
    for data, field in (({}, "level"), ({"level": "okay"}, "level"), ({"level": "basic", "solved": "maybe"}, "solved"),
                        ({"level": "basic", "score": "9"}, "score")):
        with pytest.raises(Refused) as err:
            do(street, topic, "rate", user=user, **data)
        assert err.value.field == field, data
    do(street, topic, "rate", user=user, level="very_satisfied")
    do(street, topic, "rate", user=user, level="unsatisfied")
    assert [(e.data["solved"], e.data["satisfied"]) for e in ops.events(topic)[-2:]] == [(True, True), (False, False)]


def test_an_invalid_rating_needs_its_reason_and_is_kept(street, world):
    user = world.users["yanshan-staff"].id
    topic = at_rating(street, user)
    with pytest.raises(Refused) as err:
        do(street, topic, "rate", user=user, level="unsatisfied", valid="false", invalid_reason="  ")
    assert (err.value.field, err.value.code) == ("invalid_reason", "validation_error")
    do(street, topic, "rate", user=user, level="unsatisfied", valid="false", invalid_reason="与办理事项无关", via="12345")
    rating = ops.events(topic)[-1].data
    assert (rating["valid"], rating["invalid_reason"], rating["level"]) == (False, "与办理事项无关", "unsatisfied")
    kinds = {a.kind for a in ops.available_actions(topic, ALL_ROLES, user)}
    assert "reopen" not in kinds  # an invalid rating sends nothing back…
    do(street, topic, "rate", user=user, level="unsatisfied", via="12345")
    assert "reopen" in {a.kind for a in ops.available_actions(topic, ALL_ROLES, user)}  # …a valid one does


def test_the_old_two_way_rating_is_still_accepted_and_old_logs_read_whole(street, world):
    user = world.users["yanshan-staff"].id
    topic = at_rating(street, user)
    do(street, topic, "rate", user=user, satisfied="false", score=2)
    assert ops.events(topic)[-1].data["level"] == "unsatisfied"
    # what was logged before levels existed
    assert ops.rating_of({"satisfied": True, "score": 5, "via": "portal"}) == {
        "satisfied": True, "score": 5, "via": "portal", "level": "satisfied", "solved": True, "valid": True}
    assert ops.rating_of({"satisfied": False, "score": None, "via": ""})["level"] == "unsatisfied"


def test_escalation_transfer_and_out_of_scope(street, world):
    user = world.users["yanshan-staff"].id
    topic = new_topic(street)
    satisfy(street, topic, user)
    do(street, topic, "advance", user=user, to="shang")
    do(street, topic, "escalate", user=user, reason="涉及多个社区", level="county")
    assert topic.escalated and topic.step_key == "shang"
    # The level comes from the procedure (street by default), not from the request.
    assert ops.events(topic)[-1].data == {"level": "street", "reason": "涉及多个社区"}
    with pytest.raises(Refused) as err:
        do(street, topic, "transfer", user=user, to="shang", asked="核实")
    assert err.value.field == "departments"
    do(street, topic, "transfer", user=user, to="shang", **factories.transfer_to(street, "街道城管中心"))
    assert topic.details["department"] == "街道城管中心"
    assert_log_matches(topic)

    other = ops.create_topic(street, None, INTAKE)
    with pytest.raises(Refused) as err:
        do(street, other, "close_out_of_scope", user=user, to="shou")
    assert err.value.field == "reason"
    do(street, other, "close_out_of_scope", user=user, to="shou", reason="属于物业合同纠纷，请走司法途径")
    assert (other.status, other.closed_as, other.step_key) == ("closed", "out_of_scope", "shou")
    assert ops.available_actions(other, ALL_ROLES, user) == []
    assert_log_matches(other)


def test_only_the_roles_of_the_step_may_act(street, world):
    topic = new_topic(street)
    with pytest.raises(Refused) as err:
        do(street, topic, "record", roles={"department"}, category="x")
    assert err.value.code == "forbidden"
    assert ops.available_actions(topic, {"department"}, None) == []
    kinds = {a.kind for a in ops.available_actions(topic, {"staff"}, None)}
    assert {"record", "advance", "close_out_of_scope"} <= kinds and "rate" not in kinds


def test_two_people_acting_at_once_cannot_both_succeed(street, world):
    topic = new_topic(street)
    seen = topic.version
    do(street, topic, "comment", comment="先到")
    with pytest.raises(Refused) as err:
        ops.act(street, None, ALL_ROLES, topic, "comment", expected_version=seen, comment="后到")
    assert err.value.code == "conflict"


def test_members_claim_up_to_the_limit_and_invite_colleagues(app, street, world):
    from shangliang.accounts.operations import add_membership, create_user

    topic = new_topic(street)
    satisfy(street, topic, None)
    do(street, topic, "advance", to="shang")
    members = [world.users["yanshan-member"]]
    for i in range(3):
        u = create_user(f"weiyuan-{i}", f"委员{i}", "long-enough-password")
        add_membership(street, None, u, "member")
        members.append(u)
    do(street, topic, "claim", roles={"member"}, user=members[0].id)
    with pytest.raises(Refused):
        do(street, topic, "claim", roles={"member"}, user=members[0].id)  # already in
    do(street, topic, "invite", roles={"member"}, user=members[0].id, user_id=members[1].id)
    with pytest.raises(Refused) as err:
        do(street, topic, "invite", roles={"member"}, user=members[0].id, user_id=world.users["nobody"].id)
    assert err.value.field == "user_id"
    do(street, topic, "claim", roles={"member"}, user=members[2].id)
    assert ops.claimants(ops.events(topic)) == [members[0].id, members[1].id, members[2].id]
    with pytest.raises(Refused):
        do(street, topic, "claim", roles={"member"}, user=members[3].id)  # the limit is 3


def test_intake_refuses_bad_input_naming_the_field(street):
    publish(street, None, SMALL)
    for change, field in (({"title": ""}, "title"), ({"channel": "carrier pigeon"}, "channel"),
                          ({"resident_phone": "12345"}, "resident_phone"), ({"urgency": "yesterday"}, "urgency"),
                          ({"title": "长" * 121}, "title")):
        with pytest.raises(Refused) as err:
            ops.create_topic(street, None, {**INTAKE, **change})
        assert err.value.field == field
    db.rollback()


def test_staff_record_a_topic_heard_at_a_street_stall(street):
    """4+X's 狮子楼街道 “在集市中心‘摆摊设点听民声’”: what a resident says at the stall is recorded as
    heard there, not as a door visit or a meeting."""
    from shangliang.topics.channels import CHANNELS

    publish(street, None, SMALL)
    topic = ops.create_topic(street, None, {**INTAKE, "channel": "stall"})
    assert topic.channel == "stall" and "摆摊设点" in CHANNELS["stall"].zh
    db.rollback()


def test_no_procedure_no_topics(street):
    with pytest.raises(Refused) as err:
        ops.create_topic(street, None, INTAKE)
    assert err.value.code == "no_procedure"


def test_in_flight_topics_stay_on_their_version(street):
    old = new_topic(street)
    publish(street, None, SMALL.replace("{zh: 商单, en: Consult}", "{zh: 议事会, en: Meeting}"))
    new = ops.create_topic(street, None, INTAKE)
    assert old.procedure.number == 1 and new.procedure.number == 2
    assert old.procedure.steps[1]["name"]["zh"] == "商单" and new.procedure.steps[1]["name"]["zh"] == "议事会"


def test_due_time_counts_working_days_in_the_tenant_zone():
    from datetime import datetime, timezone

    friday_evening = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)  # 18:00 in Shanghai, a Friday
    due = ops.add_time_limit(friday_evening, {"working_days": 1}, "Asia/Shanghai")
    assert due == datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)  # Monday
    assert ops.add_time_limit(friday_evening, {"hours": 24}, "Asia/Shanghai").day == 28


def test_phone_is_masked_for_those_who_do_not_handle_the_topic(street, world):
    topic = new_topic(street)
    log = ops.events(topic)
    assert ops.mask_phone(topic.resident_phone) == "138****1234"
    assert ops.handles(topic, {"staff"}, None, log)
    assert not ops.handles(topic, {"member"}, world.users["yanshan-member"].id, log)


def test_overdue_topics_are_marked_and_the_responsible_told_once(app, world, run_jobs):
    from datetime import timedelta

    from sqlalchemy import select

    from shangliang.core import jobs
    from shangliang.core.db import utcnow
    from shangliang.notifications.models import Notification

    with app.app_context(), tenant_context(world.yanshan.id):
        late, fresh = new_topic(world.yanshan), ops.create_topic(world.yanshan, None, INTAKE)
        late.due_at = utcnow() - timedelta(hours=1)
        db.commit()
    for _ in range(2):  # two ticks, e.g. two workers: one mark, one set of notices
        jobs.relay(jobs.PeriodicLoop().tick())
        run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        topics = {t.number: t.overdue for t in db.scalars(select(ops.Topic))}
        assert topics == {late.number: True, fresh.number: False}
        notes = db.scalars(select(Notification).where(Notification.kind == "topic.overdue")).all()
        told = sorted(world.users_by_id[n.user_id] for n in notes)
    assert told == ["yanshan-admin", "yanshan-staff"]
    assert all("已超过" in n.title and n.link.endswith(f"/topics/{late.number}") for n in notes)


def test_attaching_a_file_that_was_never_uploaded_is_refused(street, world):
    from shangliang.core.storage import tenant_key

    topic = new_topic(street)
    with pytest.raises(Refused) as err:
        do(street, topic, "attach", kind="photo", key=tenant_key(street.id, "photos", "jpg"))
    assert err.value.field == "key" and "请先上传" in err.value.message
    with pytest.raises(Refused) as err:
        do(street, topic, "attach", kind="photo", key=uploaded_key(world.guangwumen.id))
    assert err.value.field == "key"
