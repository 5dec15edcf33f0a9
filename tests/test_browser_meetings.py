"""In a real browser: staff call a meeting for a topic with two conveners (双召集人), record the
minutes and a work list, log the agreement on the topic, and the topic moves on.
Screenshots go to test-output/browser/ (meeting-form.png, meeting-page.png, meeting-topic.png)."""
from __future__ import annotations

from test_browser import SHOTS, browser, live_server, sign_in  # noqa: F401  (fixtures)
from test_meetings import street  # noqa: F401  (fixture: 燕山街道 with a roster and topic #1 at 商单)


def submit(page, form_selector, button="button"):
    page.locator(form_selector).locator(button).first.click()
    page.wait_for_load_state()
    errors = page.locator(".flash-error").all_inner_texts()
    assert not errors, errors


def test_hold_a_meeting_for_a_topic_and_see_the_topic_move_on(live_server, browser, street):  # noqa: F811
    base = live_server
    page = sign_in(browser, base, "yanshan-staff")
    page.goto(f"{base}/t/yanshan/topics/1")
    page.click("#meetings >> text=召开议事会")  # from the topic, at its 商单 step
    page.fill("#title", "3 号楼楼道灯议事会")
    page.fill("#place", "燕子山社区议事室")
    page.fill("#agenda", "楼道灯更换方案\n费用分担")
    for name in ("王书记", "李委员"):
        page.check(f"input[name=convene][aria-label='召集人 {name}']")
    for name in ("赵委员", "钱科长", "周大姐"):
        page.check(f"input[name=attend][aria-label='参会 {name}']")
    page.fill("input[name=extra_name_0]", "鑫源物业 张经理")
    assert page.is_checked("input[name=topics][value='1']")
    page.screenshot(path=str(SHOTS / "meeting-form.png"), full_page=True)
    submit(page, "form.meeting-form", "button.primary")
    assert "已创建议事会 #1" in page.content()

    page.fill("#minutes-text", "一、议定由物业更换 3 号楼楼道灯\n二、费用由公共维修基金支出")
    submit(page, "#minutes form")
    submit(page, "form:has(input[name=status][value=held])")
    assert "已召开" in page.inner_text(".page-head")
    page.fill("#work-title", "更换 3 号楼全部楼道灯")
    page.select_option("#work-owner", label="钱科长")
    page.fill("#work-due", "2030-05-23")
    page.select_option("#work-topic", value="1")
    submit(page, "form.work-form")
    page.fill("#agreement-1", "物业三天内更换楼道灯，费用由公共维修基金支出")
    page.click("#topic-1 button[value=record]")
    page.wait_for_load_state()
    assert "已记入议题 #1 的协商记录" in page.content()
    page.screenshot(path=str(SHOTS / "meeting-page.png"), full_page=True)

    page.goto(f"{base}/t/yanshan/topics/1")
    advance = page.locator("form.action-form:has(input[name=to][value=ping])")
    advance.locator("button").click()
    page.wait_for_load_state()
    assert "已记录" in page.content()
    assert page.inner_text(".steps-bar li.current") == "评单"  # the topic moved on
    page.screenshot(path=str(SHOTS / "meeting-topic.png"), full_page=True)
