"""12345 work orders in (integrations/hotline/): a signed order becomes one topic of the street its
address names, or waits in the county's queue; the same order twice is one topic, an update updates
it; anything unsigned, badly signed, stale or replayed is refused with nothing kept, and so is a
malformed order, naming each field. Both modes."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from hotline_world import config, county, hotline  # noqa: F401  (fixtures)
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.integrations import signing
from shangliang.integrations.hotline.models import HotlineOrder
from shangliang.topics.models import Topic, TopicEvent
from support.hotline import order


def topics_of(app, street) -> list[Topic]:
    with app.app_context(), tenant_context(street.id):
        return list(db.scalars(select(Topic).order_by(Topic.number).execution_options(populate_existing=True)))


def orders_of(app, county) -> list[HotlineOrder]:
    with app.app_context(), tenant_context(county.id):
        return list(db.scalars(select(HotlineOrder).order_by(HotlineOrder.received_at)
                               .execution_options(populate_existing=True)))


def test_a_signed_order_becomes_a_topic_at_the_intake_step_of_its_street(app, client, world, county, hotline):
    resp = hotline.send(client, "lixia", "orders", order())
    assert resp.status_code == 201, resp.get_json()
    answer = resp.get_json()
    assert answer["state"] == "routed" and answer["result"] == "created"
    assert answer["street"] == {"slug": "yanshan", "name": "燕山街道"} and answer["topic"] == {"number": 1}
    [topic] = topics_of(app, world.yanshan)
    assert (topic.channel, topic.step_key, topic.community, topic.grid) == ("hotline_12345", "dian", "立功社区", None)
    assert (topic.resident_name, topic.resident_phone) == ("王女士", "13812345678")
    assert topic.title == "楼道灯坏了一个月，晚上老人上下楼看不见。" and topic.place.endswith("立功社区3号楼")
    assert topic.details["hotline_order"] == "DZ20261207001" and topic.details["hotline_category"] == "市容环境"
    assert topic.deadline_at.isoformat() == "2026-12-14T10:00:00+00:00"  # the order's time limit
    assert topic_events(app, world.yanshan, topic)[0][:2] == ("create", "hotline")  # by the hotline, no person
    [row] = orders_of(app, county)
    assert (row.state, row.street_id, row.topic_number, row.caller_phone) == ("routed", world.yanshan.id, 1, None)
    assert topics_of(app, world.langshan) == []


def topic_events(app, street, topic) -> list[tuple]:
    with app.app_context(), tenant_context(street.id):
        return [(e.action, e.actor_role, e.actor_id, e.comment, e.data) for e in db.scalars(
            select(TopicEvent).where(TopicEvent.topic_id == topic.id).order_by(TopicEvent.seq))]


def test_the_same_order_twice_is_one_topic_and_an_update_updates_it(app, client, world, county, hotline):
    assert hotline.send(client, "lixia", "orders", order()).status_code == 201
    again = hotline.send(client, "lixia", "orders", order())  # their retry: signed anew, same order
    assert again.status_code == 200 and again.get_json()["result"] == "unchanged"
    assert len(topics_of(app, world.yanshan)) == 1

    changed = order(content="楼道灯坏了一个月，三楼和四楼都不亮。", due_at="2026-12-12T18:00:00+08:00",
                    caller={"name": "王女士", "phone": "13812345679"}, revised_at="2026-12-07T10:00:00+08:00")
    resp = hotline.send(client, "lixia", "orders", changed)
    assert resp.status_code == 200 and resp.get_json()["result"] == "updated"
    [topic] = topics_of(app, world.yanshan)
    assert topic.description == "楼道灯坏了一个月，三楼和四楼都不亮。" and topic.resident_phone == "13812345679"
    assert topic.deadline_at.isoformat() == "2026-12-12T10:00:00+00:00"
    action, role, actor, comment, data = topic_events(app, world.yanshan, topic)[-1]
    assert (action, role, actor) == ("hotline_update", "hotline", None)
    assert comment == "12345 工单更新：标题、诉求内容、来电号码、办理时限"  # the title is the content's first words and data["order"] == "DZ20261207001"

    older = order(content="旧的内容", revised_at="2026-12-07T09:45:00+08:00")  # arrived late: ignored
    assert hotline.send(client, "lixia", "orders", older).get_json()["result"] == "stale"
    assert topics_of(app, world.yanshan)[0].description.startswith("楼道灯坏了一个月，三楼")
    [row] = orders_of(app, county)
    assert row.updates == 1
    page = client.get(f"/api/v1/t/lixia/hotline/orders/{row.number}", headers=hotline.headers(b""))
    assert page.status_code == 200 and page.get_json()["topic"] == {"number": 1}


@pytest.mark.parametrize("address, street, community, grid", [
    ("历下区燕山街道办事处旁边", "yanshan", None, None),
    ("燕子山社区燕子山网格5号楼", "yanshan", "燕子山社区", "燕子山网格"),
    ("和平社区西网格", "langshan", "和平社区", "西网格"),
    ("狼山镇街道东门", "langshan", "狼山社区", None),  # the community 狼山社区 written as 狼山
])
def test_routing_reads_street_community_and_grid_names(app, client, world, county, hotline, address, street,
                                                       community, grid):
    resp = hotline.send(client, "lixia", "orders", order(address=address))
    assert resp.status_code == 201 and resp.get_json()["street"]["slug"] == street
    [topic] = topics_of(app, world.tenant(street))
    assert (topic.community, topic.grid) == (community, grid)


def test_an_order_no_street_matches_waits_in_the_queue_until_the_county_assigns_it(app, client, as_user, world,
                                                                                   county, hotline):
    from conftest import csrf_token

    resp = hotline.send(client, "lixia", "orders", order(address="德州市德城区新华路 88 号"))
    assert resp.status_code == 201
    assert resp.get_json() | {} == {"number": "DZ20261207001", "state": "queued", "street": None, "topic": None,
                                    "queue_reason": "no_match", "updates": 0, "result": "queued"}
    both = hotline.send(client, "lixia", "orders", order("DZ2", address="立功社区和狼山社区之间"))
    assert both.get_json()["queue_reason"] == "ambiguous"
    assert topics_of(app, world.yanshan) == [] and topics_of(app, world.langshan) == []

    admin = as_user("lixia-admin")
    page = admin.get("/t/lixia/manage/hotline/").get_data(as_text=True)
    assert "待分派工单" in page and "新华路 88 号" in page and "地址没有对上本区县任何街道" in page
    assert "13812345678" not in page and "138****5678" in page and "王女士" not in page  # masked
    [first, _second] = orders_of(app, county)
    token = csrf_token(admin)
    wrong = admin.post(f"/t/lixia/manage/hotline/orders/{first.id}/assign", data={"csrf_token": token, "street": "9999"})
    assert wrong.status_code == 400 and "请选择本区县的一个街道" in wrong.get_data(as_text=True)
    done = admin.post(f"/t/lixia/manage/hotline/orders/{first.id}/assign",
                      data={"csrf_token": token, "street": str(world.langshan.id)})
    assert done.status_code == 302
    [topic] = topics_of(app, world.langshan)
    assert (topic.channel, topic.resident_phone, topic.details["hotline_order"]) == (
        "hotline_12345", "13812345678", "DZ20261207001")
    assert topic_events(app, world.langshan, topic)[0][:3] == ("create", "county_admin",
                                                               world.users["lixia-admin"].id)
    assert [o.state for o in orders_of(app, county)] == ["routed", "queued"]
    again = admin.post(f"/t/lixia/manage/hotline/orders/{first.id}/assign",
                       data={"csrf_token": token, "street": str(world.yanshan.id)})
    assert again.status_code == 409 and len(topics_of(app, world.yanshan)) == 0
    with app.app_context(), tenant_context(county.id):
        assert db.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "hotline.order.assign")) == 1


# ---------------------------------------------------------------- refused, nothing kept

def nothing_kept(app, world, county):
    assert orders_of(app, county) == [] and topics_of(app, world.yanshan) == []


@pytest.mark.parametrize("case", ["missing", "invalid", "other_secret", "expired", "future", "changed_body"])
def test_a_request_not_signed_by_the_countys_account_is_refused_and_keeps_nothing(app, client, world, county,
                                                                                  hotline, case):
    body = json.dumps(order(), ensure_ascii=False).encode()
    headers = hotline.headers(body)
    if case == "missing":
        headers.pop("X-Shangliang-Signature")
    elif case == "invalid":
        headers["X-Shangliang-Signature"] = "v1=" + "0" * 64
    elif case == "other_secret":
        headers = hotline.headers(body, secret=signing.new_secret())
    elif case == "expired":
        headers = hotline.headers(body, ts=int(time.time()) - signing.REPLAY_WINDOW - 5)
    elif case == "future":
        headers = hotline.headers(body, ts=int(time.time()) + signing.REPLAY_WINDOW + 5)
    elif case == "changed_body":
        body = body.replace("楼道灯".encode(), "路灯".encode())
    resp = client.post("/api/v1/t/lixia/hotline/orders", data=body, headers=headers)
    assert resp.status_code == 401
    err = resp.get_json()["error"]
    assert err["code"] == "unauthorized" and err["message"]
    nothing_kept(app, world, county)


def test_a_replayed_request_is_refused(app, client, world, county, hotline):
    body = json.dumps(order(), ensure_ascii=False).encode()
    headers = hotline.headers(body)
    assert client.post("/api/v1/t/lixia/hotline/orders", data=body, headers=headers).status_code == 201
    replay = client.post("/api/v1/t/lixia/hotline/orders", data=body, headers=headers)
    assert replay.status_code == 401 and "重复的请求" in replay.get_json()["error"]["message"]
    assert len(topics_of(app, world.yanshan)) == 1


def test_a_malformed_order_is_refused_naming_each_field(app, client, world, county, hotline):
    bad = {"number": "DZ 1/2", "called_at": "yesterday", "caller": {"phone": "12345"}, "address": "",
           "attachments": [{"name": "现场照片", "url": "file:///etc/passwd"}], "due_at": "soon"}
    resp = hotline.send(client, "lixia", "orders", bad)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "validation_error"
    assert set(err["fields"]) == {"number", "called_at", "caller.phone", "address", "content",
                                  "attachments.0.url", "due_at"}
    assert err["fields"]["content"] == ["缺少诉求内容"]
    nothing_kept(app, world, county)
    not_json = client.post("/api/v1/t/lixia/hotline/orders", data=b"[1", headers=hotline.headers(b"[1"))
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "invalid_json"
    nothing_kept(app, world, county)


def test_another_countys_account_cannot_post_into_this_county(app, client, world, county, hotline):
    from shangliang.integrations.hotline import accounts
    from shangliang.tenants.models import Tenant

    with app.app_context(), tenant_context(world.chengguan.id):
        _row, theirs = accounts.create(db.get(Tenant, world.chengguan.id), None, {"name": "城关 12345"})
        db.commit()
    resp = hotline.send(client, "lixia", "orders", order(), secret=theirs)
    assert resp.status_code == 401
    nothing_kept(app, world, county)
    street = hotline.send(client, "yanshan", "orders", order())  # a street has no hotline endpoint
    assert street.status_code == 404 and street.get_json()["error"]["code"] == "not_found"
    own = hotline.send(client, "chengguan", "orders", order(address="燕山街道"), secret=theirs)
    assert own.status_code == 201 and own.get_json()["state"] == "queued"  # their county has no such street
    nothing_kept(app, world, county)


def test_a_disabled_account_is_refused_until_enabled(app, client, as_user, world, county, hotline):
    from conftest import csrf_token

    admin = as_user("lixia-admin")
    token = csrf_token(admin)
    assert admin.post("/t/lixia/manage/hotline/active", data={"csrf_token": token, "active": "0"}).status_code == 302
    assert hotline.send(client, "lixia", "orders", order()).status_code == 401
    nothing_kept(app, world, county)
    assert admin.post("/t/lixia/manage/hotline/active", data={"csrf_token": token, "active": "1"}).status_code == 302
    assert hotline.send(client, "lixia", "orders", order()).status_code == 201
