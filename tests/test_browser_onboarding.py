"""In a real browser: a county admin creates a street and invites its admin; the admin accepts,
sets a brand with a logo and colours, previews and publishes it; the public portal shows it; a
resident raises a topic there, follows it with the receipt code, and later rates it.
Screenshots go to test-output/browser/ (names starting with 2x-)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import PASSWORD, uploaded_key
from shangliang.portal import operations as portal
from support.browser import SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def logo_file(tmp_path):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (240, 240), "#0b5d3b")
    ImageDraw.Draw(img).ellipse((40, 40, 200, 200), fill="#ffffff")
    path = tmp_path / "logo.png"
    img.save(path)
    return path


def to_rating(app, slug):
    """The street's staff take the topic through 提、记民情、议、办 to 评 (as their pages would)."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant
    from shangliang.topics.models import Topic
    from shangliang.topics.operations import act

    with app.app_context():
        tenant = db.scalar(select(Tenant).where(Tenant.slug == slug))
        with tenant_context(tenant.id):
            steps = [("record", None, {"community": "兴文社区"}), ("advance", "ji_minqing", {}),
                     ("record", None, {"category": "公共设施", "place": "兴文小区 3 号楼"}), ("advance", "yi", {}),
                     ("record", None, {"plan": "物业三天内更换楼道灯"}),
                     ("attach", None, {"kind": "photo", "key": uploaded_key(tenant.id)}),
                     ("consult", None, {"agreement": "物业负责更换，社区监督"}), ("advance", "ban", {}),
                     ("record", None, {"outcome": "3 号楼楼道灯已全部更换为声控灯"}),
                     ("attach", None, {"kind": "photo", "key": uploaded_key(tenant.id)}), ("advance", "ping", {})]
            for kind, to, data in steps:
                topic = db.scalar(select(Topic).where(Topic.number == 1))
                act(tenant, None, {"street_admin"}, topic, kind, expected_version=topic.version, to=to, data=data)
                db.commit()


