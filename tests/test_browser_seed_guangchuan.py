"""广川街道 兴文社区's 提议办评 in a real browser, as the article tells it: 委员李洪超, asked again and
again by residents to lend tools, proposes a shared tool room (共享工具屋) for 嘉诚名居.
提: the member raises it naming 齐先生, who asked, and hands him the receipt code; 记民情: the
station's staff enter it and take it to the street (大事提交街道), whose 党工委 answers from its
queue; 议: a 议事会 with two conveners, minutes and a work list, its agreement recorded on the
topic; 办: the work list done, a photo of the room; 评: the member scores as 委员评价 and 齐先生 as
居民和服务对象评价 on the portal, each on 时长, 类型 and 成效 (1–5); 归档, and the reviewed 公示.
Seed: 《破解群众烦心事！德州市德城区政协创新社区协商实践 助推社会治理》 (闪电新闻).
Actors, each signed in as themselves: the member, the station's staff (the community's Party
secretary), the street's 党工委 (street_admin) and the resident (the public portal, not signed in).
Screenshots go to test-output/browser/seed-guangchuan-*.png."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.operations import create_tenant, save_places
from support import samples
from support.browser import SEED_CASE, SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)
from test_browser import attach, do
from test_browser_journey import submitted

pytestmark = SEED_CASE  # in the services run only (support/browser.py says why)

RESIDENT, PHONE = "齐先生", "13905341234"
TOPIC = "嘉诚名居建共享工具屋"
DIMENSIONS = ("duration", "kind", "effect")  # 时长, 类型, 成效


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"seed-guangchuan-{name}.png"), full_page=True)


@pytest.fixture
def street(app, world):
    """广川街道 under 德城区 on 提议办评, as its admin set it up: 兴文社区 and its categories, the
    station's staff (兴文社区's Party secretary, on the roster) and 委员李洪超 (on the roster)."""
    with app.app_context():
        county = create_tenant(None, kind="county", slug="decheng", name="德城区")
        street = factories.street("guangchuan", "广川街道", parent=county, procedure_key="tiyi_banping")
        factories.login(street, "street_admin", "guangchuan-admin", "匙鹏")
        factories.login(street, "staff", "guangchuan-staff", "石燕茹")
        factories.person(street, "community_secretary", "石燕茹", username="guangchuan-staff", community="兴文社区")
        factories.member(street, "李洪超", "guangchuan-member", sector="经济界", specialties="电梯、五金工具", organisation="电梯公司")
        with tenant_context(street.id):
            save_places(street, None, "兴文社区：一网格，二网格", "公共服务\n环境卫生\n水电气暖")
        db.commit()
        return street


def rated(timeline: str, party: str) -> str:
    """The timeline's entry of a party's evaluation: its level and its three scores."""
    found = re.search(rf"{party}[^\n]*\n+[^\n]*时长[^\n]*", timeline)
    assert found, (party, timeline)
    return found.group(0)


def test_a_shared_tool_room_from_a_members_proposal_to_both_scores(live_server, browser, street, run_jobs,
                                                                   tmp_path):
    base, topic_url = live_server, f"{live_server}/t/guangchuan/topics/1"
    photos = {name: tmp_path / f"{name}.jpg" for name in ("协商议事", "共享工具屋")}
    for path, colour in zip(photos.values(), ("teal", "maroon")):
        path.write_bytes(samples.photo(size=(1200, 900), colour=colour))
    now = datetime.now(ZoneInfo("Asia/Shanghai"))

    # 提: the member proposes it, naming the resident who asked, and takes it up.
    member = sign_in(browser, base, "guangchuan-member")
    member.goto(f"{base}/t/guangchuan/topics/new")
    member.fill("#title", TOPIC)
    member.select_option("#channel", "meeting")
    member.select_option("#community", "兴文社区")
    member.fill("#place", "嘉诚名居小区")
    member.fill("#resident_name", RESIDENT)
    member.fill("#resident_phone", PHONE)
    member.fill("#description", "加装电梯以来居民常来借电钻、梯子，邻居们都借遍了；提议在小区建共享工具屋，便民工具、急救用品集中借用。")
    member.click("form.form button.primary")
    shows(member, "已登记议题 #1", "居民的回执码")
    code = re.search(r"[0-9A-Z]{5}-[0-9A-Z]{5}", member.inner_text(".flash-warning")).group(0)
    shot(member, "01-member-proposed")
    do(member, "claim")

    # 记民情: the station's staff enter it in the register, and take it to the street: it needs a room.
    staff = sign_in(browser, base, "guangchuan-staff")
    staff.goto(topic_url)
    do(staff, "advance")                                                                  # 提 → 记民情
    do(staff, "record", category="公共服务", place="嘉诚名居小区 1 号楼闲置储藏间")
    escalate = staff.locator("form.action-form:has(input[name=action][value=escalate])")
    assert "大事提交街道" in escalate.inner_text()
    do(staff, "escalate", "seed-guangchuan-02-escalated",
       reason="工具屋要用小区公共用房，须街道协调物业和业委会")                               # 记民情 → 议
    assert staff.inner_text(".steps-bar li.current") == "议"

    admin = sign_in(browser, base, "guangchuan-admin")
    admin.goto(f"{base}/t/guangchuan/escalations/")
    shows(admin, f"#1 {TOPIC}", "须街道协调物业和业委会")
    admin.click(f"text=#1 {TOPIC}")
    admin.check("input[name=kind][value=decide]")
    admin.fill("#answer", "同意使用 1 号楼闲置储藏间，街道协调物业腾空，由协商工作站组织议事")
    admin.click("form.action-form button.primary")
    shows(admin, "已答复：作出决定")
    shot(admin, "03-street-answered")

    # 议: a 议事会 with two conveners, its minutes and work list; the agreement goes on the topic.
    staff.goto(topic_url)
    staff.click("#meetings >> text=召开议事会")
    staff.fill("#title", "共享工具屋协商议事会")
    staff.fill("#starts_at", (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:00"))
    staff.fill("#place", "兴文社区协商议事厅")
    for name in ("石燕茹", "李洪超"):
        staff.check(f"input[name=convene][aria-label='召集人 {name}']")
    for i, (name, group) in enumerate((("嘉诚名居物业 王经理", "stakeholder"), ("业委会 刘主任", "stakeholder"),
                                       (RESIDENT, "resident"))):
        staff.fill(f"input[name=extra_name_{i}]", name)
        staff.select_option(f"select[name=extra_group_{i}]", group)
    assert staff.is_checked("input[name=topics][value='1']")
    submitted(staff, "form.meeting-form button.primary")
    shows(staff, "已创建议事会 #1")
    for name in ("石燕茹", "李洪超", "嘉诚名居物业 王经理", "业委会 刘主任", RESIDENT):
        staff.check(f"#people label:has-text('{name}') input")
    submitted(staff, "#people button")
    staff.fill("#minutes-text", "一、物业腾空 1 号楼储藏间作共享工具屋\n二、李洪超委员捐赠常用工具，社区制定借用登记制度")
    submitted(staff, "#minutes form button")
    submitted(staff, "form:has(input[name=status][value=held]) button")
    for title, owner, days in (("腾空 1 号楼储藏间，安装货架", "嘉诚名居物业 王经理", 7),
                               ("捐赠电钻、梯子等常用工具，制定借用登记制度", "李洪超", 10)):
        staff.fill("#work-title", title)
        staff.select_option("#work-owner", label=owner)
        staff.fill("#work-due", (now + timedelta(days=days)).date().isoformat())
        staff.select_option("#work-topic", value="1")
        submitted(staff, "form.work-form button.primary")
    staff.fill("#agreement-1", "物业腾空储藏间，委员捐赠工具，社区负责日常借用登记，两周内开放")
    submitted(staff, "#topic-1 button[value=record]")
    shows(staff, "已记入议题 #1 的协商记录")
    shot(staff, "04-meeting-work-list")
    staff.goto(topic_url)
    do(staff, "record", plan="在 1 号楼储藏间建共享工具屋：物业腾空并装货架，委员捐赠工具，社区登记借用")
    attach(staff, str(photos["协商议事"]))
    do(staff, "advance", "seed-guangchuan-05-yi-done")                                     # 议 → 办

    # 办: each owner marks their work done (the member his own), and staff photograph the room.
    member.goto(f"{base}/t/guangchuan/meetings/1")
    mine = member.locator("#work tr", has_text="捐赠电钻")
    mine.locator("select[name=status]").select_option("done")
    mine.locator("button").click()
    shows(member, "完成于")
    staff.goto(f"{base}/t/guangchuan/meetings/1")
    theirs = staff.locator("#work tr", has_text="腾空 1 号楼储藏间")
    theirs.locator("select[name=status]").select_option("done")
    theirs.locator("button").click()
    staff.locator("#work tr", has_text="完成于").nth(1).wait_for()  # both items done
    staff.goto(topic_url)
    do(staff, "record", outcome="共享工具屋已开放：电钻、梯子、急救包等 30 余件，登记借用")
    attach(staff, str(photos["共享工具屋"]))
    do(staff, "advance", "seed-guangchuan-06-ban-done")                                    # 办 → 评

    # 评: the member scores as 委员评价, on the three dimensions.
    member.goto(topic_url)
    form = member.locator("form.action-form:has(input[name=action][value=rate])")
    assert "评价方：委员评价" in form.inner_text()
    do(member, "rate", "seed-guangchuan-07-member-scored", choose={"level": "satisfied", "solved": "true"},
       score_duration="4", score_kind="5", score_effect="5")

    # The resident scores on the portal with the receipt code the member gave him.
    resident = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    resident.set_default_timeout(15_000)
    resident.goto(f"{base}/t/guangchuan/follow")
    resident.fill("#code", code)
    resident.fill("#last4", PHONE[-4:])
    resident.click("form button.primary")
    shows(resident, TOPIC, "共享工具屋已开放", "评单：请您评价办理结果", "已评价：委员评价")
    assert "您已评价" not in resident.inner_text(".timeline")  # the member's score is not the resident's
    for dimension, label in zip(DIMENSIONS, ("时长", "类型", "成效")):
        assert label in resident.locator(f"fieldset:has(input[name=score_{dimension}])").inner_text()
    resident.check("input[name=level][value=very_satisfied]")
    resident.check("input[name=solved][value=true]")
    for dimension, score in zip(DIMENSIONS, ("5", "4", "5")):
        resident.check(f"input[name=score_{dimension}][value='{score}']")
    resident.fill("#comment", "家里要打孔再也不用到处借了")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    shot(resident, "08-resident-rating")
    resident.click("text=提交评价")
    shows(resident, "感谢您的评价", "非常满意 · 问题已解决")

    # Both evaluations, each with its scores, on the topic's timeline; then 归档.
    staff.goto(topic_url)
    timeline = staff.inner_text(".timeline")
    assert "满意 · 问题已解决" in rated(timeline, "委员评价") and "时长 4 / 5 · 类型 5 / 5 · 成效 5 / 5" in rated(timeline, "委员评价")
    residents = rated(timeline, "居民和服务对象评价")
    assert "（决定是否复盘）" in residents and "非常满意 · 问题已解决" in residents and "评价渠道 网上点单" in residents
    assert "时长 5 / 5 · 类型 4 / 5 · 成效 5 / 5" in residents
    assert "提请街道：工具屋要用小区公共用房" in timeline
    assert "上级答复" in timeline and "同意使用 1 号楼闲置储藏间" in timeline
    do(staff, "advance")                                                                  # 评 → 归档
    do(staff, "record", summary="共享工具屋建成开放，委员和居民评价满意，存入协商档案")
    do(staff, "close", "seed-guangchuan-09-archived")
    shows(staff, "已办结")

    # The reviewed 公示: no resident's name or phone on the portal.
    staff.goto(f"{base}/t/guangchuan/publication/")
    staff.locator("form#t1 button[value=publish]").click()
    shows(staff, "公示 #1？", "不会公开：居民的称呼和电话")
    staff.click("button[data-confirm]")
    shows(staff, "#1 已公示")
    resident.goto(f"{base}/t/guangchuan/gongshi")
    shows(resident, TOPIC, "共享工具屋已开放")
    html = resident.content()
    for private in (RESIDENT, PHONE, "139****1234"):
        assert private not in html, private
    shot(resident, "10-portal-gongshi")
