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
