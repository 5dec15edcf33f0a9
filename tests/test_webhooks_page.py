"""The 事件推送 page (integrations/views.py): who may open it, the form (errors named at their
fields, input kept, addresses on loopback or the intranet refused unless allowed), the secret shown
once and kept sealed, pausing, deleting with a confirmation, and the audit of each."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from conftest import csrf_token
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.integrations import operations, signing, targets
from shangliang.integrations.events import emit
from shangliang.integrations.models import WebhookDelivery, WebhookSubscription
from shangliang.tenants.models import Tenant

PAGE = "/t/yanshan/manage/webhooks/"


@pytest.fixture
def config(config):
    config.webhook_allow_networks = ("127.0.0.0/8",)
    return config


def create(client, **form):
    data = {"csrf_token": csrf_token(client), "name": "12345 热线回访", "url": "http://127.0.0.1:9/hook?token=abc",
            "events": ["topic.created", "topic.closed"]} | form
    return client.post(PAGE, data=data)


def rows(app, model, tenant_id):
    with app.app_context(), tenant_context(tenant_id):
        return list(db.scalars(select(model)))


def audit(app, tenant_id) -> list:
    with app.app_context(), tenant_context(tenant_id):
        return list(db.execute(select(AuditLog.action, AuditLog.detail).where(AuditLog.action.like("webhook.%"))
                               .order_by(AuditLog.id)))


def test_who_may_open_the_page(world, as_user):
    assert as_user("yanshan-admin").get(PAGE).status_code == 200
    assert as_user("lixia-admin").get(PAGE).status_code == 200  # the county's administrators manage its streets'
    assert as_user("lixia-admin").get("/t/lixia/manage/webhooks/").status_code == 403  # a county has no events
    assert as_user("yanshan-staff").get(PAGE).status_code == 403
    assert as_user("yanshan-member").get(PAGE).status_code == 403
    assert as_user("guangwumen-admin").get(PAGE).status_code == 404
    menu = as_user("yanshan-admin").get("/t/yanshan/manage/").get_data(as_text=True)
    assert f'href="{PAGE}">事件推送</a>' in menu


def test_the_secret_is_shown_once_and_kept_sealed(app, world, as_user):
    admin = as_user("yanshan-admin")
    resp = create(admin)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "只显示这一次" in page
    secret = re.search(r'<code class="secret" id="secret">(whsec_[\w-]+)</code>', page).group(1)
    [row] = rows(app, WebhookSubscription, world.yanshan.id)
    assert (row.name, row.url, row.events, row.active) == ("12345 热线回访", "http://127.0.0.1:9/hook?token=abc",
                                                          ["topic.created", "topic.closed"], True)
    assert secret not in row.secret_sealed
    assert signing.unseal(row.secret_sealed, row.tenant_id, row.id) == secret
    with pytest.raises(signing.Unreadable):  # bound to its row: copied to another, it does not open
        signing.unseal(row.secret_sealed, world.guangwumen.id, row.id)
    again = admin.get(PAGE).get_data(as_text=True)
    assert secret not in again and "12345 热线回访" in again and "议题办结" in again
    [(action, detail)] = audit(app, world.yanshan.id)
    assert action == "webhook.create" and detail["url"] == "http://127.0.0.1:9/hook"  # not the token in its query
    assert secret not in str(detail)


def test_form_errors_name_their_fields_in_words_and_keep_what_was_typed(app, world, as_user):
    admin = as_user("yanshan-admin")
    resp = create(admin, name="", url="ftp://files.example.org/x", events=[])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "请填写名称" in page and "接收地址必须以 http:// 或 https:// 开头" in page and "请至少选择一种推送事件" in page
    assert 'value="ftp://files.example.org/x"' in page
    resp = create(admin, name="区数据平台", url="https://user:pw@127.0.0.1/x", events=["meeting.held"])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "不能写用户名和密码" in page
    assert 'value="区数据平台"' in page and re.search(r'value="meeting.held" checked', page)
    assert create(admin, events=["topic.deleted"]).status_code == 400
    assert rows(app, WebhookSubscription, world.yanshan.id) == [] and audit(app, world.yanshan.id) == []


@pytest.mark.parametrize("url", ["http://10.20.0.8/hook", "http://192.168.1.1/", "http://169.254.169.254/latest/",
                                 "http://[::ffff:10.0.0.1]/", "http://[::1]:8000/", "http://0.0.0.0/",
                                 "http://100.64.0.1/", "http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/"])
def test_addresses_on_the_intranet_are_refused(app, world, as_user, url):
    resp = create(as_user("yanshan-admin"), url=url)
    assert resp.status_code == 400 and "按本系统的设置不允许推送" in resp.get_data(as_text=True)


def test_a_url_is_kept_as_a_request_spells_it():
    assert targets.check_url(" http://127.0.0.1:9/回调?名=值&a=%20 ") == \
        "http://127.0.0.1:9/%E5%9B%9E%E8%B0%83?%E5%90%8D=%E5%80%BC&a=%20"
    assert targets.check_url("HTTP://127.0.0.1") == "http://127.0.0.1/"
    with pytest.raises(Exception, match="找不到接收地址的主机"):
        targets.check_url("https://no-such-host.invalid/hook")


def test_loopback_is_refused_unless_the_installation_allows_it_at_creation_and_at_delivery(
        app, world, as_user, monkeypatch):
    from support.receiver import Receiver

    receiver = Receiver().start()
    try:
        with app.app_context(), tenant_context(world.yanshan.id):
            operations.subscribe(db.get(Tenant, world.yanshan.id), None,
                                 {"name": "本机", "url": receiver.url, "events": ["topic.created"]})
            db.commit()
        monkeypatch.setitem(targets._allowed, "networks", ())  # WEBHOOK_ALLOW_NETWORKS unset: the default
        admin = as_user("yanshan-admin")
        for url in (receiver.url, f"http://2130706433:{receiver.port}/", f"http://localhost:{receiver.port}/"):
            resp = create(admin, url=url)  # 2130706433: 127.0.0.1 spelt as a number
            assert resp.status_code == 400 and "指向本机或内网" in resp.get_data(as_text=True), url
        # The subscription made while it was allowed is checked again when it is delivered.
        from shangliang.integrations import delivery

        with app.app_context(), tenant_context(world.yanshan.id):
            [row] = emit(db(), world.yanshan.id, "topic.created", {"topic": {"number": 1}})
            db.commit()
            outcome = delivery.attempt(row.id)
            db.commit()
        assert (outcome.ok, outcome.reason) == (False, "forbidden") and receiver.received == []
        [row] = rows(app, WebhookDelivery, world.yanshan.id)
        assert (row.state, row.last_error, row.attempts) == ("pending", "forbidden", 1)
    finally:
        receiver.stop()


def test_pause_resume_and_delete_with_confirmation_are_audited(app, world, as_user):
    admin = as_user("yanshan-admin")
    create(admin)
    [sub] = rows(app, WebhookSubscription, world.yanshan.id)
    with app.app_context(), tenant_context(world.yanshan.id):
        emit(db(), world.yanshan.id, "topic.created", {"topic": {"number": 1}})
        db.commit()
    token = csrf_token(admin)
    base = f"{PAGE}{sub.id}"
    admin.post(f"{base}/active", data={"csrf_token": token, "active": "0"})
    page = admin.get(PAGE).get_data(as_text=True)
    assert "暂停中" in page and ">恢复推送</button>" in page
    admin.post(f"{base}/active", data={"csrf_token": token, "active": "1"})

    resp = admin.post(f"{base}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "删除前请勾选“确认删除”" in resp.get_data(as_text=True)
    assert len(rows(app, WebhookSubscription, world.yanshan.id)) == 1
    assert admin.post(f"{base}/delete", data={"csrf_token": token, "confirm": "1"}).status_code == 302
    assert rows(app, WebhookSubscription, world.yanshan.id) == [] and rows(app, WebhookDelivery, world.yanshan.id) == []
    assert [a for a, _d in audit(app, world.yanshan.id)] == ["webhook.create", "webhook.pause", "webhook.resume",
                                                             "webhook.delete"]
    assert admin.post(f"{base}/delete", data={"csrf_token": token, "confirm": "1"}).status_code == 404


def test_the_page_in_english(world, as_user):
    admin = as_user("yanshan-admin")
    admin.set_cookie("lang", "en")
    page = admin.get(PAGE).get_data(as_text=True)
    assert "Webhooks" in page and "New subscription" in page and "Topic closed" in page


def test_the_settings_are_checked_at_start_up(tmp_path):
    from shangliang.config import ConfigError, from_env

    env = {"SHANGLIANG_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 40}
    cfg = from_env(env | {"WEBHOOK_ALLOW_NETWORKS": "10.20.0.0/16, 127.0.0.0/8", "WEBHOOK_RETRY_MINUTES": "90"})
    assert (cfg.webhook_allow_networks, cfg.webhook_retry_minutes) == (("10.20.0.0/16", "127.0.0.0/8"), 90)
    assert from_env(env).webhook_allow_networks == ()  # nothing private by default
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_NETWORKS"):
        from_env(env | {"WEBHOOK_ALLOW_NETWORKS": "intranet"})
    with pytest.raises(ConfigError, match="WEBHOOK_RETRY_MINUTES"):
        from_env(env | {"WEBHOOK_RETRY_MINUTES": "0"})
