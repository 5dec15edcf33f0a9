"""Issue 5's journey in a real browser (headless Chromium): the street admin imports a roster
file with bad rows and adds stations; staff set a week's duty rota for the imported members,
call a meeting for a topic with two conveners, upload photos of it straight to storage, record
the minutes and a work list, log the agreement on the topic and see the topic move on.
Screenshots go to test-output/browser/journey-*.png."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from support import samples
from support.browser import SHOTS, browser, choose_files, live_server, shows, sign_in  # noqa: F401  (fixtures)
from support.databases import config, world  # noqa: F401  (fixtures: on the street's database)
from support.meeting_street import built, street  # noqa: F401  (燕山街道, topic #1 at 商单, takes a consultation record)

ROSTER = """类别,姓名,电话,界别,专长,级别,社区,网格,单位或部门,登录账号
政协委员,李明华,13905310101,经济界,物业、停车管理,街道级,燕子山社区,,,
政协委员,王秀兰,13905310102,社会法制界,法律、纠纷调解,县级,立功社区,,,
政协委员,张建国,13905310103,医药卫生界,养老、医疗,街道级,燕子山社区,,,
社区书记,陈红,13905310301,,,,燕子山社区,,燕子山社区党委,
网格员,刘强,13905310201,,,,燕子山社区,,,
居民代表,黄建民,13905310501,,,,燕子山社区,,,nobody
"""


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"journey-{name}.png"), full_page=True)


def submitted(page, click):
    """Click a form's button and check the page that comes back names no problem."""
    page.locator(click).first.click()
    page.wait_for_load_state()
    errors = page.locator(".flash-error, .field-error").all_inner_texts()
    assert not errors, errors


