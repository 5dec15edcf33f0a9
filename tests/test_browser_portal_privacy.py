"""The portal's 点单 form in a real browser, on a phone (390×844) and a desktop (1366×900): the
personal-information notice is there and readable before sending, a quick resident is asked once to
confirm (nothing typed lost) and then gets a receipt; and a street administrator publishing a brand
sees what will change and confirms. Screenshots go to test-output/browser/portalux-*.png."""
from __future__ import annotations

import os

import pytest

import factories
from shangliang.branding import operations as brands
from shangliang.branding.brand import form_values
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.demo.brands import ensure_demo_brand
from shangliang.portal import operations as portal_ops
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from support.browser import CHROMIUM, SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture
def street(app, world, monkeypatch):
    """燕山 in its demo brand (hotlines, mailbox); any form sent within a minute counts as quick."""
    monkeypatch.setattr(portal_ops, "MIN_FILL_SECONDS", 60)
    with app.app_context():
        factories.procedure(world.yanshan)
        with tenant_context(world.yanshan.id):
            yanshan = db.get(Tenant, world.yanshan.id)
            save_places(yanshan, None, "燕子山社区：1 网格，2 网格", "")
            ensure_demo_brand(yanshan, None)
        db.commit()
    return world.yanshan


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"portalux-{name}.png"), full_page=True)


def fits(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling, nothing cut off."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_a_quick_resident_reads_the_notice_confirms_once_and_gets_a_receipt(street, live_server, browser, size):
    context = browser.new_context(viewport=VIEWPORTS[size], is_mobile=size == "phone")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server}/t/yanshan/raise")
    notice = page.locator("#privacy")
    assert notice.is_visible() and "只有本街道的工作人员和接手办理的政协委员" in notice.inner_text()
    assert page.locator("#consent").is_visible()
    size_px = float(notice.locator("p").first.evaluate("p => getComputedStyle(p).fontSize").rstrip("px"))
    assert size_px >= 14  # readable on a phone, not small print
    page.click("#privacy summary")
    shows(page, "保存多久", "目前不会自动删除", "查阅、更正或删除")
    assert "0531" in notice.inner_text()  # the hotline to ask, from the brand
    assert fits(page)
    page.fill("#title", "3 号楼楼道灯坏了")
    page.fill("#description", "晚上回家看不见台阶，老人容易摔倒。")
    page.fill("#resident_phone", "13812345678")
    page.fill("#resident_name", "王大妈")
    shot(page, f"{size}-1-raise-with-notice")
    page.click("form button.primary")
    shows(page, "请确认提交", "3 号楼楼道灯坏了", "晚上回家看不见台阶")
    assert "提交太快" not in page.content() and fits(page)
    shot(page, f"{size}-2-confirm")
    if size == "phone":  # 返回修改 keeps everything; sent again, it is asked again, then goes through
        page.click("button[name=edit]")
        shows(page, "我要点单")
        assert page.input_value("#title") == "3 号楼楼道灯坏了" and page.input_value("#resident_phone") == "13812345678"
        assert page.input_value("#description") == "晚上回家看不见台阶，老人容易摔倒。"
        page.click("form button.primary")
        shows(page, "请确认提交")
    page.click("button[data-confirm]")
    shows(page, "已收到您的点单")
    assert page.inner_text("#receipt-code")
    shot(page, f"{size}-3-receipt")
    context.close()


def test_publishing_a_brand_says_what_changes_and_waits_for_confirmation(app, street, live_server, browser):
    with app.app_context(), tenant_context(street.id):
        yanshan = db.get(Tenant, street.id)
        current = brands.version(yanshan, yanshan.brand_number)
        form = {**form_values(yanshan, current), "slogan": "有事好商量 众人的事情由众人商量"}
        draft = brands.save_version(yanshan, None, form).number
        db.commit()
    admin = sign_in(browser, live_server, "yanshan-admin")
    admin.set_viewport_size(VIEWPORTS["desktop"])
    admin.goto(f"{live_server}/t/yanshan/manage/brand/preview/{draft}")
    admin.click("text=发布此版本")
    shows(admin, f"发布第 {draft} 版品牌？", f"发布后，公开页面和工作人员页面立即使用第 {draft} 版品牌",
          f"与正在使用的第 {current.number} 版相比，改变的是：口号。")
    assert fits(admin)
    shot(admin, "brand-1-confirm")
    portal = browser.new_page()  # nothing is published by asking
    portal.goto(f"{live_server}/t/yanshan/")
    assert "众人的事情由众人商量" not in portal.content() and "有事莫心急" in portal.content()
    portal.close()
    admin.click("button[data-confirm]")
    shows(admin, f"已发布第 {draft} 版品牌，公开页面和工作页面已使用此版本。")
    shot(admin, "brand-2-published")
    admin.goto(f"{live_server}/t/yanshan/")
    shows(admin, "有事好商量 众人的事情由众人商量")
