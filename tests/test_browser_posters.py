"""Posters in a real browser: a street administrator opens a station's poster from the stations list
and a grid's from 社区与类别, on a desktop and a phone, and as printed (one A4 page, the code still
read by a decoder from the picture); a resident scans it, sees the station chosen and raises a topic.
Screenshots go to test-output/browser/posters-*.png."""
from __future__ import annotations

import io
import os
import re

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.demo.brands import ensure_demo_brand
from shangliang.portal import operations as portal_ops
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from shangliang.topics.models import Topic
from support.browser import CHROMIUM, SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
A4_INSIDE_MARGINS = {"width": round(190 / 25.4 * 96), "height": round(277 / 25.4 * 96)}  # @page poster


@pytest.fixture
def street(app, world, monkeypatch):
    monkeypatch.setattr(portal_ops, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan)
        with tenant_context(world.yanshan.id):
            yanshan = db.get(Tenant, world.yanshan.id)
            save_places(yanshan, None, "燕子山社区：1 网格，2 网格，3 网格\n新东苑社区：7 网格", "")
            ensure_demo_brand(yanshan, None)  # 燕山's brand: logo, colours, its two hotlines, footer
        db.commit()
        station = factories.station(world.yanshan, "燕子山小区庭院网格e站", community="燕子山社区",
                                    address="燕子山小区 3 号楼南侧", hours="每周三 9:00–11:30 委员轮值")
        db.commit()
    return station.id


def scanned(page) -> str:
    """What a phone's camera would read off the page as it is shown."""
    picture = Image.open(io.BytesIO(page.screenshot(full_page=True)))
    [code] = [r for r in zxingcpp.read_barcodes(picture) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return code.text


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"posters-{name}.png"), full_page=True)


def test_a_station_poster_on_screen_and_printed_and_a_resident_scanning_it(app, world, live_server, browser,
                                                                          street):
    base = live_server
    want = f"{base}/t/yanshan/raise?station={street}"
    admin = sign_in(browser, base, "yanshan-admin")
    admin.set_viewport_size(DESKTOP)
    admin.goto(f"{base}/t/yanshan/roster/stations")
    admin.click("text=点单海报")
    shows(admin, "点单海报：燕子山小区庭院网格e站", "委员“商量”热线", "0531-86920315", "扫码点单")
    admin.wait_for_selector("button[data-print]:not([hidden])")  # print.js shows the print button
    assert scanned(admin) == want
    shot(admin, "station-1366")

    # as printed: no menus, buttons or notes, one A4 page, the code as large and as readable
    admin.emulate_media(media="print")
    assert not admin.locator(".poster-tools").is_visible() and not admin.locator("header.topbar").is_visible()
    assert scanned(admin) == want
    shot(admin, "station-print")
    admin.set_viewport_size(A4_INSIDE_MARGINS)  # as laid out on the paper: the code 11 cm wide
    mm = {k: v * 25.4 / 96 for k, v in admin.locator(".poster-qr svg").bounding_box().items()}
    sheet = {k: v * 25.4 / 96 for k, v in admin.locator(".poster").bounding_box().items()}
    assert 107 <= mm["width"] <= 110 and 275 <= sheet["height"] <= 277
    admin.set_viewport_size(DESKTOP)
    pdf = admin.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    (SHOTS / "posters-station.pdf").write_bytes(pdf)
    admin.emulate_media(media="screen")

    # on a phone: the sheet fits the screen, nothing spills sideways, the code still reads
    admin.set_viewport_size(PHONE)
    admin.reload()
    assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert scanned(admin) == want
    shot(admin, "station-390")
    admin.emulate_media(media="print")
    shot(admin, "station-390-print")

    # a resident scans it: the form says where it came from, and the topic keeps it
    resident = browser.new_page(viewport=PHONE)
    resident.goto(want)
    shows(resident, "扫码来自", "燕子山小区庭院网格e站")
    assert resident.locator("#community").input_value() == "燕子山社区"
    shot(resident, "form-390")
    resident.fill("#title", "3 号楼楼道灯坏了")
    resident.fill("#description", "晚上回家看不见台阶，老人容易摔倒。")
    resident.fill("#resident_phone", "13812345678")
    resident.click("button:has-text('提交')")
    shows(resident, "回执码")
    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic))
        assert (topic.channel, topic.station_id) == ("station_qr", street)


def test_a_grid_poster_from_the_places_page(live_server, browser, street):
    base = live_server
    admin = sign_in(browser, base, "yanshan-admin")
    admin.set_viewport_size(DESKTOP)
    admin.goto(f"{base}/t/yanshan/manage/places")
    admin.click("#posters >> text=3 网格")
    shows(admin, "点单海报：燕子山社区 3 网格", "市民服务热线")
    url = scanned(admin)
    assert url.startswith(f"{base}/t/yanshan/raise?") and "grid=3%20%E7%BD%91%E6%A0%BC" in url
    shot(admin, "grid-1366")
    admin.emulate_media(media="print")
    assert scanned(admin) == url
    shot(admin, "grid-print")
    admin.emulate_media(media="screen")
    admin.set_viewport_size(PHONE)
    admin.reload()
    assert admin.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(admin, "grid-390")
    resident = browser.new_page(viewport=PHONE)
    resident.goto(url)
    shows(resident, "扫码来自", "燕子山社区 3 网格")
    assert resident.locator("#community").count() == 0  # the grid's community goes with it
    shot(resident, "grid-form-390")
