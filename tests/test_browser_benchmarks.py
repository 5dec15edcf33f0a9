"""Benchmarking (对标) in a real browser: a county administrator reads the ranking, changes the
weights (first wrongly), drills into a street's figure, downloads the Excel file and we open it
with openpyxl; a street administrator reads its standing, on a phone too; the page as printed.
Screenshots go to test-output/browser/benchmarks-*.png."""
from __future__ import annotations

import os

import openpyxl
import pytest

# fixtures: the story, told once per module, and the app on its database (a copy for a test that writes)
from support.benchmark_story import PERIOD, PHONE, RESIDENT, built, clock, story  # noqa: F401
from support.browser import CHROMIUM, SHOTS, browser, go_to, live_server, shows, sign_in  # noqa: F401  (fixtures)
from support.databases import config, world, writes  # noqa: F401

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"benchmarks-{name}.png"), full_page=True)


def test_a_county_ranks_its_streets_reweights_drills_down_and_exports(live_server, browser, story, tmp_path,
                                                                      writes):
    base, county = live_server, story["county"]
    a, b, c, d = story["streets"]
    admin = sign_in(browser, base, story["admin"])
    admin.goto(f"{base}/t/{county.slug}/manage/")
    go_to(admin, "对标")
    admin.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}")
    first = admin.locator("table.bench-table").first
    assert first.locator("tbody tr").first.locator("th").inner_text() == d.name
    assert admin.locator("span.tie").count() == 2 and admin.locator("span.change-up").inner_text() == "↑2"
    assert "议题少于 2 件，不参与排名" in first.inner_text()
    assert admin.locator("figure.chart-card svg").count() >= 3
    shot(admin, "county")

    # the weights: a sum that is not 100 is refused with the field named and the values kept
    admin.click("text=对标设置")
    admin.fill("#weight_response_rate", "50")
    admin.click("button:has-text('保存设置')")
    shows(admin, "各项权重之和须为 100%，现在是 120%")
    assert admin.input_value("#weight_response_rate") == "50"
    shot(admin, "settings-refused")
    admin.fill("#weight_resolution_rate", "25")
    admin.fill("#weight_satisfaction_rate", "25")
    admin.click("button:has-text('保存设置')")
    shows(admin, "已保存对标设置")
    admin.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}")
    assert "权重 50%" in admin.locator("table.bench-table").first.inner_text()
    shot(admin, "county-reweighted")

    # a figure leads to the topics behind it, without residents' names or phone numbers
    admin.locator(f"table.bench-table >> tr:has-text('{a.name}') >> a[href*='measure=satisfaction_rate']").first.click()
    shows(admin, f"{a.name} · 满意率", "✗ 未计入")
    html = admin.content()
    assert RESIDENT not in html and PHONE not in html
    shot(admin, "drilldown")

    # the Excel file, as downloaded
    admin.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}")
    with admin.expect_download() as download:
        admin.click("text=导出 Excel")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx" and county.name in path.name
    wb = openpyxl.load_workbook(path)
    ws = wb["排名"]
    header = [cell.value for cell in ws[4]]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True)]
    assert rows[0][header.index("街道")] == d.name and rows[0][0] == 1
    assert {r[header.index("街道")]: r[1] for r in rows}[a.name] == "并列"
    weights = {r[0]: r[5] for r in wb["口径说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert weights["响应率"] == "50%" and weights["满意率"] == "25%"

    # publishing, then the page as printed: no menus or buttons, the tables and charts kept
    admin.fill("#title", "一月对标通报")
    admin.click("button:has-text('发布2026年1月排名')")
    shows(admin, "已发布第 1 号排名：一月对标通报")
    shot(admin, "publication")
    admin.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}")
    admin.emulate_media(media="print")
    assert not admin.locator("nav.tenantnav").is_visible() and not admin.locator("text=导出 Excel").is_visible()
    assert admin.locator("table.bench-table").first.is_visible()
    assert admin.locator("figure.chart-card").first.is_visible()
    shot(admin, "print")
    admin.pdf(path=str(SHOTS / "benchmarks-print.pdf"), prefer_css_page_size=True)


def test_a_street_sees_its_standing_on_a_desk_and_on_a_phone(live_server, browser, story):
    base, a = live_server, story["streets"][0]
    street = sign_in(browser, base, story["street_admin"])
    street.goto(f"{base}/t/{a.slug}/benchmarks/?period={PERIOD}")
    text = street.locator("main").inner_text()
    assert "区县中位数" in text and "不及中位数" in text
    assert all(s.name not in text for s in story["streets"][1:])
    shot(street, "street")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.context.add_cookies(street.context.cookies())
    phone.goto(f"{base}/t/{a.slug}/benchmarks/?period={PERIOD}")
    # nothing wider than the screen but the tables, which scroll inside their own box
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "street-phone")
    county_admin = sign_in(browser, base, story["admin"])
    county_admin.set_viewport_size({"width": 390, "height": 844})
    county_admin.goto(f"{base}/t/{story['county'].slug}/benchmarks/?period={PERIOD}")
    assert county_admin.evaluate("document.documentElement.scrollWidth") <= 390
    shot(county_admin, "county-phone")


