"""In a real browser (Debian's headless Chromium through Playwright): a street admin edits and
publishes a procedure, and staff register a topic on it (its seven steps, each by its own people,
are test_browser_seed_yanshan.py's).
Screenshots go to test-output/browser/. Without Chromium the test is skipped, except in CI."""
from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from support.browser import CHROMIUM, SHOTS, browser, choose_files, live_server, shows, sign_in  # noqa: F401

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")


def do(page, action, shot=None, files=None, choose=None, **fields):
    """Fill and submit the topic page's form for one action (`choose`: radio buttons by name and
    value; a field that is a list, such as a category from the street's own or a score, is
    selected), then check it was recorded."""
    form = page.locator(f"form.action-form:has(input[name=action][value={action}])").first
    for name, value in (choose or {}).items():
        form.locator(f"input[name={name}][value={value}]").check()
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if files:
        form.locator("input[type=file]").set_input_files(files)
    with page.expect_navigation():  # the page that answers, not the one the form was on
        form.locator("button").click()
    if page.locator("button[data-confirm]").count():  # 办结, 不予受理: asked first, what will change said
        if shot:
            page.screenshot(path=str(SHOTS / f"{shot}-confirm.png"), full_page=True)
        with page.expect_navigation():
            page.locator("button[data-confirm]").click()
    try:
        expect(page.locator(".flash-success")).to_be_visible(timeout=15_000)
    except AssertionError as refused:
        raise AssertionError(f"{action}: {page.locator('.flash-error').all_inner_texts()}") from refused
    if shot:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)


def attach(page, path, shot=None):
    """Upload a photo with the gallery's widget (straight to storage, then checked in the
    background), wait for the page to reload with it ready, and see it recorded as evidence: by
    itself where the step asks for a photo (the box is ticked), else with 记为证据."""
    box = page.locator("#files [data-as-evidence]")
    recorded = page.locator(".timeline > li", has_text="记为证据")
    before = recorded.count()
    if box.count() and box.is_checked():
        choose_files(page, "#files", path)
        expect(recorded).to_have_count(before + 1, timeout=30_000)  # the reload after the check shows it
        assert page.locator("#files .gallery-ready img").count() >= 1
        if shot:
            page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        return
    choose_files(page, "#files", path)
    form = page.locator("form.action-form:has(input[name=action][value=attach])").first
    form.locator("select[name=attachment_id]").wait_for(timeout=30_000)
    assert page.locator("#files .gallery-ready img").count() >= 1
    if shot:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    do(page, "attach")


def test_publish_a_procedure_and_register_a_topic_on_it(live_server, browser):
    base = live_server

    admin = sign_in(browser, base, "yanshan-admin")
    admin.goto(f"{base}/t/yanshan/manage/procedure/")
    admin.click("text=预览并修改 >> nth=1")  # 七步订单 (the templates are listed by key)
    shows(admin, "修改工作法：七步订单")
    admin.fill('[name="jiedan.amount"]', "4")  # the form is the editor: 接单's default 3 working days
    admin.fill("#note", "接单时限改为 4 个工作日")
    admin.click("button[value=preview]")
    shows(admin, "预览：七步订单")
    admin.screenshot(path=str(SHOTS / "01-procedure-preview.png"), full_page=True)
    admin.click("button[value=publish]")
    shows(admin, "发布后，新登记的议题按「七步订单」第 1 版办理。")
    admin.click("text=确认发布")
    shows(admin, "已发布第 1 版")
    admin.screenshot(path=str(SHOTS / "02-procedure-published.png"), full_page=True)
    admin.goto(f"{base}/t/yanshan/departments/")  # the street office that 跟单 will name
    admin.fill("#name", "街道城管中心")
    admin.click("form.form button.primary")
    shows(admin, "已添加：街道城管中心")

    staff = sign_in(browser, base, "yanshan-staff")
    staff.goto(f"{base}/t/yanshan/topics/new")
    staff.fill("#title", "立功小区天然气安装")
    staff.fill("#community", "燕子山社区")
    staff.fill("#resident_name", "王大妈")
    staff.fill("#resident_phone", "13812341234")
    staff.fill("#description", "楼道里没有天然气管道，老人做饭不方便")
    staff.click("form.form button.primary")
    shows(staff, "已登记议题 #1")
    staff.screenshot(path=str(SHOTS / "03-topic-recorded.png"), full_page=True)

    staff.goto(f"{base}/t/yanshan/topics/1")
    shows(staff, "点单", "立功小区天然气安装")  # it starts at the first step of the version just published
    # The seven steps themselves, each done by its own people, are test_browser_seed_yanshan.py's.
