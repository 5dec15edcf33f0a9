"""The seed case of 阳谷县's 4+X 协商 at 狮子楼街道, in a real browser (headless Chromium), from the
article 《有事好商量 架起连心桥》(人民政协网, 2021-09-22): 狮子楼街道's 工作室 sets up a stall in the
market (“在集市中心‘摆摊设点听民声’……当场答复问题”), where a resident raises the litter left after
market days. Each actor signs in as themselves and does their own part:

- a resident on the public portal, on her phone at the stall (not signed in): raises the topic with
  a receipt code, supports it on 议题公示, and gives her 反馈评价 with the receipt code;
- the village cadre (社区干部, staff: shizilou-staff): at the stall records another resident's
  question heard in person and answers it on the spot (当场答复, 件件有回音); screens the topic,
  puts it on 议题公示 with the photo of the posted notice, records what was carried out, sums up and
  publishes the reviewed 办理公示;
- the CPPCC member (shizilou-member): 会前调研, the field visit the meeting works from;
- the street's 政协联络室主任 (street administrator, shizilou-admin): convenes the 4+X meeting
  (member, village cadre, department head, resident representative, and the stallholders as X),
  records its agreement and plan and hands the outcome to the department (采纳落实);
- the contact of 街道环卫所 (a department of the street): accepts it from the inbox and replies
  with a photo of what was done.

Screenshots: test-output/browser/seed-shizilou-NN-*.png."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import factories
from conftest import PASSWORD
from shangliang.accounts.operations import create_user
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.operations import save_places
from support import samples
from support.browser import SEED_CASE, browser, choose_files, live_server, shows  # noqa: F401  (fixtures)
from support.seed_case import arrive, follow, move, notice_support, pick, resident, shooter, submit, timeline, upload
from test_browser import attach, do

pytestmark = SEED_CASE  # in the services run only (support/browser.py says why)

RESIDENT, PHONE = "赵桂兰", "13869551234"
TITLE = "狮子楼大街散集后垃圾没人清运"
NOTICE_TITLE = "狮子楼大街集市散集后垃圾清运"
REPLY = "环卫所已在集市东、西两口各增设 4 个垃圾桶，逢三、八大集散集后 1 小时内清运完毕"
shot = shooter("shizilou")


@pytest.fixture
def shizilou(app, world, monkeypatch):
    """What the county and the street's administrator set up before: 狮子楼街道 on 4+X with its
    communities and categories, its administrator (政协联络室主任), a village cadre (staff), a CPPCC
    member, the street's 环卫所 with its contact, and the roster the meeting's 4+X are picked from."""
    from shangliang.portal import operations as portal

    monkeypatch.setattr(portal, "MIN_FILL_SECONDS", 0)  # the resident's forms may be sent at once
    with app.app_context():
        street = factories.street("shizilou", "狮子楼街道", parent=world.chengguan, procedure_key="four_plus_x")
        with tenant_context(street.id):
            save_places(street, None, "狮子楼社区：一网格，二网格\n西街社区\n东关社区", "环境卫生\n市场管理\n停车管理\n公共设施")
        factories.login(street, "street_admin", "shizilou-admin", "政协联络室 刘主任")
        factories.login(street, "staff", "shizilou-staff", "狮子楼社区 孙立新")
        factories.member(street, "武建华", "shizilou-member", community="狮子楼社区")
        contact = create_user("shizilou-huanwei", "环卫所 李建军", PASSWORD)
        factories.department(street, "街道环卫所", "street_office", contacts=[contact])
        factories.person(street, "community_secretary", "孙立新", community="狮子楼社区",
                         organisation="狮子楼社区居委会", username="shizilou-staff")
        factories.person(street, "department_contact", "李建军", organisation="街道环卫所", username="shizilou-huanwei")
        factories.person(street, "resident_rep", "赵秀梅", community="狮子楼社区")
        db.commit()
    return street


def test_shizilou_four_plus_x_market_litter(live_server, browser, shizilou, run_jobs, tmp_path):
    base, topic = live_server, "/t/shizilou/topics/1"
    poster, report, done = tmp_path / "议题公示张贴.jpg", tmp_path / "会前调研走访记录.pdf", tmp_path / "散集后清运.jpg"
    poster.write_bytes(samples.photo(size=(900, 1200), colour="navy"))
    report.write_bytes(samples.pdf())
    done.write_bytes(samples.photo(size=(1200, 900)))

    # 摆摊设点听民声: at the stall in the market, a resident raises it herself, on her phone.
    zhao = resident(browser, base, "/t/shizilou/raise")
    zhao.fill("#title", TITLE)
    zhao.fill("#description", "逢三、八大集，散集后烂菜叶、塑料袋堆在大街两边，第二天还没人清走，天热了气味很大")
    zhao.select_option("#community", "狮子楼社区")
    zhao.fill("#place", "狮子楼大街集市东口")
    zhao.fill("#resident_name", RESIDENT)
    zhao.fill("#resident_phone", PHONE)
    submit(zhao, "form.form button.primary")
    shows(zhao, "已收到您的点单", "征集议题")
    code = zhao.inner_text("#receipt-code")
    shot(zhao, 1, "resident-receipt")

    # At the same stall the village cadre records a question heard in person and answers it on the spot.
    staff = arrive(browser, base, "shizilou-staff", "/t/shizilou/topics/new")
    staff.fill("#title", "集市旁公厕几点开门")
    staff.select_option("#channel", "stall")
    staff.select_option("#community", "狮子楼社区")
    staff.fill("#description", "赶集的老人问集市旁的公厕早上几点开门")
    submit(staff, "form.form button.primary")
    shows(staff, "已登记议题 #2", "摆摊设点")
    do(staff, "advance")
    pick(staff, "record", category="公共设施")
    do(staff, "record")
    move(staff, "huiyin", "当场答复：公厕逢集日早六点开门，已告知")
    do(staff, "record", summary="当场答复，群众满意")
    do(staff, "close")
    shows(staff, "已办结", "当场答复：公厕逢集日早六点开门")
    assert "当场答复 筛选议题 → 件件有回音" in timeline(staff)
    shot(staff, 2, "staff-answers-at-the-stall")

    # 筛选议题 and 议题公示: the village cadre screens the resident's topic, puts it on notice and
    # records the photo of the notice posted at the market.
    staff.goto(base + topic)
    shows(staff, TITLE, "网上点单", "征集议题")
    do(staff, "advance")
    pick(staff, "record", category="环境卫生")
    do(staff, "record")
    do(staff, "advance")
    shows(staff, "议题公示")
    staff.fill("#notice-title", NOTICE_TITLE)
    staff.fill("#notice-text", "逢集日散集后垃圾清运不及时。拟召开“4+X”协商议事会，请委员、社区、环卫所、居民代表和摊贩一起商量，欢迎群众支持和留言。")
    submit(staff, "#notice form.form button.primary")
    shows(staff, "公示议题 #", NOTICE_TITLE, "不会公开：居民的称呼、电话和地点")
    submit(staff, "button[data-confirm]")
    shows(staff, "已公示")
    attach(staff, str(poster))
    shot(staff, 3, "staff-notice-with-poster")

    # The resident supports it on the portal's 议题公示 (议什么由群众说了算).
    zhao.goto(f"{base}/t/shizilou/yiti")
    shows(zhao, NOTICE_TITLE, "环境卫生 · 狮子楼社区", "会期待定", "0 人支持")
    assert RESIDENT not in zhao.content() and "集市东口" not in zhao.content()
    submit(zhao, "text=我支持 / 我要留言")
    notice_support(zhao, PHONE)
    shows(zhao, "1 人支持")
    shot(zhao, 4, "resident-supports")
    staff.goto(base + topic)
    do(staff, "advance")
    shows(staff, "会前调研")

    # 会前调研: the member walks the market and records the first-hand findings.
    member = arrive(browser, base, "shizilou-member", topic)
    upload(member, str(report))
    do(member, "advance")
    shows(member, "协商议事会")
    shot(member, 5, "member-research")

    # 协商议事会 (4+X): the 联络室主任 convenes the member, the village cadre, the department head and
    # a resident representative, with the stallholders as X, at the market itself.
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    starts = min(now.replace(second=0, microsecond=0) + timedelta(minutes=1), now.replace(hour=23, minute=59))
    admin = arrive(browser, base, "shizilou-admin", "/t/shizilou/meetings/new?topic=1")
    assert "议题公示 支持 1" in admin.inner_text("#topics")
    admin.fill("#title", "狮子楼大集散集垃圾清运“4+X”协商议事会")
    admin.select_option("#form", "on_site")
    admin.fill("#starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    admin.fill("#place", "狮子楼大街集市东口")
    for name in ("武建华", "孙立新", "李建军", "赵秀梅"):
        admin.check(f"input[name=attend][aria-label='参会 {name}']")
    admin.fill("input[name=extra_name_0]", "政协联络室主任 刘洪")
    admin.select_option("select[name=extra_group_0]", "cadre")
    admin.check("input[name=extra_convener_0]")
    admin.fill("input[name=extra_name_1]", "集市摊贩代表 王师傅")  # X: the stallholders, stakeholders
    shot(admin, 6, "admin-plans-4x-meeting")
    submit(admin, "form.meeting-form button.primary")
    shows(admin, "已创建议事会 #1")
    groups = admin.inner_text("#people")
    for words in ("政协委员", "武建华", "孙立新", "部门", "李建军", "居民代表", "赵秀梅", "利益相关方", "王师傅"):
        assert words in groups, words
    admin.fill("#minutes-text", "一、集市东、西两口各增设 4 个垃圾桶\n二、散集后 1 小时内清运\n三、摊贩自带垃圾袋，谁摆摊谁清理")
    submit(admin, "#minutes form button.primary")
    shows(admin, "第 1 版")
    submit(admin, "form:has(input[name=status][value=held]) button")
    shows(admin, "已召开")
    admin.fill("#agreement-1", "增设垃圾桶，散集后 1 小时内清运；摊贩自带垃圾袋，谁摆摊谁清理")
    submit(admin, "#topic-1 button[value=record]")
    shows(admin, "已记入议题 #1 的协商记录")
    admin.goto(base + topic)
    do(admin, "record", plan="环卫所增设垃圾桶并在散集后 1 小时内清运；社区督促摊贩谁摆摊谁清理")
    do(admin, "advance")
    shows(admin, "采纳落实")

    # 采纳落实: handed to the 环卫所, whose contact accepts it and replies with a photo from the inbox.
    admin.locator("form.action-form:has(input[name=action][value=transfer]) label:has-text('街道环卫所') input").check()
    do(admin, "transfer", asked="请按协商意见增设垃圾桶，逢集散集后 1 小时内清运，答复落实情况并附照片")
    shows(admin, "待接收")
    dept = arrive(browser, base, "shizilou-huanwei", "/t/shizilou/transfers/")
    shows(dept, "转办待办", f"#1 {TITLE}", "狮子楼社区", "待接收")
    shot(dept, 7, "department-inbox")
    submit(dept, f"text=#1 {TITLE}")
    submit(dept, "form:has(input[name=do][value=accept]) button")
    shows(dept, "已接收")
    choose_files(dept, "#evidence", str(done))
    dept.locator("#evidence .gallery-ready img").wait_for(timeout=30_000)  # files.js reloads once it passed
    dept.fill("#answer", REPLY)
    submit(dept, "form:has(input[name=do][value=reply]) button")
    shows(dept, "已答复，街道会在议题的办理经过中看到")
    assert RESIDENT not in dept.content() and PHONE not in dept.content()
    shot(dept, 8, "department-replied")

    staff.goto(base + topic)
    history = timeline(staff)
    for words in ("部门接收", "部门答复", REPLY, "办理凭证", "散集后清运.jpg"):
        assert words in history, words
    do(staff, "record", outcome="集市两口增设 8 个垃圾桶，散集后 1 小时内清运完毕")
    do(staff, "advance")
    shows(staff, "反馈评价")

    # 反馈评价: the resident rates it on the portal with her receipt code.
    follow(zhao, base, "shizilou", code, PHONE)
    shows(zhao, "已转交部门办理", "散集后 1 小时内清运完毕", "评单：请您评价办理结果")
    zhao.check("input[name=level][value=very_satisfied]")
    zhao.check("input[name=solved][value=true]")
    zhao.fill("#comment", "现在散了集街上就干净了")
    shot(zhao, 9, "resident-rates")
    submit(zhao, "form.rate-form button.primary")
    shows(zhao, "感谢您的评价！", "非常满意 · 问题已解决")

    # 件件有回音: the answer is summed up and the topic closed; every step is on its timeline.
    staff.goto(base + topic)
    do(staff, "advance")
    do(staff, "record", summary="协商意见已落实，群众非常满意，件件有回音")
    do(staff, "close")
    shows(staff, "已办结")
    history = timeline(staff)
    for words in ("议题公示", "照片：议题公示张贴.jpg", "附件：会前调研走访记录.pdf", "协商记录", "交部门采纳落实 采纳落实 → 采纳落实", "转交：街道环卫所",
                  "评价 · 居民", "非常满意 · 问题已解决 · 评价渠道 网上点单", "现在散了集街上就干净了"):
        assert words in history, words
    shot(staff, 10, "staff-timeline-closed")

    # 办理公示, reviewed: published by staff, shown on the portal without the resident's name or phone.
    staff.goto(f"{base}/t/shizilou/publication/")
    shows(staff, f"#1 {TITLE}")
    staff.fill("#title-1", NOTICE_TITLE)
    submit(staff, "#t1 button[value=publish]")
    submit(staff, "button[data-confirm]")
    shows(staff, "#1 已公示")
    zhao.goto(f"{base}/t/shizilou/gongshi")
    shows(zhao, NOTICE_TITLE, "8 个垃圾桶", "4+X 协商")
    public = zhao.locator("main").inner_text()
    assert RESIDENT not in public and PHONE not in public and "集市东口" not in public
    shot(zhao, 11, "portal-gongshi")
