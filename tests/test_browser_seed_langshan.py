"""The seed case of 狼山镇街道's 四环八步, in a real browser (headless Chromium), from the article
《南通狼山镇街道：“有事好商量”，激发基层治理新效能》(中国江苏网, 2020-04-20): 城山社区's square has no
lighting (“小区中心广场亮化工程”). Each actor signs in as themselves and does their own part:

- two residents on the public portal (not signed in): 公开征题 with a receipt code, support and
  comments on 议题公示, and 群众评议 with the receipt code;
- the linked CPPCC member 叶晓波 (langshan-member): 委员荐题 (claims and passes it on), 协商前调研,
  委员评议;
- the street's 政协工委 staff (langshan-staff): 审批定题 with the category and 议题公示, approving a
  comment, taking it to the street-level room (提请), planning and holding the meeting, 成果反馈,
  转化 (transfer to the county's 住建局), 成效评估 and the reviewed 办理公示;
- the street administrator (党工委, langshan-admin): answers the 提请 from the escalation queue and
  gives the 党政点评;
- the contact of 历下区住建局 (a county department): accepts and replies from the county's inbox;
- the county administrator (lixia-admin): 督办 of the escalated topic.

Screenshots: test-output/browser/seed-langshan-NN-*.png."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import factories
from conftest import PASSWORD
from shangliang.accounts.operations import create_user
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from support import samples
from support.browser import SEED_CASE, browser, live_server, shows  # noqa: F401  (fixtures)
from support.seed_case import arrive, follow, notice_support, pick, resident, shooter, submit, timeline, upload
from test_browser import attach, do

pytestmark = SEED_CASE  # in the services run only (support/browser.py says why)

RESIDENT, PHONE = "侯连英", "13962880101"
NEIGHBOUR_PHONE = "13962880202"
TITLE = "城山社区中心广场晚上没有路灯"
NOTICE_TITLE = "城山社区中心广场亮化工程"
REPLY = "区住建局已将城山社区中心广场亮化列入今年民生实事项目，6 盏太阳能路灯本月底前安装到位"


@pytest.fixture
def langshan(app, world, monkeypatch):
    """What the street's and the county's administrators set up before: the street on 四环八步, its
    communities and categories, its staff and the linked member (on the roster, with a login), the
    community's Party secretary on the roster, and the county's 住建局 with its contact."""
    from shangliang.portal import operations as portal

    monkeypatch.setattr(portal, "MIN_FILL_SECONDS", 0)  # the residents' forms may be sent at once
    street = world.langshan
    with app.app_context():
        factories.procedure(street, "sihuan_babu")
        with tenant_context(street.id):  # (the World's row is read again: this is another session)
            save_places(db.get(Tenant, street.id), None, "城山社区：一网格，二网格\n南郊社区\n剑山社区\n陆洪社区", "公共设施\n环境卫生\n小区管理")
        factories.login(street, "staff", "langshan-staff", "政协工委 陈干事")
        factories.member(street, "叶晓波", "langshan-member", community="城山社区")
        factories.person(street, "community_secretary", "周红", community="城山社区", organisation="城山社区党委")
        contact = create_user("lixia-zhujian", "住建局 王科长", PASSWORD)
        factories.department(world.lixia, "区住建局", "county_department", contacts=[contact])
        db.commit()
    return street


shot = shooter("langshan")


def test_langshan_sihuan_babu_square_lighting(live_server, browser, langshan, run_jobs, tmp_path):
    base, topic = live_server, "/t/langshan/topics/1"
    report, photo = tmp_path / "广场亮化调研报告.pdf", tmp_path / "协商议事现场.jpg"
    report.write_bytes(samples.pdf())
    photo.write_bytes(samples.photo(size=(1200, 900)))

    # 公开征题: a resident raises it on the portal, on her phone, and keeps the receipt code.
    hou = resident(browser, base, "/t/langshan/")
    submit(hou, "text=我要点单")
    hou.fill("#title", TITLE)
    hou.fill("#description", "广场是居民晚上跳舞散步的地方，一到晚上漆黑一片，老人摔倒过两次")
    hou.select_option("#community", "城山社区")
    hou.fill("#place", "城山社区中心广场东侧 3 号灯杆")
    hou.fill("#resident_name", RESIDENT)
    hou.fill("#resident_phone", PHONE)
    submit(hou, "form.form button.primary")
    shows(hou, "已收到您的点单", "征集议题")
    code = hou.inner_text("#receipt-code")
    shot(hou, 1, "resident-receipt")

    # 委员荐题: the linked member takes it up and recommends it for approval.
    member = arrive(browser, base, "langshan-member", topic)
    shows(member, TITLE, "网上点单", "城山社区")
    do(member, "claim")
    do(member, "advance", comment="委员荐题：广场亮化关系群众夜间出行安全，建议列入本季度协商议题")
    shows(member, "审批定题")
    shot(member, 2, "member-recommends")

    # 审批定题: staff classify it and put it on 议题公示 (公开征题).
    staff = arrive(browser, base, "langshan-staff", topic)
    pick(staff, "record", category="公共设施")
    do(staff, "record")
    staff.fill("#notice-title", NOTICE_TITLE)
    staff.fill("#notice-text", "城山社区中心广场夜间无照明，居民出行不便。拟召开协商议事会商量亮化方案，欢迎居民支持和留言。")
    submit(staff, "#notice form.form button.primary")
    shows(staff, "公示议题 #1？", NOTICE_TITLE, "不会公开：居民的称呼、电话和地点")
    submit(staff, "button[data-confirm]")
    shows(staff, "已公示")
    assert "公示中" in staff.inner_text("#notice")
    shot(staff, 3, "staff-notice")

    # Residents support it and comment on the portal's 议题公示: the one who raised it, and a neighbour.
    submit(hou, ".portal-nav >> text=议题公示")
    shows(hou, NOTICE_TITLE, "会期待定", "0 人支持")
    submit(hou, "text=我支持 / 我要留言")
    notice_support(hou, PHONE, "建议装太阳能路灯，省电")
    neighbour = resident(browser, base, "/t/langshan/yiti/1")
    notice_support(neighbour, NEIGHBOUR_PHONE, "晚上九点以后可以调暗一些，别影响楼里休息")
    shows(neighbour, "2 人支持", "0 条留言")  # comments wait for staff
    public = neighbour.locator("article.notice").inner_text()
    assert RESIDENT not in public and PHONE not in public and "3 号灯杆" not in public
    shot(neighbour, 4, "neighbour-supports")

    # Staff approve the comments on their 议题公示 page.
    staff.goto(f"{base}/t/langshan/notice/")
    shows(staff, "建议装太阳能路灯", "别影响楼里休息")
    shot(staff, 5, "staff-comments-to-approve")
    for _ in range(2):
        submit(staff, "button[value=approve] >> nth=0")
    shows(staff, "没有待审核的留言")

    # 提交街道级协商议事室: beyond the community, to the street's room (提请, level street).
    staff.goto(base + topic)
    do(staff, "escalate", reason="广场亮化涉及区住建局的民生实事项目，社区协调不了，提请街道级协商议事室")
    shows(staff, "协商前调研")

    # The street administrator (党工委) answers from the escalation queue.
    admin = arrive(browser, base, "langshan-admin", "/t/langshan/escalations/")
    shows(admin, f"#1 {TITLE}", "待答复", "社区协调不了")
    shot(admin, 6, "admin-escalation-queue")
    submit(admin, f"text=#1 {TITLE}")
    admin.check("input[name=kind][value=take_up]")
    admin.fill("#answer", "由街道党工委副书记召集街道级协商议事会，约请区住建局参加")
    submit(admin, "form.action-form button.primary")
    shows(admin, "已答复：上级牵头办理")
    admin.goto(f"{base}/t/langshan/escalations/?state=answered")
    shows(admin, f"#1 {TITLE}", "上级牵头办理")

    # The county administrator supervises (督办) the escalated topic on its page.
    county = arrive(browser, base, "lixia-admin", topic)
    county.fill("#supervise textarea[name=note]", "请街道本月内召开协商议事会，拿出亮化方案")
    due = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=20)).date()
    county.fill("#supervise input[name=due_on]", due.isoformat())
    submit(county, "#supervise button")
    shows(county, "已督办")
    assert f"区县督办 · 新期限 {due.isoformat()}" in timeline(county)
    shot(county, 7, "county-supervises")

    # Staff plan the meeting, with what residents said in sight; 双召集人: the member and the street's
    # deputy Party secretary (the street-level room's convener, not on the street's roster).
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    starts = min(now.replace(second=0, microsecond=0) + timedelta(minutes=1), now.replace(hour=23, minute=59))
    staff.goto(f"{base}/t/langshan/meetings/new?topic=1")
    assert "议题公示 支持 2 · 公开留言 2" in staff.inner_text("#topics")
    staff.fill("#title", "城山社区中心广场亮化协商议事会")
    staff.select_option("#form", "meeting_room")
    staff.fill("#starts_at", starts.strftime("%Y-%m-%dT%H:%M"))
    staff.fill("#place", "狼山镇街道有事好商量协商议事室")
    staff.check("input[name=convene][aria-label='召集人 叶晓波']")
    staff.check("input[name=attend][aria-label='参会 周红']")
    staff.fill("input[name=extra_name_0]", "街道党工委副书记")
    staff.select_option("select[name=extra_group_0]", "cadre")
    staff.check("input[name=extra_convener_0]")
    staff.fill("input[name=extra_name_1]", "区住建局")
    staff.select_option("select[name=extra_group_1]", "department")
    shot(staff, 8, "staff-plans-meeting")
    submit(staff, "form.meeting-form button.primary")
    shows(staff, "已创建议事会 #1")

    # The portal's 议题公示 now gives the date of the meeting, and the approved comments.
    hou.goto(f"{base}/t/langshan/yiti")
    shows(hou, starts.strftime("%Y年%m月%d日 %H:%M"), "2 人支持", "2 条留言", "建议装太阳能路灯")
    shot(hou, 9, "resident-notice-with-date")

    # 协商前调研: the member records the research the meeting works from.
    member.goto(base + topic)
    upload(member, str(report))
    do(member, "advance")
    shows(member, "协商议事")
    shot(member, 10, "member-research")

    # 协商议事: the meeting is held; its agreement goes into the topic's record, with the plan and a photo.
    staff.goto(f"{base}/t/langshan/meetings/1")
    staff.fill("#minutes-text", "一、广场安装 6 盏太阳能路灯\n二、晚九点后调至半功率\n三、请区住建局列入民生实事项目")
    submit(staff, "#minutes form button.primary")
    shows(staff, "第 1 版")
    submit(staff, "form:has(input[name=status][value=held]) button")
    shows(staff, "已召开")
    staff.fill("#agreement-1", "安装 6 盏太阳能路灯，晚九点后调至半功率，请区住建局列入民生实事项目")
    submit(staff, "#topic-1 button[value=record]")
    shows(staff, "已记入议题 #1 的协商记录")
    hou.goto(f"{base}/t/langshan/yiti")
    shows(hou, "现在没有公示中的议题")  # consulted: off the portal's 议题公示
    staff.goto(base + topic)
    do(staff, "record", plan="安装 6 盏太阳能路灯，晚九点后调至半功率")
    attach(staff, str(photo))
    do(staff, "advance")
    shows(staff, "成果反馈")
    shot(staff, 11, "staff-consulted")

    # 成果反馈, then 成果转化: handed to the county's 住建局.
    do(staff, "advance", comment="协商意见已反馈居民代表、区住建局和社区")
    staff.locator("form.action-form:has(input[name=action][value=transfer]) label:has-text('区住建局') input").check()
    do(staff, "transfer", asked="请将中心广场亮化列入民生实事项目并组织安装，答复安装时间")
    shows(staff, "成果转化", "待接收")

    # The 住建局 contact answers from the county's inbox.
    bureau = arrive(browser, base, "lixia-zhujian", "/t/lixia/transfers/")
    shows(bureau, "转办待办", f"#1 {TITLE}", "狼山镇街道", "城山社区", "待接收")
    shot(bureau, 12, "department-inbox")
    submit(bureau, f"text=#1 {TITLE}")
    submit(bureau, "form:has(input[name=do][value=accept]) button")
    shows(bureau, "已接收")
    bureau.fill("#answer", REPLY)
    submit(bureau, "form:has(input[name=do][value=reply]) button")
    shows(bureau, "已答复，街道会在议题的办理经过中看到")
    assert RESIDENT not in bureau.content() and PHONE not in bureau.content()
    shot(bureau, 13, "department-replied")
    bureau.goto(f"{base}/t/lixia/transfers/?state=answered")
    shows(bureau, f"#1 {TITLE}", "已答复")

    staff.goto(base + topic)
    assert "部门接收" in timeline(staff) and REPLY in timeline(staff)
    do(staff, "record", outcome="列入区住建局民生实事项目，6 盏太阳能路灯本月底前安装到位")
    do(staff, "advance")
    shows(staff, "质效监评")

    # 质效监评: 党政点评 by the street administrator, 委员评议 by the member, 群众评议 by the resident.
    admin.goto(base + topic)
    pick(admin, "rate", party="dangzheng")
    do(admin, "rate", choose={"level": "very_satisfied", "solved": "true"}, comment="协商成果转化为民生实事，推进快")
    member.goto(base + topic)
    do(member, "rate", choose={"level": "satisfied", "solved": "true"}, comment="路灯已装，建议补一块告示牌")
    follow(hou, base, "langshan", code, PHONE)
    shows(hou, "已转交部门办理", "已评价：党政点评", "已评价：委员评议", "评单：请您评价办理结果")
    hou.check("input[name=level][value=satisfied]")
    hou.check("input[name=solved][value=true]")
    hou.fill("#comment", "路灯亮了，晚上跳舞安心多了")
    shot(hou, 14, "resident-rates")
    submit(hou, "form.rate-form button.primary")
    shows(hou, "感谢您的评价！", "您的评价")

    # 成效评估: staff read every evaluation, sum it up and close.
    staff.goto(base + topic)
    history = timeline(staff)
    for words in ("党政点评", "非常满意", "委员评议", "群众评议", "（决定是否复盘）", "路灯亮了"):
        assert words in history, words
    do(staff, "advance")
    do(staff, "record", summary="三方评价满意，广场亮化议题办结")
    do(staff, "close")
    shows(staff, "已办结")
    history = timeline(staff)
    for words in ("议题公示", "提交街道级协商议事室 审批定题 → 协商前调研", "提请街道", "上级牵头办理", "督办",
                  "转交职能部门推动转化 成果转化 → 成果转化", "转交：区住建局", "部门答复", REPLY, "协商记录"):
        assert words in history, words
    shot(staff, 15, "staff-timeline-closed")

    # 办理公示, reviewed: staff publish it; the portal shows it, without the resident's name or phone.
    staff.goto(f"{base}/t/langshan/publication/")
    shows(staff, f"#1 {TITLE}")
    staff.fill("#title-1", NOTICE_TITLE)
    submit(staff, "#t1 button[value=publish]")
    submit(staff, "button[data-confirm]")
    shows(staff, "#1 已公示")
    hou.goto(f"{base}/t/langshan/gongshi")
    shows(hou, NOTICE_TITLE, "6 盏太阳能路灯", "四环八步")
    public = hou.locator("article.gongshi").inner_text()
    assert RESIDENT not in public and PHONE not in public
    hou.locator("article.gongshi img").first.wait_for()
    shot(hou, 16, "portal-gongshi")
