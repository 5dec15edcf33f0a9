"""In a real browser: a member finds 接口令牌 in the menu, makes a token with two scopes, copies its
secret (shown once), uses it, and revokes it after confirming; an administrator sees every token of
the street with its owner and makes one for a system. Screenshots at 1366×900 and 390×844 go to
test-output/browser/tokens-*.png. Without Chromium the test is skipped, except in CI."""
from __future__ import annotations

import os
import re

import pytest

from support.browser import CHROMIUM, SHOTS, browser, go_to, live_server, shows, sign_in  # noqa: F401

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"tokens-{name}-{size}.png"), full_page=True)
        # nothing wider than the screen: a phone never scrolls sideways on these pages
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, size)
    page.set_viewport_size(SIZES["desktop"])


def test_a_member_and_an_admin_manage_tokens(live_server, browser, client):
    base = live_server
    member = sign_in(browser, base, "yanshan-member")
    member.goto(f"{base}/t/yanshan/manage/")
    go_to(member, "接口令牌")
    shows(member, "您在本单位还没有接口令牌")
    assert member.locator("nav.subnav").count() == 0  # the whole street's tokens are not theirs to see
    member.fill("#name", "议题小程序")
    member.check("input[name=scopes][value=topics]")
    member.fill("#expires_on", "2000-01-01")
    member.click("text=创建令牌")
    shows(member, "到期日不能早于今天")
    assert member.input_value("#name") == "议题小程序"  # kept, with the error beside its field
    member.fill("#expires_on", "")
    member.click("text=创建令牌")
    shows(member, "令牌已创建")
    secret = member.locator(".token-secret code.secret").inner_text()
    assert re.fullmatch(r"slt_[0-9a-f]{32}_[A-Za-z0-9_-]+", secret)
    shoot(member, "member-created")

    assert client.get("/api/v1/t/yanshan/topics", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    member.goto(f"{base}/t/yanshan/tokens")
    assert secret not in member.content()  # shown once
    shows(member, "议题小程序", "读取", "办理议题")
    member.click(".token-revoke summary")
    shoot(member, "member-revoke")
    member.click("text=确认停用“议题小程序”")
    shows(member, "令牌“议题小程序”已停用", "已停用")
    assert client.get("/api/v1/t/yanshan/topics", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    staff = sign_in(browser, base, "yanshan-staff")
    staff.goto(f"{base}/t/yanshan/tokens")
    staff.fill("#name", "工作台脚本")
    staff.check("input[name=scopes][value=upload]")
    staff.click("text=创建令牌")
    shows(staff, "令牌已创建")

    admin = sign_in(browser, base, "yanshan-admin")
    admin.goto(f"{base}/t/yanshan/tokens")
    admin.click("nav.subnav >> text=本单位全部令牌")
    shows(admin, "议题小程序", "工作台脚本", "yanshan-member", "yanshan-staff")
    admin.fill("#name", "12345 热线平台")
    admin.check("input[name=scopes][value=topics]")
    admin.select_option("#role", "staff")
    admin.click("text=创建令牌")
    shows(admin, "令牌已创建", "系统对接")
    shoot(admin, "admin-all")
    admin.set_viewport_size(SIZES["desktop"])
    admin.click("nav.subnav >> text=我的令牌")
    shows(admin, "您在本单位还没有接口令牌")
    shoot(admin, "admin-mine")
