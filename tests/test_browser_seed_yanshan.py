"""燕山街道's 七步订单 (seed 000, 《“商量”在庭院 … “七步”订单》), driven in a browser by its real
actors, each as themselves: a resident raises the parking problem on the portal (点单) and later
rates it with the receipt code (评单); 网格员 陈静, whose grid it is, checks it on the spot and passes
it on; the community's staff take the order (接单) with a photo; the member on duty takes it up
(参单) and asks the street's 城管中心 to follow (跟单); the centre's contact answers from their inbox,
with a photo as evidence; staff hold the on-site consultation (商单) and close it (收单); and the
outcome goes on 办理公示 only once staff approve its public text, without the resident's name or
phone. Screenshots: test-output/browser/seed-yanshan-*.png."""
from __future__ import annotations

import re

import pytest

import factories
from shangliang.accounts.operations import add_membership
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from support.browser import SEED_CASE, SHOTS, browser, choose_files, live_server, shows, sign_in  # noqa: F401
from test_browser import attach, do

pytestmark = SEED_CASE  # in the services run only (support/browser.py says why)

PHONE = "13912345678"


@pytest.fixture
def yanshan(app, world, monkeypatch):
    """What the street's administrator set up before: 七步订单, its communities, grids and
    categories, 网格员 陈静 on 3 网格, and 城管中心 with its contact 王干事."""
    from shangliang.portal import operations as portal

    monkeypatch.setattr(portal, "MIN_FILL_SECONDS", 0)  # the form is filled by a robot, quickly
    with app.app_context():
        street = db.get(Tenant, world.yanshan.id)  # in this session: its category list is written
        factories.procedure(street, "qibu_dingdan")
        with tenant_context(street.id):
            save_places(street, None, "燕子山社区：3 网格、4 网格\n解放桥社区：1 网格", "停车、燃气、环境卫生")
            worker = factories.create_user("ys-chenjing", "陈静", factories.PASSWORD)
            add_membership(street, None, worker, "grid_worker")
        factories.person(street, "grid_worker", "陈静", username="ys-chenjing", grid="3 网格", community="燕子山社区")
        contact = factories.create_user("ys-wanggs", "王干事", factories.PASSWORD)
        factories.department(street, "街道城管中心", contacts=[contact])
        db.commit()
    return street


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"seed-yanshan-{name}.png"), full_page=True)


