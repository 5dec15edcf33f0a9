"""广武门街道's 三即两提一转 in a real browser, as the article tells it: 立功小区's residents ask for
natural gas. A resident raises it on the portal; the community's staff 接诉 and 走访归口 and 转交
it to the gas company (an enterprise, whose contact accepts and replies from their inbox with a
photo); the community cannot settle it alone and 提请 the street's 党工委, who answers from the
escalation queue, while the county 督办 it; 接诉即商 ends in a consultation record and the agreed
plan; 商定即办: the resident confirms the plan with the receipt code, staff sign with their own
account and photograph the result; 限时反馈: the resident rates on the portal; 办结; staff approve
办理公示, and the portal shows it without the resident's name or phone.
Seed: 《有事好商量 协商汇力量 居民点赞广武门街道“三即两提一转”工作法》 (兰州日报).
Actors, each signed in as themselves: the resident (the public portal, not signed in), the
community's staff, the gas company's liaison (department), the street's 党工委 (street_admin) and
the county (城关区, county_admin). Screenshots go to test-output/browser/seed-guangwumen-*.png."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import factories
from conftest import PASSWORD
from shangliang.accounts.operations import create_user
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.portal import operations as portal
from shangliang.tenants.operations import by_slug, save_places
from support import samples
from support.browser import SEED_CASE, SHOTS, browser, choose_files, live_server, shows, sign_in  # noqa: F401
from test_browser import attach, do

pytestmark = SEED_CASE  # in the services run only (support/browser.py says why)

RESIDENT, PHONE = "王大妈", "13993112233"
MASKED = "139****2233"


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"seed-guangwumen-{name}.png"), full_page=True)


@pytest.fixture
def street(app, world, monkeypatch):
    """广武门 on its own 三即两提一转, with 立功社区 on its list and the gas company's liaison, who has
    an account but no role yet (the street's admin binds them in the browser)."""
    monkeypatch.setattr(portal, "MIN_FILL_SECONDS", 0)  # a person takes longer than the test does
    with app.app_context():
        factories.procedure(world.guangwumen, "sanji_liangti_yizhuan")
        with tenant_context(world.guangwumen.id):
            # the World's row is detached from this session: the street is read again to keep its categories
            save_places(by_slug("guangwumen"), None, "立功社区：一网格，二网格\n南城根社区：三网格", "燃气供暖\n供水\n环境卫生")
        create_user("ranqi-zhao", "赵师傅（燃气公司）", PASSWORD)
        db.commit()
    return world.guangwumen


def follow(resident, base, code):
    """The resident's 查单: receipt code and the phone's last four digits."""
    resident.goto(f"{base}/t/guangwumen/follow")
    resident.fill("#code", code)
    resident.fill("#last4", PHONE[-4:])
    resident.click("form button.primary")
    shows(resident, "立功小区天然气安装")


def test_gas_for_ligong_from_the_portal_to_the_public_outcome(live_server, browser, street, run_jobs, tmp_path):
    base = live_server
    photos = {name: tmp_path / f"{name}.jpg" for name in ("管网勘察", "通气点火")}
    for path, colour in zip(photos.values(), ("navy", "orange")):
        path.write_bytes(samples.photo(size=(1200, 900), colour=colour))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()

    # The street's admin puts the gas company on the list (an enterprise) and binds its liaison.
    admin = sign_in(browser, base, "guangwumen-admin")
    admin.goto(f"{base}/t/guangwumen/departments/")
    admin.fill("#name", "燃气公司")
    admin.select_option("#kind", "enterprise")
    admin.fill("#note", "燃气入户安装、庭院管网改造")
    admin.click("form.form button.primary")
    shows(admin, "已添加：燃气公司")
    admin.fill("#username", "ranqi-zhao")
    admin.click("button:has-text('绑定联系人')")
    shows(admin, "赵师傅（燃气公司） 现在是「燃气公司」的联系人")

    # 接诉: a resident raises it on the portal, on a phone, and keeps the receipt code.
    resident = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    resident.set_default_timeout(15_000)
    resident.goto(f"{base}/t/guangwumen/raise")
    resident.fill("#title", "立功小区天然气安装")
    resident.fill("#description", "立功小区 3 号楼一直没通天然气，冬天靠烧煤取暖做饭，老人换煤气罐搬不动，盼着早日通气。")
    resident.select_option("#community", "立功社区")
    resident.fill("#place", "立功小区 3 号楼")
    resident.fill("#resident_name", RESIDENT)
    resident.fill("#resident_phone", PHONE)
    resident.click("form button.primary")
    code = resident.inner_text("#receipt-code")
    shows(resident, "议题编号 #1，已进入“接诉”环节")
    assert resident.evaluate("document.documentElement.scrollWidth") <= 390
    shot(resident, "01-portal-receipt")

    # 接诉 → 走访归口 → 转交 the gas company, a unit with a clear responsibility.
    staff = sign_in(browser, base, "guangwumen-staff")
    staff.goto(f"{base}/t/guangwumen/topics/1")
    shows(staff, RESIDENT, PHONE, "网上点单")  # the community works it, so sees who asked
    do(staff, "advance", "seed-guangwumen-02-jiesu-done")                          # 接诉 → 走访归口
    do(staff, "record", category="燃气供暖", place="立功小区 3 号楼，共 24 户")  # a category from the street's list
    transfer = staff.locator("form.action-form:has(input[name=action][value=transfer])")
    assert "转交职能科室、辖区单位或相关单位" in transfer.inner_text()
    transfer.locator("label:has-text('燃气公司') input").check()
    assert "企业（燃气、供水、供电等）" in transfer.inner_text()
    do(staff, "transfer", "seed-guangwumen-03-transferred", asked="请到立功小区 3 号楼现场勘察，提出庭院管网和入户通气方案")
    assert staff.inner_text(".steps-bar li.current") == "接诉即商"
    assert "燃气公司" in staff.inner_text("#transfers")

    # The gas company's liaison: the inbox, accept, a photo of the survey, the reply.
    gas = sign_in(browser, base, "ranqi-zhao")
    gas.goto(f"{base}/t/guangwumen/transfers/")
    shows(gas, "转办待办", "#1 立功小区天然气安装", "现场勘察")
    gas.click("text=#1 立功小区天然气安装")
    shows(gas, "王** · " + MASKED)  # the resident is masked for a department: contact goes through the street
    assert RESIDENT not in gas.inner_text("body") and PHONE not in gas.content()
    gas.click("form:has(input[name=do][value=accept]) button")
    shows(gas, "已接收，请在期限内答复办理情况")
    choose_files(gas, "#evidence", str(photos["管网勘察"]))
    gas.locator("#evidence .gallery-ready img").wait_for(timeout=30_000)  # files.js reloads once it passed
    gas.fill("#answer", "已现场勘察：需新铺庭院管网约 120 米，开挖须产权单位同意，入户初装费须与居民商定。")
    gas.click("form:has(input[name=do][value=reply]) button")
    shows(gas, "已答复，街道会在议题的办理经过中看到")
    shot(gas, "04-gas-company-replied")

    staff.goto(f"{base}/t/guangwumen/topics/1")
    shows(staff, "部门答复", "需新铺庭院管网约 120 米")
    assert "管网勘察.jpg" in staff.inner_text("#transfers")  # the reply's evidence, on the topic's panel
    assert "办理凭证：管网勘察.jpg" in staff.inner_text(".timeline")

    # 社区协商无法解决: 提请 the street's 党工委.
    do(staff, "escalate", "seed-guangwumen-05-escalated",
       reason="开挖涉及产权单位，初装费分摊居民意见不一，社区协调不动，请街道党工委搭台协商")
    assert "已提请上级" in staff.inner_text(".page-head")

    # The county 督办 the escalated topic from its page: a note and a new due date.
    county = sign_in(browser, base, "chengguan-admin")
    county.goto(f"{base}/t/guangwumen/topics/1")
    due = (today + timedelta(days=10)).isoformat()
    county.fill("#supervise textarea[name=note]", "群众冬季取暖急需，请街道十日内协调产权单位和燃气公司拿出方案")
    county.fill("#supervise input[name=due_on]", due)
    county.click("#supervise button")
    shows(county, "已督办：新的期限已通知办理人员")
    shot(county, "06-county-supervised")

    # The street's 党工委 answers from its queue.
    admin.goto(f"{base}/t/guangwumen/escalations/")
    shows(admin, "#1 立功小区天然气安装", "社区协调不动")
    admin.click("text=#1 立功小区天然气安装")
    admin.check("input[name=kind][value=decide]")
    admin.fill("#answer", "街道党工委搭台：本周五在立功社区议事室召集燃气公司、产权单位、政协委员和居民代表协商")
    shot(admin, "07-escalation-answer")
    admin.click("form.action-form button.primary")
    shows(admin, "已答复：作出决定")

    # 接诉即商: the consultation record and the agreed plan.
    staff.goto(f"{base}/t/guangwumen/topics/1")
    timeline = staff.inner_text(".timeline")
    for words in ("督办", "区县督办", f"新期限 {due}", "群众冬季取暖急需", "上级答复", "作出决定", "本周五在立功社区议事室"):
        assert words in timeline, words
    ends = (today + timedelta(days=11)).isoformat()  # the step's time limit is now the end of the county's day
    assert f"期限 {ends} 00:00" in staff.inner_text(".facts")
    plan = "燃气公司铺设庭院管网并入户通气，产权单位同意开挖，初装费按户分摊，社区协调施工时间"
    do(staff, "consult", agreement="居民、产权单位和燃气公司一致同意：下月施工，春节前通气")
    do(staff, "record", plan=plan)
    do(staff, "advance", "seed-guangwumen-08-jishang-done")                         # 接诉即商 → 商定即办

    # 商定即办: the resident confirms the plan with the receipt code; staff then sign as themselves.
    follow(resident, base, code)
    shows(resident, "商定即办：请您确认协商方案", plan)
    resident.click("text=我同意这个方案")
    shows(resident, "您已确认协商方案，社区会马上按方案办理。")
    shot(resident, "09-resident-confirmed")
    staff.goto(f"{base}/t/guangwumen/topics/1")
    sign = staff.locator("form.action-form:has(input[name=action][value=sign])")
    assert "居民已凭回执码在网上确认方案，您签字即可。" in sign.inner_text()
    assert sign.locator("input[name=resident_signature], input[name=staff_signature]").count() == 0  # no typed names
    do(staff, "sign")
    shows(staff, "居民已凭回执码在网上确认方案；办理方以本人账号签字确认")
    do(staff, "record", outcome="庭院管网已铺设，3 号楼 24 户全部通气点火，燃气公司现场讲解安全用气")
    attach(staff, str(photos["通气点火"]))
    do(staff, "advance", "seed-guangwumen-10-jiban-done")                           # 商定即办 → 限时反馈

    # 限时反馈: the resident rates on the portal.
    follow(resident, base, code)
    resident.check("input[name=level][value=very_satisfied]")
    resident.check("input[name=solved][value=true]")
    resident.check("input[name=score][value='5']")
    resident.fill("#comment", "终于把我这件心头事解决了")
    resident.click("text=提交评价")
    shows(resident, "感谢您的评价", "非常满意 · 问题已解决 · 5 / 5")
    shot(resident, "11-resident-rated")

    staff.goto(f"{base}/t/guangwumen/topics/1")
    shows(staff, "非常满意 · 问题已解决 · 评分 5 · 评价渠道 网上点单")
    assert staff.locator("form.action-form:has(input[name=action][value=reopen])").count() == 0  # satisfied
    do(staff, "advance")                                                       # 限时反馈 → 办结
    do(staff, "record", summary="立功小区 3 号楼通气，居民非常满意")
    do(staff, "close", "seed-guangwumen-12-closed")
    shows(staff, "已办结")

    # 办理公示: staff review the public text and the photo, then the portal shows it.
    staff.goto(f"{base}/t/guangwumen/publication/")
    review = staff.locator("form#t1")
    assert "庭院管网已铺设" in review.locator("textarea[name=text]").input_value()
    assert review.locator("input[name=photos]").count() == 1 and review.locator("input[name=photos]").is_checked()
    shot(staff, "13-publication-review")
    review.locator("button[value=publish]").click()
    shows(staff, "公示 #1？", "1 张", "不会公开：居民的称呼和电话")
    staff.click("button[data-confirm]")
    shows(staff, "#1 已公示：居民在门户的“办理公示”中能看到")

    resident.goto(f"{base}/t/guangwumen/gongshi")
    article = resident.locator("article.gongshi", has_text="立功小区天然气安装")
    assert "3 号楼 24 户全部通气点火" in article.inner_text() and "立功社区" in article.inner_text()
    photo = article.locator("img")
    photo.scroll_into_view_if_needed()  # a lazy image loads once it is on screen
    # served by the app from storage (moto's S3 in the services run): wait until it has loaded
    resident.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle(),
                               timeout=15_000)
    html = resident.content()
    for private in (RESIDENT, PHONE, MASKED, "王**"):
        assert private not in html, private
    shot(resident, "14-portal-gongshi")
