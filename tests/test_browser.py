"""In a real browser (Debian's headless Chromium through Playwright): a street admin edits and
publishes a procedure; staff and a member move a topic through all seven steps of 七步订单.
Screenshots go to test-output/browser/. Without Chromium the test is skipped, except in CI."""
from __future__ import annotations

import os

import pytest

from support.browser import CHROMIUM, SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")


def do(page, action, shot=None, files=None, choose=None, **fields):
    """Fill and submit the topic page's form for one action (`choose`: radio buttons by name and
    value), then check it was recorded."""
    form = page.locator(f"form.action-form:has(input[name=action][value={action}])").first
    for name, value in (choose or {}).items():
        form.locator(f"input[name={name}][value={value}]").check()
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    if files:
        form.locator("input[type=file]").set_input_files(files)
    with page.expect_navigation():  # the page that answers, not the one the form was on
        form.locator("button").click()
    try:
        shows(page, "已记录")
    except AssertionError as refused:
        raise AssertionError(f"{action}: {page.locator('.flash-error').all_inner_texts()}") from refused
    if shot:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)


def attach(page, path, shot=None):
    """Upload a photo with the gallery's widget (straight to storage, then checked in the
    background), wait for the page to reload with it ready, and record it as evidence."""
    page.locator("#files input[type=file]").set_input_files(path)
    form = page.locator("form.action-form:has(input[name=action][value=attach])").first
    form.locator("select[name=attachment_id]").wait_for(timeout=30_000)
    assert page.locator("#files .gallery-ready img").count() >= 1
    if shot:
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
    do(page, "attach")


def test_publish_a_procedure_and_run_a_topic_through_seven_steps(live_server, browser, tmp_path, run_jobs):
    from support import samples

    base = live_server
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(samples.photo())

    admin = sign_in(browser, base, "yanshan-admin")
    admin.goto(f"{base}/t/yanshan/manage/procedure/")
    admin.click("text=预览并修改 >> nth=1")  # 七步订单 (the templates are listed by key)
    text = admin.input_value("#text")
    assert "key: qibu_dingdan" in text
    admin.fill("#text", text.replace("time_limit: {working_days: 3, default: true}", "time_limit: {working_days: 4}", 1))
    admin.fill("#note", "接单时限改为 4 个工作日")
    admin.click("button[value=preview]")
    shows(admin, "预览：七步订单")
    admin.screenshot(path=str(SHOTS / "01-procedure-preview.png"), full_page=True)
    admin.click("button[value=publish]")
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

    do(staff, "record", grid="3 网格")
    do(staff, "advance", "04-diandan-done")                                   # 点单 → 接单
    do(staff, "record", category="燃气", place="2 号楼")
    attach(staff, str(photo), "05a-photo-checked")
    do(staff, "advance", "05-jiedan-done")                                    # 接单 → 参单

    member = sign_in(browser, base, "yanshan-member")
    member.goto(f"{base}/t/yanshan/topics/1")
    do(member, "claim")
    member.locator("form.action-form:has(input[name=action][value=transfer]) label:has-text('街道城管中心') input").check()
    do(member, "transfer", "06-candan-done", asked="核实楼道燃气管道走向，提出入户方案")  # 参单 → 跟单

    staff.goto(f"{base}/t/yanshan/topics/1")
    do(staff, "record", plan="燃气公司入户铺设管道")
    do(staff, "advance", "07-gendan-done")                                    # 跟单 → 商单
    do(staff, "record", outcome="燃气公司下月施工，社区协调入户")
    attach(staff, str(photo))
    do(staff, "consult", agreement="燃气公司承诺下月施工")
    do(staff, "advance", "08-shangdan-done")                                  # 商单 → 评单
    rate_form = staff.locator("form.action-form:has(input[name=action][value=rate])")
    rate_form.locator("input[name=level][value=basic]").check()
    rate_form.locator("input[name=solved][value=true]").check()
    rate_form.locator("input[name=valid]").check()  # marked invalid, but no reason: refused, nothing lost
    rate_form.locator("button").click()
    shows(staff, "请说明评价无效的原因")
    rate_form.screenshot(path=str(SHOTS / "08b-rate-form-refused.png"))
    assert rate_form.locator("input[name=level][value=basic]").is_checked()
    rate_form.locator("input[name=valid]").uncheck()
    do(staff, "rate", "08c-rated", choose={"level": "basic", "solved": "true"}, via="12345")
    shows(staff, "基本满意 · 问题已解决 · 评价渠道 12345")
    assert staff.locator("form.action-form:has(input[name=action][value=reopen])").count() == 0
    do(staff, "advance", "09-pingdan-done")                                   # 评单 → 收单
    do(staff, "record", summary="管道已通，居民满意")
    do(staff, "close", "10-shoudan-closed")                                   # 收单: closed
    shows(staff, "已办结", "13812341234")

    member.goto(f"{base}/t/yanshan/topics/1")
    shows(member, "13812341234")  # the member took it up, so handles it and sees the phone
    staff.goto(f"{base}/t/yanshan/topics/?status=closed")
    shows(staff, "立功小区天然气安装")
    staff.screenshot(path=str(SHOTS / "11-board-closed.png"), full_page=True)

    admin.goto(f"{base}/t/yanshan/files/")  # the street's files: usage against the quota, every file
    shows(admin, "现场.jpg", "与已有文件相同，只存一份")
    admin.screenshot(path=str(SHOTS / "12-files-quota.png"), full_page=True)
