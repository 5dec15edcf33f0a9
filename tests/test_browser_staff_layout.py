"""In a real browser, a street's staff pages at 1366×900 and 390×844 (issue 15): the grouped menu
fits a phone and opens one group at a time, closing on a click elsewhere; the board of a seven-step
procedure shows every column whole on a wide screen, and on a phone lists the steps with their
counts and overdue topics first. Screenshots go to test-output/browser/staff-*.png."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import update

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics.counts import recount
from shangliang.topics.models import Topic
from support.browser import CHROMIUM, SHOTS, browser, go_to, live_server, shows, sign_in  # noqa: F401

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def board(app, world):
    """燕山 on 七步订单 with topics at its first step, one of them overdue."""
    with app.app_context():
        factories.procedure(world.yanshan, "qibu_dingdan")
        numbers = [factories.raise_topic(world.yanshan, title=f"议题{i}", community="燕子山社区").number
                   for i in range(5)]
        with tenant_context(world.yanshan.id):
            db.execute(update(Topic).where(Topic.number == numbers[-1]).values(overdue=True, title="楼道灯坏了很久"))
            recount(world.yanshan.id)  # a direct write is counted again, as counts.py asks
        db.commit()
    return numbers


def test_the_grouped_menu_fits_a_phone_and_opens_one_group_at_a_time(live_server, browser, board):
    page = sign_in(browser, live_server, "yanshan-admin")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/t/yanshan/topics/")
    assert page.evaluate(NO_SIDEWAYS)
    nav = page.locator("nav.tenantnav")
    assert nav.evaluate("n => n.scrollWidth <= n.clientWidth + 1")  # no menu scrolled sideways
    assert nav.locator("summary.current").inner_text().strip() == "议题"  # where we are
    nav.locator("summary:text-is('设置')").click()
    assert nav.locator("a:text-is('工作法')").is_visible()
    nav.locator("summary:text-is('名册与轮值')").click()  # another group: the first one closes
    assert nav.locator("details[open]").count() == 1 and not nav.locator("a:text-is('工作法')").is_visible()
    page.screenshot(path=str(SHOTS / "staff-menu-open-phone.png"))
    page.locator("footer").click()
    assert nav.locator("details[open]").count() == 0
    go_to(page, "工作法")
    page.wait_for_url("**/procedure/**")
    assert nav.locator("summary.current").inner_text().strip() == "设置"


def test_the_board_shows_every_column_whole_and_a_phone_a_list_of_steps(live_server, browser, board):
    page = sign_in(browser, live_server, "yanshan-admin")
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/t/yanshan/topics/")
    shows(page, "议题看板")
    columns = page.locator(".board-col")
    assert columns.count() == 7
    right = page.locator(".board").evaluate("b => b.getBoundingClientRect().right")
    for i in range(7):  # no column cut at the edge: all seven inside the board, nothing to scroll to
        assert columns.nth(i).evaluate("c => c.getBoundingClientRect().right") <= right + 1
    assert page.locator(".board").evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    assert not page.locator(".board-hint").is_visible()
    page.screenshot(path=str(SHOTS / "staff-board-desktop.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate(NO_SIDEWAYS)
    first = columns.first
    assert first.locator("h2 .count").inner_text() == "5" and "1 超时" in first.locator("h2").inner_text()
    assert first.locator(".topic-card").first.inner_text().count("楼道灯坏了很久") == 1  # overdue first
    assert first.locator(".topic-card:visible").count() == 3  # the rest a tap away
    tops = [columns.nth(i).evaluate("c => c.getBoundingClientRect().top") for i in range(7)]
    assert tops == sorted(tops) and tops[1] - tops[0] > 0  # one below the other, in the procedure's order
    assert columns.nth(1).evaluate("c => c.getBoundingClientRect().height") < 60  # an empty step: one line
    assert page.locator("text=已超时 1 件").is_visible()
    page.screenshot(path=str(SHOTS / "staff-board-phone.png"), full_page=True)
    first.locator("a.all").click()
    page.wait_for_url("**/topics/list?**step=**")
    assert page.locator("table tbody tr").count() == 5