def test_roster_duty_meeting_photos_minutes_and_the_topic_moves_on(live_server, browser, street,  # noqa: F811
                                                                 run_jobs, tmp_path):
    base = live_server
    roster = tmp_path / "燕山街道名册.csv"
    roster.write_bytes(b"\xef\xbb\xbf" + ROSTER.encode())  # as Excel's "CSV UTF-8" saves it
    photos = [tmp_path / "议事会现场.jpg", tmp_path / "签到表.jpg"]
    for path, colour in zip(photos, ("teal", "navy")):
        path.write_bytes(samples.photo(size=(1200, 900), colour=colour))

    # 1. The street admin imports the roster: a progress bar, then the report with the refused rows.
    admin = sign_in(browser, base, "yanshan-admin")
    admin.goto(f"{base}/t/yanshan/roster/import")
    admin.set_input_files("#file", str(roster))
    admin.click("form.form button.primary")
    admin.locator(".grid.counts").wait_for(timeout=30_000)  # export.js reloads the page once the job is done
    counts = dict(card.split() for card in admin.locator(".grid.counts .card").all_inner_texts())
    assert counts == {"新增": "4", "更新": "0", "未变": "0", "拒绝": "2"}, counts  # 6 rows, 2 refused
    refused = admin.locator("table.refused tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in refused] == [["6", "网格"], ["7", "登录账号"]], refused  # rows as the sheet counts
    assert "网格员须填写所在网格" in refused[0] and "本街道没有这个登录账号" in refused[1] and "nobody" in refused[1]
    shot(admin, "1-roster-import")

    admin.goto(f"{base}/t/yanshan/roster/stations")
    for name, kind, address in (("燕子山社区庭院网格e站", "grid_station", "燕子山社区 3 号楼下"),
                                ("燕子山社区议事室", "meeting_room", "燕子山社区党群服务中心二楼")):
        admin.fill("#name", name)
        admin.select_option("#kind", kind)
        admin.fill("#community", "燕子山社区")
        admin.fill("#address", address)
        admin.fill("#hours", "周一至周五 9:00–17:00")
        submitted(admin, "form.roster-form button.primary")
    assert "燕子山社区议事室" in admin.inner_text("table")

    # 2. Staff set this week's rota: two imported members at the e-station on three days, today among them.
    staff = sign_in(browser, base, "yanshan-staff")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))  # the street's time zone
    year, week, weekday = now.isocalendar()
    on_duty = {(weekday - 1 + d) % 7 for d in (0, 2, 4)}  # days of the week, Monday = 0
    staff.goto(f"{base}/t/yanshan/duty/?week={year}-W{week:02d}")
    staff.select_option("#station_id", label="燕子山社区庭院网格e站")
    for i in on_duty:
        staff.locator("input[name=days]").nth(i).check()
    for name in ("李明华", "王秀兰"):
        staff.check(f".member-choices label:has-text('{name}') input")
    submitted(staff, "form[action$='/duty/assign'] button.primary")
    assert "已安排 6 个班次" in staff.inner_text(".flash")
    cells = staff.locator("table.duty-week tbody tr", has_text="燕子山社区庭院网格e站").locator("td")
    for i in range(7):
        assert set(cells.nth(i).locator(".shift > span").all_inner_texts()) == (
            {"李明华", "王秀兰"} if i in on_duty else set()), i
    today = staff.inner_text(".duty-today")
    assert "李明华" in today and "王秀兰" in today and "燕子山社区庭院网格e站" in today
    shot(staff, "2-duty-rota")

    # 3. From the topic, at 商单: a meeting in the meeting room with two conveners from the roster.
    staff.goto(f"{base}/t/yanshan/topics/1")
    staff.click("#meetings >> text=召开议事会")
    staff.fill("#title", "3 号楼楼道灯议事会")
    staff.select_option("#form", "meeting_room")
    staff.fill("#starts_at", (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:00"))  # held two hours ago
    staff.select_option("#station_id", label="燕子山社区议事室")
    staff.fill("#agenda", "楼道灯更换方案\n费用分担")
    for name in ("陈红", "李明华"):  # 双召集人: the community's Party secretary and the linked member
        staff.check(f"input[name=convene][aria-label='召集人 {name}']")
    for name in ("王秀兰", "张建国", "钱科长", "周大姐"):
        staff.check(f"input[name=attend][aria-label='参会 {name}']")
    staff.fill("input[name=extra_name_0]", "鑫源物业 张经理")
    assert staff.is_checked("input[name=topics][value='1']")
    shot(staff, "3-meeting-form")
    submitted(staff, "form.meeting-form button.primary")
    shows(staff, "已创建议事会 #1")
    facts = staff.inner_text(".facts")
    assert "李明华、陈红" in facts or "陈红、李明华" in facts

    # 4. Photos of the meeting, through its gallery: straight to storage, checked in the background.
    choose_files(staff, "#files", [str(p) for p in photos])
    staff.locator("#files .gallery-ready img").nth(1).wait_for(timeout=60_000)  # files.js reloads once both pass
    assert staff.locator("#files .gallery-ready").count() == 2
    assert staff.locator("#files .gallery-checking").count() == 0
    staff.locator("#files").scroll_into_view_if_needed()  # thumbnails load lazily
    staff.wait_for_function("() => [...document.querySelectorAll('#files .gallery-ready img')]"
                            ".every(img => img.complete && img.naturalWidth > 0)")  # through their signed links
    shot(staff, "4-meeting-photos")

    # 5. Attendance, minutes, held, and the work list.
    for name in ("李明华", "陈红", "王秀兰", "钱科长", "周大姐", "鑫源物业 张经理"):  # 张建国 was away
        staff.check(f"#people label:has-text('{name}') input")
    submitted(staff, "#people button")
    assert "出席 6 / 共 7 人" in staff.inner_text("#people h2")
    staff.fill("#minutes-text", "一、议定由物业更换 3 号楼全部楼道灯\n二、费用由公共维修基金支出，社区公示")
    submitted(staff, "#minutes form button")
    submitted(staff, "form:has(input[name=status][value=held]) button")
    assert "已召开" in staff.inner_text(".page-head")
    for title, owner, days in (("更换 3 号楼全部楼道灯", "钱科长", 3), ("公示维修基金支出", "陈红", 7)):
        staff.fill("#work-title", title)
        staff.select_option("#work-owner", label=owner)
        staff.fill("#work-due", (now + timedelta(days=days)).date().isoformat())
        staff.select_option("#work-topic", value="1")
        submitted(staff, "form.work-form button.primary")
    work = staff.inner_text("#work table")
    assert "更换 3 号楼全部楼道灯" in work and "钱科长" in work and (now + timedelta(days=7)).date().isoformat() in work
    shot(staff, "5-minutes-and-work-list")

    # 6. The agreement goes into the topic's consultation record, and the topic moves on.
    staff.fill("#agreement-1", "物业三天内更换楼道灯，费用由公共维修基金支出")
    staff.click("#topic-1 button[value=record]")
    staff.wait_for_load_state()
    shows(staff, "已记入议题 #1 的协商记录")
    staff.goto(f"{base}/t/yanshan/topics/1")
    assert staff.inner_text(".steps-bar li.current") == "商单"
    submitted(staff, "form.action-form:has(input[name=to][value=ping]) button")
    shows(staff, "已推进到「评单」")
    assert staff.inner_text(".steps-bar li.current") == "评单"  # the topic moved on
    assert "3 号楼楼道灯议事会" in staff.inner_text("#meetings")
    shot(staff, "6-topic-moved-on")
