"""In a real browser (issue 15): a street administrator edits the procedure with the form, makes a
mistake, sees every edit kept and the problem named by step and field, fixes it, is asked to confirm
what publishing will change and is told what it did. At 1366×900 and 390×844; screenshots go to
test-output/browser/procedure-editor-*.png."""
from __future__ import annotations

import os

import pytest

import factories
from shangliang.core.db import db
from support.browser import CHROMIUM, SHOTS, browser, go_to, live_server, shows, sign_in  # noqa: F401

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth + 1"
# Words of the file format that must not reach a person reading the page
IDENTIFIERS = ("jiedan", "candan", "qibu_dingdan", "working_days", "triage", "deliberation", "street_admin",
               "category", "urgency", "photos", "advance", "reopen", "default: true", "#")


@pytest.fixture
def yanshan(app, world):
    """燕山 on 七步订单, with two topics under way."""
    with app.app_context():
        factories.procedure(world.yanshan, "qibu_dingdan")
        for title in ("楼道灯不亮", "小区停车难"):
            factories.raise_topic(world.yanshan, title=title)
        db.commit()
    return world.yanshan


def shoot(page, name):
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        assert page.evaluate(NO_SIDEWAYS), f"{name} scrolls sideways at {suffix}"
        page.screenshot(path=str(SHOTS / f"procedure-editor-{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def main_text(page):
    return page.locator("main").inner_text()


def test_edit_with_a_mistake_keep_the_edits_fix_it_and_publish_after_confirming(live_server, browser, yanshan):
    page = sign_in(browser, live_server, "yanshan-admin")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/t/yanshan/topics/")
    go_to(page, "工作法")
    page.click("text=修改并发布新版本")
    shows(page, "修改工作法：七步订单")
    text = main_text(page)
    assert not [w for w in IDENTIFIERS if w in text], [w for w in IDENTIFIERS if w in text]

    page.fill('[name="jiedan.amount"]', "5")  # 接单: the default 3 working days become 5
    page.fill('[name="candan.zh"]', "委员参单")  # 参单 renamed
    for role in ("staff", "member"):  # the mistake: nobody acts at 接单
        page.locator(f'input[name="jiedan.roles"][value="{role}"]').uncheck()
    page.click("button[value=preview]")
    shows(page, "第 2 步「接单」：请至少选择一个可办理的角色")
    assert page.input_value('[name="jiedan.amount"]') == "5"  # nothing typed is lost
    assert page.input_value('[name="candan.zh"]') == "委员参单"
    assert "shaixuan.roles" not in main_text(page) and "jiedan" not in main_text(page)
    shoot(page, "mistake")

    page.locator(".error-summary a").first.click()  # the summary leads to the field
    page.locator('input[name="jiedan.roles"][value="staff"]').check()
    page.locator('input[name="jiedan.roles"][value="member"]').check()
    page.click("button[value=preview]")
    shows(page, "预览：七步订单")
    assert page.locator(".error-summary").count() == 0
    preview = page.locator("#preview").inner_text()
    assert "委员参单" in preview and "5 个工作日" in preview
    assert "类别、紧急程度、地点" in preview  # 接单's fields by their names

    page.fill("#note", "接单时限改为 5 个工作日")
    page.click("button[value=publish]")
    shows(page, "发布「七步订单」第 2 版？",
          "发布后，新登记的议题按「七步订单」第 2 版办理；已在办的 2 件议题仍按原版本办完。")
    text = main_text(page)
    assert not [w for w in IDENTIFIERS if w in text], [w for w in IDENTIFIERS if w in text]
    shoot(page, "confirm")

    page.click("text=确认发布")
    shows(page, "已发布第 2 版「七步订单」：新登记的议题按此版本办理；已在办的 2 件议题仍按原版本办完。")
    assert "接单时限改为 5 个工作日" in main_text(page)
    shoot(page, "published")


def test_adopting_a_template_asks_first(live_server, browser, yanshan):
    page = sign_in(browser, live_server, "yanshan-admin")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/t/yanshan/manage/procedure/")
    page.locator(".tile", has_text="4+X 协商").locator("text=直接采用").click()
    shows(page, "采用「4+X 协商」？", "取代当前的「七步订单」（第 1 版）", "已在办的 2 件议题仍按原版本办完")
    text = main_text(page)
    assert "four_plus_x" not in text and "every time_limit" not in text
    shoot(page, "adopt-confirm")
    page.click("text=确认采用")
    shows(page, "已发布第 2 版「4+X 协商」")
    assert "采用模板《4+X 协商》" in main_text(page)


def test_each_template_goes_through_the_form_unchanged(live_server, browser, yanshan):
    """Checking a template's form untouched changes nothing: the form holds every part of every step."""
    page = sign_in(browser, live_server, "yanshan-admin")
    for key in ("qibu_dingdan", "sanji_liangti_yizhuan", "sihuan_babu", "tiyi_banping", "four_plus_x"):
        page.goto(f"{live_server}/t/yanshan/manage/procedure/edit?template={key}")
        before = page.input_value('input[name="text"]')
        page.click("button[value=preview]")
        shows(page, "预览：")
        assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
        assert page.input_value('input[name="text"]') == before, key
