"""Service accounts for systems that act for residents (issue 14): a street's administrator makes one
for its WeChat mini-program's back end on the tokens page (a name and a channel; the token shown
once). It raises, follows, rates and confirms a resident's topic with their receipt code, under the
portal's rules, by the account's channel and by no person (the log and the audit name the account),
and may do nothing else; no other token may do these."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.accounts.models import ApiToken
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic, TopicEvent
from test_personal_tokens import SECRET, auth, make_token

RAISE = {"title": "3号楼楼道灯坏了", "description": "晚上回家看不见台阶，老人容易摔倒。", "place": "立功小区 3 号楼",
         "resident_name": "王大妈", "resident_phone": "13812345678"}
PLAN = "物业本周内更换楼道灯，居民配合腾出楼道杂物"
BASE = "/api/v1/t/yanshan/resident/topics"


def make_service_account(client, slug="yanshan", name="街道微信小程序", channel="wechat_mini", status=200):
    """A service account made the way an administrator makes one: on the tokens page."""
    resp = client.post(f"/t/{slug}/manage/tokens/service", data={"csrf_token": csrf_token(client), "name": name,
                                                                  "channel": channel, "expires_on": ""})
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    if status != 200:
        return resp
    assert resp.headers["Cache-Control"] == "no-store"
    return SECRET.search(resp.get_data(as_text=True)).group(1)


@pytest.fixture
def street(app, world):
    """燕山 on 三即两提一转: the resident confirms the agreed plan (商定即办) and rates (限时反馈)."""
    with app.app_context():
        factories.procedure(world.yanshan, "sanji_liangti_yizhuan")
        db.commit()
    return world.yanshan


@pytest.fixture
def service(as_user, street):
    return make_service_account(as_user("yanshan-admin"))


def staff_moves(app, street, number, toward: str, plan: str | None = None):
    """Staff take the topic on to `toward`, each step's evidence supplied (the plan recorded first)."""
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        while topic.step_key != toward:
            if plan and topic.step_key == "jishang":
                factories.act(street, topic, "record", data={"plan": plan})
                plan = None
            factories.advance(street, topic, toward=toward)
        db.commit()


def test_an_administrator_makes_a_service_account_on_the_tokens_page(app, as_user, world, street):
    admin = as_user("yanshan-admin")
    page = admin.get("/t/yanshan/manage/tokens").get_data(as_text=True)
    assert "新建居民服务系统账号" in page and 'value="wechat_mini" selected' in page
    for channel in ("carrier_pigeon", "door_visit"):  # no channel, and one that is a person's visit
        wrong = make_service_account(admin, channel=channel, status=400)
        assert "请从列表中选择渠道" in wrong.get_data(as_text=True)
    nameless = make_service_account(admin, name="", status=400)
    assert "请填写 1–100 个字符的名称" in nameless.get_data(as_text=True)

    secret = make_service_account(admin)
    listed = admin.get("/t/yanshan/manage/tokens").get_data(as_text=True)
    assert "街道微信小程序" in listed and "居民服务系统" in listed and "渠道：微信小程序" in listed
    assert "代居民办理" in listed
    with app.app_context(), tenant_context(world.yanshan.id):
        row = db.scalar(select(ApiToken).where(ApiToken.name == "街道微信小程序"))
        assert (row.owner_id, row.role, row.scopes, row.channel) == (None, "resident_service", "residents",
                                                                     "wechat_mini")
        made = db.scalar(select(AuditLog).where(AuditLog.action == "api_token.create"))
        assert made.actor_id == world.users["yanshan-admin"].id and made.detail["channel"] == "wechat_mini"
    assert secret.startswith("slt_")
    # Not for counties (nor for anyone without the right to manage tokens).
    county = as_user("lixia-admin")
    assert "新建居民服务系统账号" not in county.get("/t/lixia/manage/tokens").get_data(as_text=True)
    make_service_account(county, slug="lixia", status=403)
    make_service_account(as_user("yanshan-staff"), status=403)