def test_a_street_below_the_minimum_sample_is_not_ranked_and_the_change_is_in_the_log(live_server, browser, story,
                                                                                      writes):
    """The county raises its minimum sample per measure to 3: D (2 topics, all 100%, first until
    now) is shown with its counts and 样本不足, not ranked; the audit log, showing changes only,
    says so in words."""
    base, county = live_server, story["county"]
    a, b, c, d = story["streets"]
    admin = sign_in(browser, base, story["admin"])
    admin.set_viewport_size({"width": 1366, "height": 900})
    admin.goto(f"{base}/t/{county.slug}/benchmarks/settings")
    admin.fill("#min_denominator", "1001")
    admin.click("button:has-text('保存设置')")
    shows(admin, "每项指标的最少样本数须在 0–1000 之间")
    admin.fill("#min_denominator", "3")
    admin.click("button:has-text('保存设置')")
    shows(admin, "已保存对标设置")
    admin.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}&street={a.slug}")
    ranking = admin.locator("table.bench-table").first
    row = ranking.locator(f"tr:has-text('{d.name}')")
    assert "各计入指标样本均不足，不参与排名" in row.inner_text() and "样本不足（n=2）" in row.inner_text()
    assert ranking.locator("tbody tr").first.locator("th").inner_text() in (a.name, b.name)
    assert "少于 3 的，标“样本不足”" in admin.locator("#definitions").inner_text()
    assert admin.locator("figure.chart-card svg .street-line").count() > 0
    assert admin.locator("figcaption a").count() == 0  # no stray SVG label
    shot(admin, "samples")
    admin.locator("#trends").scroll_into_view_if_needed()
    admin.locator("#trends").screenshot(path=str(SHOTS / "benchmarks-samples-charts.png"))
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.context.add_cookies(admin.context.cookies())
    phone.goto(f"{base}/t/{county.slug}/benchmarks/?period={PERIOD}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "samples-phone")

    # the audit log: changes by default, in words, no identifiers; reads on request
    admin.goto(f"{base}/t/{county.slug}/manage/")
    go_to(admin, "操作日志")
    shows(admin, "修改对标设置")
    text = admin.locator("main").inner_text()
    assert "cross_tenant" not in text and "benchmark." not in text and "查看对标排名" not in text
    admin.select_option("select[name=kind]", "change")
    admin.click("form.audit-filters button")
    shows(admin, "修改对标设置")
    admin.screenshot(path=str(SHOTS / "audit-changes.png"), full_page=True)
    admin.click("text=显示查看记录")
    shows(admin, "查看对标排名")
    phone.goto(f"{base}/t/{county.slug}/manage/audit")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(SHOTS / "audit-changes-phone.png"), full_page=True)