def test_onboard_a_street_brand_it_and_serve_its_residents(app, live_server, browser, tmp_path):  # noqa: F811
    base = live_server

    # The county creates the street and gets a one-time link for its administrator.
    county = sign_in(browser, base, "lixia-admin")
    county.goto(f"{base}/t/lixia/manage/tenants")
    county.click("text=新建街道")
    county.fill("#name", "兴文街道")
    county.fill("#slug", "xingwen")
    county.fill("#households", "5200")
    county.fill("#population", "15000")
    county.select_option("#procedure", "tiyi_banping")
    county.fill("#communities", "兴文社区：一网格，二网格\n红星社区：三网格")
    county.fill("#invite_note", "王主任")
    shot(county, "20-county-new-street")
    county.click("button.primary")
    shows(county, "已创建 兴文街道")
    link = county.inner_text("#invite-link")
    shot(county, "21-street-created-invite-link")

    # The administrator accepts the invitation with a new account.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(link)
    admin.fill("#display_name", "王主任")
    admin.fill("#username", "wang")
    admin.fill("#password", PASSWORD)
    admin.fill("#password2", PASSWORD)
    shot(admin, "22-accept-invitation")
    admin.click("button.primary")
    shows(admin, "欢迎加入兴文街道")

    # The brand: a refused colour first, then a good one with a logo; preview, then publish.
    admin.goto(f"{base}/t/xingwen/manage/brand/")
    admin.fill("#display_name", "兴文街道政协委员工作室")
    admin.fill("#brand_name", "月月说事")
    admin.fill("#slogan", "有事好商量 众人的事情由众人商量")
    admin.fill("#primary_colour", "#ffd54f")
    admin.fill("#text_colour", "#ffffff")
    admin.fill("#hotlines", "街道热线: 0534-2345678\n委员工作室: 0534-2345679")
    admin.fill("#stations", "兴文社区协商议事厅 | 兴文社区党群服务中心二楼 | 每月 15 日 9:00–11:30")
    admin.set_input_files("#logo", str(logo_file(tmp_path)))
    admin.click("text=保存并预览")
    shows(admin, "对比度", "4.5:1")
    shot(admin, "23-brand-low-contrast-refused")
    admin.fill("#primary_colour", "#0b5d3b")
    admin.set_input_files("#logo", str(logo_file(tmp_path)))  # a refused form keeps text, not files
    admin.click("text=保存并预览")
    shows(admin, "尚未发布", "月月说事")
    shot(admin, "24-brand-preview-portal")
    admin.click(".preview-tabs >> text=工作页面")
    shot(admin, "25-brand-preview-staff")
    admin.click("text=发布此版本")
    shows(admin, "发布第 1 版品牌？", "发布后，公开页面和工作人员页面立即使用第 1 版品牌：兴文街道政协委员工作室「月月说事」。")
    admin.click("button[data-confirm]")
    shows(admin, "已发布第 1 版品牌")

    # The public portal in its brand; a resident raises a topic and gets a receipt code.
    resident = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    resident.goto(f"{base}/t/xingwen/")
    shows(resident, "月月说事", "0534-2345678")
    assert resident.locator(".portal-logo").evaluate("img => img.naturalWidth") == 240
    shot(resident, "26-portal-branded")
    resident.click(".portal-nav >> text=我要点单")
    resident.fill("#title", "3 号楼楼道灯坏了")
    resident.fill("#description", "晚上回家看不见台阶，老人容易摔倒。")
    resident.select_option("#community", "兴文社区")
    resident.fill("#resident_phone", "13812345678")
    with pytest.MonkeyPatch.context() as later:  # a person takes longer than the minimum fill time
        moment = portal.utcnow() + timedelta(seconds=portal.MIN_FILL_SECONDS + 0.2)
        later.setattr(portal, "utcnow", lambda: moment)
        resident.click("form button.primary")
        code = resident.inner_text("#receipt-code")
    shot(resident, "27-receipt")

    resident.click(".center-actions >> text=查询进度")
    resident.fill("#code", code)
    resident.fill("#last4", "5678")
    resident.click("form button.primary")
    shows(resident, "3 号楼楼道灯坏了")
    shot(resident, "28-follow")

    # Later, at the evaluation step, the resident rates the result.
    to_rating(app, "xingwen")
    resident.goto(f"{base}/t/xingwen/follow")
    resident.fill("#code", code)
    resident.fill("#last4", "5678")
    resident.click("form button.primary")
    shows(resident, "3 号楼楼道灯已全部更换为声控灯")
    resident.check("input[name=solved][value=true]")
    resident.check("input[name=score][value='5']")
    for dimension in ("duration", "kind", "effect"):  # 提议办评 scores the time taken, the type and the effect
        resident.check(f"input[name=score_{dimension}][value='4']")
    resident.fill("#comment", "很及时，谢谢")
    # The level is missing: the browser would not send it; sent anyway, the server names the field.
    resident.locator("form.rate-form").evaluate("form => { form.noValidate = true; }")
    resident.click("text=提交评价")
    assert "请选择满意程度" in resident.inner_text("#level-error")
    assert resident.input_value("#comment") == "很及时，谢谢" and resident.is_checked("input[name=solved][value=true]")
    shot(resident, "29-rate-refused")
    resident.check("input[name=level][value=very_satisfied]")
    shot(resident, "29-rate")
    resident.click("text=提交评价")
    shows(resident, "感谢您的评价", "非常满意 · 问题已解决 · 5 / 5")
    shot(resident, "30-rated")

    # The county sees the new street in its console, with its activity.
    county.goto(f"{base}/t/lixia/manage/tenants")
    row = county.locator("tr:has(a:text('兴文街道'))")
    assert "运行中" in row.inner_text() and row.locator("td.num").nth(1).inner_text() == "1"
    county.click("tr:has(a:text('兴文街道')) >> summary")
    shot(county, "31-county-console")