def test_a_resident_raises_follows_confirms_and_rates_through_the_mini_program(app, client, as_user, world, street,
                                                                             service):
    raised = client.post(BASE, headers=auth(service), json=RAISE)
    assert raised.status_code == 201, raised.get_json()
    body = raised.get_json()
    code, number = body["code"], body["topic"]["number"]
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    assert body["topic"]["channel"] == "wechat_mini" and body["topic"]["step"]["key"] == "jiesu"
    assert "13812345678" not in raised.get_data(as_text=True) and "王大妈" not in raised.get_data(as_text=True)

    seen = client.get(f"{BASE}/{code.lower().replace('-', '')}?last4=5678", headers=auth(service))
    assert seen.status_code == 200, seen.get_json()
    view = seen.get_json()
    assert view["title"] == "3号楼楼道灯坏了" and view["timeline"][0]["action"] == "create"
    assert not view["can_rate"] and not view["can_confirm"] and view["rating"] is None
    assert "5678" not in seen.get_data(as_text=True)
    early = client.post(f"{BASE}/{code}/rating", headers=auth(service),
                        json={"last4": "5678", "level": "satisfied", "solved": True})
    assert early.status_code == 409 and early.get_json()["error"]["message"] == "当前还不到评价环节"
    nothing = client.post(f"{BASE}/{code}/confirm", headers=auth(service), json={"last4": "5678"})
    assert nothing.status_code == 409 and "没有需要您确认的方案" in nothing.get_json()["error"]["message"]

    staff_moves(app, street, number, "jiban", plan=PLAN)
    asked = client.get(f"{BASE}/{code}?last4=5678", headers=auth(service)).get_json()
    assert asked["plan"] == PLAN and asked["can_confirm"] and not asked["confirmed"]
    confirmed = client.post(f"{BASE}/{code}/confirm", headers=auth(service), json={"last4": "5678"})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["confirmed"] and not confirmed.get_json()["can_confirm"]
    again = client.post(f"{BASE}/{code}/confirm", headers=auth(service), json={"last4": "5678"})
    assert again.status_code == 409

    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        factories.act(street, topic, "sign", world.users["yanshan-staff"].id, {"staff"})
        db.commit()
    staff_moves(app, street, number, "fankui")
    # Staff cannot pass their own rating off as one a system sent for the resident.
    staff_token = make_token(as_user("yanshan-staff"), scopes=("read", "topics"))
    version = client.get(f"/api/v1/t/yanshan/topics/{number}", headers=auth(staff_token)).get_json()["version"]
    posed = client.post(f"/api/v1/t/yanshan/topics/{number}/actions", headers=auth(staff_token), json={
        "action": "rate", "version": version, "data": {"level": "satisfied", "service": "街道微信小程序"}})
    assert posed.status_code == 422 and list(posed.get_json()["error"]["fields"]) == ["service"]
    rated = client.post(f"{BASE}/{code}/rating", headers=auth(service), json={
        "last4": "5678", "level": "very_satisfied", "solved": True, "score": 5, "comment": "很及时"})
    assert rated.status_code == 200, rated.get_json()
    assert rated.get_json()["rating"] == {"level": "very_satisfied", "solved": True, "score": 5}
    assert rated.get_json()["can_rate"] is False
    twice = client.post(f"{BASE}/{code}/rating", headers=auth(service),
                        json={"last4": "5678", "level": "unsatisfied", "solved": False})
    assert twice.status_code == 409 and "已评价过" in twice.get_json()["error"]["message"]

    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        assert topic.channel == "wechat_mini" and topic.resident_phone == "13812345678"
        assert topic.created_by is None
        log = {e.action: e for e in db.scalars(select(TopicEvent).where(TopicEvent.topic_id == topic.id))}
        assert (log["create"].actor_id, log["create"].actor_role) == (None, "resident_service")
        assert log["create"].data == {"channel": "wechat_mini", "service": "街道微信小程序"}
        for action in ("confirm", "rate"):
            assert log[action].actor_id is None and log[action].actor_role == "resident"
            assert (log[action].data["via"], log[action].data["service"]) == ("wechat_mini", "街道微信小程序")
        rows = list(db.scalars(select(AuditLog).where(AuditLog.action.like("resident_service.%"))
                               .order_by(AuditLog.at)))
    assert [r.action for r in rows] == ["resident_service.raise", "resident_service.confirm",
                                        "resident_service.rate"]
    assert all(r.actor_id is None and r.detail["via"] == "api token 街道微信小程序" for r in rows)
    page = as_user("yanshan-staff").get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "街道微信小程序（代居民）" in page


def test_the_service_account_may_do_nothing_else(app, client, street, service):
    number = client.post(BASE, headers=auth(service), json=RAISE).get_json()["topic"]["number"]
    for method, path, payload in [
            ("get", "/api/v1/t/yanshan/topics", None), ("get", f"/api/v1/t/yanshan/topics/{number}", None),
            ("post", "/api/v1/t/yanshan/topics", {"title": "x", "channel": "wechat_mini"}),
            ("post", f"/api/v1/t/yanshan/topics/{number}/actions", {"action": "advance", "version": 1}),
            ("get", "/api/v1/t/yanshan/token", None), ("get", "/api/v1/t/yanshan/members", None),
            ("get", "/api/v1/t/yanshan/procedure", None), ("get", "/api/v1/t/yanshan/meetings", None)]:
        resp = getattr(client, method)(path, headers=auth(service), json=payload)
        assert resp.status_code == 403, (path, resp.get_json())
        assert resp.get_json()["error"]["code"] == "insufficient_scope"
        assert "service account for residents may only" in resp.get_json()["error"]["message"]


