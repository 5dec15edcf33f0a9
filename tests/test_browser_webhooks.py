"""In a real browser: a street administrator subscribes the 12345 platform's receiver on 事件推送,
copies the secret shown once, sees deliveries delivered, waiting to retry and given up with their
reasons, and sends the dead one again. Screenshots at 1366x900 and 390x844 go to
test-output/browser/webhooks-*.png."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

import factories
from shangliang.core.db import db, utcnow
from shangliang.core.tenancy import tenant_context
from shangliang.integrations.models import WebhookDelivery
from shangliang.tenants.models import Tenant
from support.browser import SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)
from support.receiver import Receiver
from test_webhooks import deliveries, raise_topic, retry_pass

PAGE = "/t/yanshan/manage/webhooks/"


@pytest.fixture
def config(config):
    config.webhook_allow_networks = ("127.0.0.0/8",)
    return config


def test_subscribe_watch_deliveries_and_send_a_dead_one_again(app, world, live_server, browser, run_jobs):  # noqa: F811
    receiver = Receiver().start()
    try:
        with app.app_context():
            factories.procedure(db.get(Tenant, world.yanshan.id))
            db.commit()
        page = sign_in(browser, live_server, "yanshan-admin")
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{live_server}{PAGE}")
        page.fill("#name", "12345 热线回访")
        page.fill("#url", receiver.url)
        for label in ("议题登记", "议题办结", "部门答复"):
            page.get_by_label(label).check()
        page.click("text=创建订阅")
        shows(page, "只显示这一次")
        assert page.locator("#secret").inner_text().startswith("whsec_")

        raise_topic(app, world.yanshan)  # delivered
        run_jobs()
        receiver.stop()
        raise_topic(app, world.yanshan)  # refused: waiting to retry
        run_jobs()
        with app.app_context(), tenant_context(world.yanshan.id):  # the first of them has run out of time
            first_pending = min((d for d in deliveries(app, world.yanshan) if d.state == "pending"),
                                key=lambda d: d.created_at)
            db.execute(update(WebhookDelivery).where(WebhookDelivery.id == first_pending.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1),
                               give_up_at=utcnow() - timedelta(seconds=1)))
            db.commit()
        retry_pass(app, world.yanshan, run_jobs)
        raise_topic(app, world.yanshan)  # one more waiting
        run_jobs()
        assert sorted(d.state for d in deliveries(app, world.yanshan)) == ["dead", "delivered", "pending"]

        page.goto(f"{live_server}{PAGE}")
        shows(page, "已送达", "已放弃", "等待重试", "接收方拒绝连接")
        page.screenshot(path=str(SHOTS / "webhooks-1366.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server}{PAGE}")
        page.screenshot(path=str(SHOTS / "webhooks-390.png"), full_page=True)

        receiver.start()
        page.set_viewport_size({"width": 1366, "height": 900})
        dead = page.locator("tr", has_text="已放弃")
        dead.get_by_role("button", name="重新发送").click()
        shows(page, "已重新加入发送队列")
        run_jobs()
        assert sorted(d.state for d in deliveries(app, world.yanshan)) == ["delivered", "delivered", "pending"]
        page.reload()
        shows(page, "已送达")
        assert page.locator("text=已放弃").count() == 0
        page.screenshot(path=str(SHOTS / "webhooks-resent-1366.png"), full_page=True)
    finally:
        receiver.stop()