def test_the_parking_order_goes_through_seven_steps_with_its_own_people(live_server, browser, yanshan, tmp_path,
                                                                        run_jobs):
    from support import samples

    base = live_server
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(samples.photo())

    # 点单: the resident, on the portal, not signed in
    resident = browser.new_page(viewport={"width": 390, "height": 844})
    resident.goto(f"{base}/t/yanshan/raise")
    resident.fill("#title", "燕子山小区晚上停车难")
    resident.fill("#description", "小区只有 40 个车位，晚上车停到消防通道上")
    resident.select_option("#community", "燕子山社区")
    resident.fill("#place", "燕子山小区 3 号楼前")
    resident.fill("#resident_name", "王秀英")
    resident.fill("#resident_phone", PHONE)
    resident.locator("form button.primary").click()
    code = resident.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code)
    shot(resident, "01-resident-receipt")

    # staff see the order come in; the grid is recorded, so the grid's 网格员 follows it
    staff = sign_in(browser, base, "yanshan-staff")
    staff.goto(f"{base}/t/yanshan/topics/1")
    form = staff.locator("form.action-form:has(input[name=action][value=record])").first
    form.locator("select[name=grid]").select_option("3 网格")
    form.locator("button").click()
    shows(staff, "已保存记录")

    worker = sign_in(browser, base, "ys-chenjing")
    shows(worker, "我的网格", "1 件议题办理中")  # her home: her grid and what is open there
    worker.goto(f"{base}/t/yanshan/topics/")
    shows(worker, "燕子山小区晚上停车难")
    worker.goto(f"{base}/t/yanshan/topics/1")
    do(worker, "comment", comment="已上门核实：晚上 8 点后消防通道停满车")
    do(worker, "advance", "seed-yanshan-02-grid-worker-passes-it-on")  # 点单 → 接单
    assert "13912345678" not in worker.content() or "139****5678" in worker.content()

    # 接单: the community's staff classify it and take a photo of the site
    staff.goto(f"{base}/t/yanshan/topics/1")
    form = staff.locator("form.action-form:has(input[name=action][value=record])").first
    form.locator("select[name=category]").select_option("停车")
    form.locator("[name=urgency]").select_option("urgent")
    form.locator("button").click()
    shows(staff, "已保存记录")
    attach(staff, str(photo))
    do(staff, "advance", "seed-yanshan-03-staff-take-the-order")  # 接单 → 参单

    # 参单: the member on duty takes it up and asks the street's 城管中心 to follow
    member = sign_in(browser, base, "yanshan-member")
    member.goto(f"{base}/t/yanshan/topics/1")
    do(member, "claim")
    member.locator("form.action-form:has(input[name=action][value=transfer]) label:has-text('街道城管中心') input").check()
    do(member, "transfer", "seed-yanshan-04-member-asks-the-department", asked="核实夜间停车情况，提出错峰停车方案")

    # 跟单: the centre's contact answers from their inbox, a photo as evidence
    contact = sign_in(browser, base, "ys-wanggs")
    contact.goto(f"{base}/t/yanshan/transfers/")
    shows(contact, "燕子山小区晚上停车难", "核实夜间停车情况")
    contact.locator("a:has-text('燕子山小区晚上停车难')").first.click()
    contact.locator("form:has(input[name=do][value=accept]) button").click()
    shows(contact, "已接收")
    choose_files(contact, "#evidence", str(photo))
    contact.locator("#evidence .gallery-ready img").first.wait_for(timeout=30_000)
    contact.fill("#answer", "与周边单位协商，夜间开放机关院内 30 个车位，错峰停车")
    contact.locator("form:has(input[name=do][value=reply]) button").click()
    shows(contact, "已答复")
    assert PHONE not in contact.content()  # a department sees the resident's number masked
    shot(contact, "05-department-replies-with-evidence")

    # the street sees the reply and its evidence; 跟单 → 商单 → 评单
    staff.goto(f"{base}/t/yanshan/topics/1")
    shows(staff, "部门答复", "办理凭证", "机关院内 30 个车位")
    do(staff, "record", department="街道城管中心", plan="夜间开放机关院内车位，错峰停车")
    do(staff, "advance")  # 跟单 → 商单
    do(staff, "record", plan="夜间开放机关院内车位，错峰停车", outcome="30 个夜间车位已开放")
    attach(staff, str(photo))
    do(staff, "consult", agreement="居民、城管中心、委员同意错峰停车方案")
    do(staff, "advance", "seed-yanshan-06-consulted")  # 商单 → 评单

    # 评单: the resident, with the receipt code
    resident.goto(f"{base}/t/yanshan/follow")
    resident.fill("#code", code)
    resident.fill("#last4", PHONE[-4:])
    resident.locator("form button.primary").click()
    shows(resident, "评单")
    resident.locator("input[name=level][value=satisfied]").check()
    resident.locator("input[name=solved][value=true]").check()
    resident.locator("form.rate-form button").click()
    shows(resident, "感谢您的评价")
    shot(resident, "07-resident-rates")

    # 收单: staff close it; the outcome goes public only once they approve its text
    staff.goto(f"{base}/t/yanshan/topics/1")
    shows(staff, "满意")
    do(staff, "advance")  # 评单 → 收单
    do(staff, "record", summary="夜间错峰停车，消防通道畅通")
    do(staff, "close", "seed-yanshan-08-closed")
    resident.goto(f"{base}/t/yanshan/gongshi")
    assert "燕子山小区晚上停车难" not in resident.content()  # not public until reviewed
    staff.goto(f"{base}/t/yanshan/publication/")
    review = staff.locator("form.publication").first
    review.locator("textarea[name=text]").fill("夜间开放机关院内 30 个车位，错峰停车，消防通道已畅通。")
    review.locator("button[value=publish]").click()
    shows(staff, "公示后，居民在门户的“办理公示”中立即能看到", "错峰停车")
    staff.click("button[data-confirm]")
    shows(staff, "已公示")
    resident.goto(f"{base}/t/yanshan/gongshi")
    shows(resident, "燕子山小区晚上停车难", "错峰停车")
    assert PHONE not in resident.content() and "王秀英" not in resident.content()
    shot(resident, "09-public-gongshi")
