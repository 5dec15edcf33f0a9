"""In a real browser, onboarding without friction: the county types only the new street's name and
its 标识 is suggested; the one-time link is copied with a button; the street's administrator makes
an invitation with two mistakes and sees both at once; the new street's overview shows its first
steps. Screenshots at 1366×900 and 390×844 go to test-output/browser/ (names starting with 4x-)."""
from __future__ import annotations

from conftest import PASSWORD
from support.browser import SHOTS, browser, go_to, live_server, shows  # noqa: F401  (fixtures)

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def shots(page, name):
    """The page at a desktop's size and at a phone's, whole."""
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def person(browser, base, username=None):
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    if username:
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
    return page


def copied(page) -> str:
    page.click("button[data-copy]")
    shows(page, "已复制")
    return page.evaluate("navigator.clipboard.readText()")


def test_a_street_is_onboarded_with_a_suggested_slug_a_copied_link_and_first_steps(live_server, browser):  # noqa: F811
    from playwright.sync_api import expect

    base = live_server
    county = person(browser, base, "lixia-admin")
    county.goto(f"{base}/t/lixia/manage/")
    go_to(county, "下辖单位")
    county.click("text=新建街道")
    county.locator("#name").press_sequentially("兴文街道", delay=40)
    expect(county.locator("#slug")).to_have_value("xingwen")  # suggested while the name was typed
    county.select_option("#procedure", "tiyi_banping")
    county.fill("#communities", "兴文社区：一网格，二网格\n红星社区：三网格")
    county.fill("#invite_note", "王主任")
    shots(county, "40-new-street-slug-suggested")
    county.click("button.primary")
    shows(county, "已创建 兴文街道")
    link = county.inner_text("#invite-link")
    assert "/t/xingwen/invite/" in link
    assert copied(county) == link
    shots(county, "41-street-created-link-copied")

    # The street's first administrator accepts and finds the first steps on the overview.
    admin = person(browser, base)
    admin.goto(link)
    admin.fill("#display_name", "王主任")
    admin.fill("#username", "wang")
    admin.fill("#password", PASSWORD)
    admin.fill("#password2", PASSWORD)
    admin.click("button.primary")
    shows(admin, "欢迎加入兴文街道", "入门步骤", "已完成 1 项，共 5 项")
    steps = admin.locator("#first-steps .task-list-item")
    assert steps.count() == 5
    assert admin.inner_text("#first-step-procedure-status") == "已完成"
    assert admin.inner_text("#first-step-brand-status") == "未完成"
    shots(admin, "42-first-steps")

    # An invitation with two mistakes (no role; a note too long, pasted past the field's limit):
    # both are named at once, at the top and at each field, and what was typed stays.
    admin.goto(f"{base}/t/xingwen/manage/invitations")
    note = "发给兴文社区的李书记和红星社区的张书记，" * 6
    admin.locator("form.form").evaluate("form => { form.noValidate = true; form.note.removeAttribute('maxlength'); }")
    admin.fill("#note", note)
    admin.click("form.form button.primary")
    shows(admin, "请修改以下 2 处")
    summary = admin.locator(".error-summary")
    assert summary.locator("a").all_inner_texts() == ["请选择角色", "备注最多 100 个字符"]
    assert admin.inner_text("#role-error") == "请选择角色" and admin.inner_text("#note-error") == "备注最多 100 个字符"
    assert admin.input_value("#note") == note
    shots(admin, "43-invitation-all-errors")
    summary.locator("a", has_text="请选择角色").click()
    assert admin.evaluate("location.hash") == "#role"
    admin.select_option("#role", "member")
    admin.fill("#note", "李书记")
    admin.click("form.form button.primary")
    shows(admin, "邀请链接已生成")
    member_link = admin.inner_text("#invite-link")
    assert copied(admin) == member_link and member_link != link
    shots(admin, "44-invitation-link-copied")
