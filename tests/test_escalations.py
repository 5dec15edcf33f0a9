"""提请 reaches someone: the level the procedure names has it in its queue with the reason, answers
(decides, assigns departments, takes it up, sends it back), and the answer is on the timeline."""
from __future__ import annotations

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.procedures.operations import publish
from shangliang.topics.models import Escalation, Topic, Transfer
from support.procedures import SMALL

TO_COUNTY = SMALL.replace("{kind: escalate}", "{kind: escalate, level: county}")


def post(client, url, **form):
    return client.post(url, data={"csrf_token": csrf_token(client), **form})


def page(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return resp.get_data(as_text=True)


def at_consult(app, street, procedure=SMALL, **intake) -> int:
    with app.app_context():
        with tenant_context(street.id):
            publish(street, None, procedure)
        topic = factories.topic_at(street, "shang", **intake)
        db.commit()
        return topic.number


def escalate(app, client, slug, number, **form):
    with app.app_context():
        from shangliang.tenants.models import Tenant

        tenant = db.scalar(select(Tenant).where(Tenant.slug == slug))
        with tenant_context(tenant.id):
            version = db.scalar(select(Topic.version).where(Topic.number == number))
    return post(client, f"/t/{slug}/topics/{number}/act", action="escalate", version=version, **form)


def escalations(app, street) -> list[Escalation]:
    with app.app_context(), tenant_context(street.id):
        return list(db.scalars(select(Escalation).order_by(Escalation.raised_at)))


def test_a_community_refers_a_topic_to_the_street_which_answers_on_the_timeline(app, as_user, world):
    number = at_consult(app, world.yanshan, title="楼道堆物无人管")
    staff, admin = as_user("yanshan-staff"), as_user("yanshan-admin")
    resp = escalate(app, staff, "yanshan", number, reason="")
    assert resp.status_code == 400 and "请说明提请的理由" in resp.get_data(as_text=True)
    assert escalate(app, staff, "yanshan", number, reason="涉及三个小区的物业，社区协调不动").status_code == 302
    (esc,) = escalations(app, world.yanshan)
    assert esc.level == "street" and esc.state == "open"
    queue = page(admin, "/t/yanshan/escalations/")
    assert "楼道堆物无人管" in queue and "社区协调不动" in queue
    with app.app_context(), tenant_context(world.yanshan.id):  # the street's 党工委 (its admins) are told
        told = db.scalars(select(Notification.link).where(Notification.user_id == world.users["yanshan-admin"].id,
                                                          Notification.kind == "escalation.raised")).all()
    assert told == [f"/t/yanshan/escalations/{esc.id}"]

    url = f"/t/yanshan/escalations/{esc.id}"
    assert post(staff, url, kind="decide", answer="x").status_code == 403  # staff follow, the 党工委 answers
    resp = post(admin, url, kind="decide", answer="")
    assert resp.status_code == 400 and "请写明上级的意见" in resp.get_data(as_text=True)
    resp = post(admin, url, kind="nonsense", answer="意见")
    assert resp.status_code == 400 and "请选择如何答复" in resp.get_data(as_text=True)
    assert post(admin, url, kind="decide", answer="由街道召集三家物业，本周五现场协商").status_code == 302
    assert post(admin, url, kind="decide", answer="again").status_code == 409
    (esc,) = escalations(app, world.yanshan)
    assert esc.state == "answered" and esc.answer_kind == "decide"
    timeline = page(staff, f"/t/yanshan/topics/{number}")
    assert "上级答复" in timeline and "本周五现场协商" in timeline and "作出决定" in timeline
    with app.app_context(), tenant_context(world.yanshan.id):
        told = db.scalars(select(Notification.title).where(Notification.user_id == world.users["yanshan-staff"].id,
                                                           Notification.kind == "escalation.answered")).all()
    assert len(told) == 1
    assert "没有待答复的提请" in page(admin, "/t/yanshan/escalations/")


def test_a_county_answers_its_streets_by_assigning_a_county_department(app, as_user, world):
    with app.app_context():
        liaison = factories.create_user("lx-minzheng", "区民政局联络员", factories.PASSWORD)
        bureau = factories.department(world.lixia, "区民政局", "county_department", contacts=[liaison])
        db.commit()
        value = f"{world.lixia.id}:{bureau.id}"
    number = at_consult(app, world.langshan, TO_COUNTY, title="困境儿童上学难")
    langshan = as_user("langshan-admin")
    assert escalate(app, langshan, "langshan", number, reason="需区教育局、民政局协调").status_code == 302
    county = as_user("lixia-admin")
    queue = page(county, "/t/lixia/escalations/")
    assert "困境儿童上学难" in queue and "狼山镇街道" in queue
    (esc,) = escalations(app, world.langshan)
    url = f"/t/langshan/escalations/{esc.id}"
    form = page(county, url)
    assert "区民政局" in form
    resp = post(county, url, kind="assign", answer="请区民政局牵头安置", departments="1:nonsense")
    assert resp.status_code == 400 and "不在本街道或所属区县的部门名单中" in resp.get_data(as_text=True)
    assert post(county, url, kind="assign", answer="请区民政局牵头安置", departments=value).status_code == 302
    with app.app_context(), tenant_context(world.langshan.id):
        (t,) = db.scalars(select(Transfer)).all()
    assert t.department_name == "区民政局" and t.asked == "请区民政局牵头安置" and t.state == "sent"
    assert "困境儿童上学难" in page(as_user("lx-minzheng"), "/t/lixia/transfers/")
    timeline = page(langshan, f"/t/langshan/topics/{number}")
    assert "交办部门" in timeline and "区民政局" in timeline


def test_only_the_level_and_its_street_reach_an_escalation(app, as_user, world):
    number = at_consult(app, world.langshan, TO_COUNTY)
    assert escalate(app, as_user("langshan-admin"), "langshan", number, reason="需区里协调").status_code == 302
    (esc,) = escalations(app, world.langshan)
    assert as_user("chengguan-admin").get(f"/t/langshan/escalations/{esc.id}").status_code == 404
    assert as_user("yanshan-admin").get(f"/t/langshan/escalations/{esc.id}").status_code == 404
    assert as_user("yanshan-admin").get(f"/t/yanshan/escalations/{esc.id}").status_code == 404
    assert "需区里协调" not in page(as_user("chengguan-admin"), "/t/chengguan/escalations/")
    # the street follows what it sent up, but the county answers a county-level one
    admin = as_user("langshan-admin")
    assert "需区里协调" in page(admin, "/t/langshan/escalations/?level=county")
    assert post(admin, f"/t/langshan/escalations/{esc.id}", kind="decide", answer="自己答").status_code == 403


@pytest.mark.parametrize("kind", ["take_up", "send_back"])
def test_taking_it_up_or_sending_it_back_is_recorded(app, as_user, world, kind):
    number = at_consult(app, world.yanshan)
    assert escalate(app, as_user("yanshan-staff"), "yanshan", number, reason="协调不动").status_code == 302
    (esc,) = escalations(app, world.yanshan)
    assert post(as_user("yanshan-admin"), f"/t/yanshan/escalations/{esc.id}", kind=kind,
                answer="意见").status_code == 302
    (esc,) = escalations(app, world.yanshan)
    assert esc.answer_kind == kind


def test_the_county_queue_costs_the_same_at_3_and_20(app, as_user, world, query_counter):
    with app.app_context():
        with tenant_context(world.langshan.id):
            publish(world.langshan, None, TO_COUNTY)
        db.commit()
    county = as_user("lixia-admin")

    def raise_(n):
        with app.app_context():
            for _ in range(n):
                topic = factories.topic_at(world.langshan, "shang")
                factories.act(world.langshan, topic, "escalate", data={"reason": "协调"})
            db.commit()

    def cost():
        county.get("/t/lixia/escalations/")  # first: read again what the process keeps (core/changes.py), then counted
        with query_counter() as stmts:
            assert county.get("/t/lixia/escalations/").status_code == 200
        return len(stmts)

    raise_(3)
    small = cost()
    raise_(17)
    assert cost() == small
