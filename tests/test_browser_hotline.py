"""In a real browser: the county administrator creates the 12345 account on 12345 热线 (its secret
shown once), orders arrive from the stand-in hotline, one waits in the queue and is sent to a
street from there; the callbacks' state shows street by street. Screenshots at 1366x900 and
390x844 go to test-output/browser/hotline-*.png."""
from __future__ import annotations

import re

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Tenant
from hotline_world import config, hotline, streets_ready  # noqa: F401  (fixtures)
from support.browser import SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)
from support.hotline import order

PAGE = "/t/lixia/manage/hotline/"


def test_create_the_account_see_the_queue_and_assign_an_order(app, world, live_server, browser, hotline,  # noqa: F811
                                                              run_jobs):
    streets_ready(app, world)
    page = sign_in(browser, live_server, "lixia-admin")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}{PAGE}")
    shows(page, "还没有热线账号", "没有待分派的工单")
    page.screenshot(path=str(SHOTS / "hotline-empty-1366.png"), full_page=True)
    page.fill("#name", "德州 12345 热线")
    page.fill("#callback_url", hotline.url)
    page.click("text=创建热线账号")
    shows(page, "只显示这一次")
    hotline.secret = page.locator("#secret").inner_text()
    assert hotline.secret.startswith("whsec_")

    client = app.test_client()
    assert hotline.send(client, "lixia", "orders", order("DZ20261207001")).status_code == 201
    for number, address, content in [("DZ20261207002", "德州市德城区新华路 88 号", "小区门口积水三天没人管"),
                                      ("DZ20261207003", "立功社区和狼山社区交界处", "路边垃圾桶满了没人清")]:
        assert hotline.send(client, "lixia", "orders", order(number, address=address, content=content,
                                                             caller={"name": "李先生", "phone": "13900001111"})
                            ).status_code == 201
    with app.app_context():
        street = db.get(Tenant, world.yanshan.id)
        with tenant_context(street.id):
            from shangliang.topics.models import Topic

            topic = db.scalar(db.query(Topic).statement)
            factories.advance(street, topic, world.users["yanshan-staff"].id, roles={"staff"})  # 受理
        db.commit()
    hotline.stop()  # the hotline is down: its 受理 waits
    run_jobs()

    page.goto(f"{live_server}{PAGE}")
    shows(page, "待分派工单", "新华路 88 号", "地址同时对上了几个街道", "139****1111", "状态回传")
    assert "13900001111" not in page.content()
    page.screenshot(path=str(SHOTS / "hotline-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}{PAGE}")
    page.screenshot(path=str(SHOTS / "hotline-390.png"), full_page=True)

    page.set_viewport_size({"width": 1366, "height": 900})
    row = page.locator("tr", has_text="DZ20261207002")
    row.locator("select").select_option(label="燕山街道")
    row.get_by_role("button", name="分派").click()
    shows(page, "工单 DZ20261207002 已派往街道，生成议题 #2")
    assert page.locator("#queue tr", has_text="DZ20261207002").count() == 0
    page.screenshot(path=str(SHOTS / "hotline-assigned-1366.png"), full_page=True)
    recent = page.locator("#recent").inner_text()
    assert re.search(r"DZ20261207002\s+燕山街道\s+#2", recent) and "区县分派" in recent