def test_no_other_token_acts_for_residents(app, client, as_user, world, street, service):
    code = client.post(BASE, headers=auth(service), json=RAISE).get_json()["code"]
    staff = as_user("yanshan-staff")
    personal = make_token(staff, scopes=("read", "topics", "upload", "manage"))
    admin = as_user("yanshan-admin")
    made = admin.post("/t/yanshan/manage/tokens", data={"csrf_token": csrf_token(admin), "name": "旧系统",
                                                        "role": "staff", "scopes": ["read", "topics", "manage"]})
    system = SECRET.search(made.get_data(as_text=True)).group(1)
    for secret in (personal, system):
        for resp in (client.post(BASE, headers=auth(secret), json=RAISE),
                     client.get(f"{BASE}/{code}?last4=5678", headers=auth(secret)),
                     client.post(f"{BASE}/{code}/confirm", headers=auth(secret), json={"last4": "5678"})):
            assert resp.status_code == 403
            assert "居民服务系统" in resp.get_json()["error"]["message"]
    # Nobody may give the scope to a token of their own, nor the role to a staff system token.
    taken = staff.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(staff), "name": "偷偷",
                                                  "scopes": ["residents"]})
    assert taken.status_code == 400 and "没有这项权限范围" in taken.get_data(as_text=True)
    role = admin.post("/t/yanshan/manage/tokens", data={"csrf_token": csrf_token(admin), "name": "冒充",
                                                        "role": "resident_service", "scopes": ["read"]})
    assert role.status_code == 400 and "此处不能分配该角色" in role.get_data(as_text=True)


def test_a_wrong_code_or_last4_is_one_404_and_guessing_is_throttled(app, client, street, service):
    from shangliang.portal.operations import SERVICE_LOOKUP_FAILURES

    code = client.post(BASE, headers=auth(service), json=RAISE).get_json()["code"]
    wrong_last4 = client.get(f"{BASE}/{code}?last4=0000", headers=auth(service))
    wrong_code = client.get(f"{BASE}/AAAAA-BBBBB?last4=5678", headers=auth(service))
    assert wrong_last4.status_code == wrong_code.status_code == 404
    assert wrong_last4.get_json() == wrong_code.get_json()
    assert "3号楼" not in wrong_last4.get_data(as_text=True)
    bad = client.get(f"{BASE}/{code}?last4=56", headers=auth(service))
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"last4": ["请填写手机号码后四位"]}
    for i in range(SERVICE_LOOKUP_FAILURES.count - 2):
        client.post(f"{BASE}/AAAAA-{i:05d}/rating", headers=auth(service),
                    json={"last4": "5678", "level": "satisfied", "solved": True})
    stopped = client.get(f"{BASE}/{code}?last4=5678", headers=auth(service))
    assert stopped.status_code == 429 and "查询失败次数过多" in stopped.get_json()["error"]["message"]
    assert 0 < int(stopped.headers["Retry-After"]) <= 15 * 60  # when the window of 15 minutes ends


def test_bad_input_is_refused_naming_each_field_in_chinese(app, client, street, service):
    def refused(payload, path=BASE):
        resp = client.post(path, headers=auth(service), json=payload)
        assert resp.status_code == 422, resp.get_json()
        return resp.get_json()["error"]["fields"]

    assert refused({"description": "x"}) == {"title": ["请填写标题"], "resident_phone": ["请填写手机号码"]}
    assert refused({**RAISE, "title": "长" * 61}) == {"title": ["标题最多 60 个字"]}
    assert refused({**RAISE, "resident_phone": "12345"}) == {"resident_phone": ["请填写 11 位手机号码，用于查询办理进度"]}
    assert refused({**RAISE, "title": "灯\x00坏了"})["title"]
    assert refused({**RAISE, "shoe_size": 42}) == {"shoe_size": ["没有这个字段"]}
    code = client.post(BASE, headers=auth(service), json=RAISE).get_json()["code"]
    fields = refused({"last4": "5678", "level": "satisfied", "solved": True, "score": 10 ** 20}, f"{BASE}/{code}/rating")
    assert list(fields) == ["score"]
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(Topic).where(Topic.title.like("长%"))) is None


def test_a_revoked_account_stops_at_once(app, client, as_user, world, street, service):
    assert client.post(BASE, headers=auth(service), json=RAISE).status_code == 201
    with app.app_context(), tenant_context(world.yanshan.id):
        token_id = db.scalar(select(ApiToken.id).where(ApiToken.name == "街道微信小程序"))
    admin = as_user("yanshan-admin")
    assert admin.post(f"/t/yanshan/manage/tokens/{token_id}/revoke",
                      data={"csrf_token": csrf_token(admin)}).status_code == 302
    assert client.post(BASE, headers=auth(service), json=RAISE).status_code == 401


def test_another_streets_slug_is_not_found(app, client, street, service):
    code = client.post(BASE, headers=auth(service), json=RAISE).get_json()["code"]
    assert client.get(f"/api/v1/t/langshan/resident/topics/{code}?last4=5678", headers=auth(service)).status_code == 404
    assert client.post("/api/v1/t/langshan/resident/topics", headers=auth(service), json=RAISE).status_code == 404
    assert client.post("/api/v1/t/no-such/resident/topics", headers=auth(service), json=RAISE).status_code == 404
