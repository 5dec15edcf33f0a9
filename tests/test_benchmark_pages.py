"""What people see of benchmarking (对标): the county's ranking page (ties, changes, streets not
ranked, definitions, charts), the settings form, frozen publications, Excel and CSV files, a
street's standing, the masked and audited drill-down, the platform's comparison of counties,
the JSON API, isolation and the cost of the page in queries."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import openpyxl
import pytest
from sqlalchemy import select

from conftest import changes_settled, csrf_token
from shangliang.accounts.operations import create_api_token
from shangliang.audit.models import AuditLog
from shangliang.benchmarks import operations as bops
from shangliang.benchmarks import rollups
from shangliang.benchmarks.models import PublishedRanking, Rollup
from shangliang.benchmarks.periods import parse
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.operations import create_tenant
# fixtures: the story, told once per module, and the app on its database (a copy for a test that writes)
from support.benchmark_story import (PERIOD, PHONE, PLACE, RESIDENT, SAT, built, clock, login_for,  # noqa: F401
                                     story, topics)
from support.databases import config, world, writes  # noqa: F401


class Rows(HTMLParser):
    """The text of each row of the page's benchmarking tables: [[cell, …], …] per table."""

    def __init__(self, html):
        super().__init__()
        self.tables, self._row, self._cell, self._depth = [], None, None, 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        cls = dict(attrs).get("class") or ""
        if tag == "table" and "bench-table" in cls:
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:800]
    return resp.get_data(as_text=True)


# ---------------------------------------------------------------- the county's page

def test_the_county_page_ranks_streets_with_ties_changes_and_those_not_ranked(story, as_user):
    county, (a, b, c, d) = story["county"], story["streets"]
    html = page(as_user(story["admin"]), f"/t/{county.slug}/benchmarks/?period={PERIOD}")
    ranking = Rows(html).tables[0]
    assert ranking[0][:5] == ["排名", "街道", "综合得分", "较上期", "议题数"]
    assert ranking[0][5:] == ["响应率 权重 30%", "解决率 权重 35%", "满意率 权重 35%"]
    body = {r[1]: r for r in ranking[1:] if len(r) > 2}
    assert body[d.name][:5] == ["1", d.name, "100.0", "↑2", "2"]
    for s in (a, b):  # equal scores share the rank: 1, 2, 2
        assert body[s.name][:5] == ["2 并列", s.name, "76.7", "↓1", "3"]
        assert body[s.name][5:] == ["100.0% 3/3", "66.7% 2/3", "66.7% 2/3"]
    assert ["不参与排名（1）"] in ranking
    assert body[c.name][:4] == ["—", c.name, "议题少于 2 件，不参与排名", "1"]
    assert [r[1] for r in ranking[1:] if len(r) > 2] == [d.name, *sorted([a.name, b.name]), c.name]
    assert "数据截至 2026-01-25 09:00" in html  # the rebuild's time, in the county's time zone
    # 口径说明: every measure shown, in words, with its weight
    assert "口径说明" in html and "收集后第一次处理（离开收集阶段）在收集步骤时限内的议题" in html
    assert "议题少于 2 件的不参与排名" in html and "“基本满意”不计入满意" in html
    # trend charts, inline SVG, one per measure shown
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == len(bops.DEFAULT_SETTINGS["measures"])
    assert "<title id=\"chart-satisfaction_rate-t\">满意率趋势</title>" in html
    # a figure leads to the topics behind it
    assert f'/t/{county.slug}/benchmarks/streets/{a.slug}?period={PERIOD}&amp;measure=satisfaction_rate' in html


def test_the_platform_compares_counties_the_same_way(story, as_user, app, world, writes):
    county = story["county"]
    client = as_user("operator")
    html = page(client, f"/t/platform/benchmarks/?period={PERIOD}")
    row = next(r for r in Rows(html).tables[0] if county.name in r)
    assert row[:4] == ["—", county.name, "议题少于 10 件，不参与排名", "9"]  # the platform's own minimum
    with app.app_context(), tenant_context(world.platform.id):
        form = {**{f"weight_{k}": str(v) for k, v in bops.DEFAULT_SETTINGS["weights"].items()}, "min_topics": "5",
                "measures": bops.DEFAULT_SETTINGS["measures"],
                **{f"points_{k}": str(v) for k, v in bops.DEFAULT_POINTS.items()}}
        bops.save_settings(world.platform, None, form)
        db.commit()
    html = page(client, f"/t/platform/benchmarks/?period={PERIOD}")
    ranking = Rows(html).tables[0]
    assert ranking[0][1] == "区县"
    row = next(r for r in ranking if county.name in r)
    # 9 topics (A 3, B 3, C 1, D 2): responses 9/9, solved 7/9, satisfied 7/9 → 30 + 35·7/9·2 = 84.4
    assert row[:5] == ["1", county.name, "84.4", "—", "9"]  # first in December too (6 topics)
    assert next(r for r in ranking if "历下区" in r)[2] == "议题少于 5 件，不参与排名"
    assert f'href="/t/{county.slug}/benchmarks/?period={PERIOD}"' in html
    assert "/streets/" not in html  # a county's streets are drilled into from the county's page


def test_empty_states_say_why_there_is_nothing(app, world, as_user, story, writes):
    client = as_user(story["admin"])
    html = page(client, f"/t/{story['county'].slug}/benchmarks/?period=2024-03")
    assert "2024年3月还没有议题数据" in html and "每 10 分钟刷新一次" in html
    assert "<svg" not in html  # twelve empty periods: no charts that all say 暂无数据
    with app.app_context():
        lonely = create_tenant(None, kind="county", slug="lonely", name="空区", admin=None)
        db.commit()
        username = login_for(lonely, "county_admin", "lonely")
    html = page(as_user(username), "/t/lonely/benchmarks/")
    assert "还没有下辖街道" in html
    html = page(client, f"/t/{story['county'].slug}/benchmarks/?period=2026-13", status=400)
    assert "统计期须为 2026-11（月）、2026-Q4（季度）或 2026（年）" in html


def test_the_pages_read_in_english(story, as_user):
    county, a = story["county"], story["streets"][0]
    client = as_user(story["admin"])
    client.set_cookie("lang", "en")
    html = page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}")
    head = Rows(html).tables[0][0]
    assert head[:3] == ["Rank", "Street", "Composite score"] and head[5] == "Response rate weight 30%"
    assert "Definitions" in html and "Figures as of 2026-01-25 09:00" in html and "tied" in html
    html = page(as_user(story["street_admin"]), f"/t/{a.slug}/benchmarks/?period={PERIOD}")
    assert "对标" in html  # (the street's own client is still in Chinese)


def test_the_period_switch_moves_between_months_quarters_and_years(story, as_user):
    county = story["county"]
    html = page(as_user(story["admin"]), f"/t/{county.slug}/benchmarks/?period=2026-Q1")
    assert "2026年第一季度" in html
    assert f'href="/t/{county.slug}/benchmarks/?period=2025-Q4" rel="prev"' in html
    assert f'href="/t/{county.slug}/benchmarks/?period=2026"' in html  # the year holding it
    ranking = {r[1]: r for r in Rows(html).tables[0][1:] if len(r) > 2}
    # the quarter holds January only: the same figures as the month, compared with 2025-Q4
    assert ranking[story["streets"][3].name][:5] == ["1", story["streets"][3].name, "100.0", "↑2", "2"]
    year = Rows(page(as_user(story["admin"]), f"/t/{county.slug}/benchmarks/?period=2025")).tables[0]
    assert {r[1]: r[0] for r in year[1:] if len(r) > 2}[story["streets"][0].name] == "1 并列"


# ---------------------------------------------------------------- settings

def settings_form(token, **changes):
    form = {"csrf_token": token, "weight_response_rate": "30", "weight_resolution_rate": "35",
            "weight_satisfaction_rate": "35", "min_topics": "2",
            "measures": ["collected", "response_rate", "resolution_rate", "satisfaction_rate", "close_p50_h"],
            **{f"points_{k}": str(v) for k, v in bops.DEFAULT_POINTS.items()}}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_settings_are_refused_with_every_field_named_and_what_was_typed_kept(story, as_user, writes):
    county = story["county"]
    client = as_user(story["admin"])
    url = f"/t/{county.slug}/benchmarks/settings"
    assert 'name="weight_response_rate" type="number" value="30"' in page(client, url)
    resp = client.post(url, data=settings_form(csrf_token(client), weight_response_rate="40",
                                               weight_resolution_rate="15", min_topics="很多", points_claim="500"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "请修改以下 3 处后再保存" in html
    assert "各项权重之和须为 100%，现在是 90%" in html
    assert "参与排名的最少议题数须为整数" in html and 'id="min_topics-error"' in html
    assert "分值须在 -100–100 之间" in html and 'id="points_claim-error"' in html
    assert 'name="weight_response_rate" type="number" value="40"' in html  # kept as typed
    assert 'name="min_topics" type="number" value="很多"' in html
    # a weighted measure must be shown
    resp = client.post(url, data=settings_form(csrf_token(client), measures=["collected", "response_rate"]))
    assert resp.status_code == 400 and "计入综合得分的指标须显示：解决率、满意率" in resp.get_data(as_text=True)
    with_weights = settings_form(csrf_token(client), weight_response_rate="50", weight_resolution_rate="25",
                                 weight_satisfaction_rate="25", show_names="on")
    resp = client.post(url, data=with_weights)
    assert resp.status_code == 302
    html = page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}")
    assert "已保存对标设置" in html
    head = Rows(html).tables[0][0]
    assert head[5:] == ["响应率 权重 50%", "解决率 权重 25%", "满意率 权重 25%"]
    a = story["streets"][0]
    assert next(r for r in Rows(html).tables[0] if a.name in r)[2] == "83.3"  # 50 + 25·2/3 + 25·2/3
    assert "办结用时（中位数）" in html and "委员参与率" not in html  # only the measures chosen


def test_only_county_and_platform_administrators_change_settings_or_publish(story, as_user, world):
    client = as_user(story["street_admin"])
    a = story["streets"][0]
    assert client.get(f"/t/{a.slug}/benchmarks/settings").status_code == 403
    county_staff = as_user("yanshan-staff")  # staff may look, not set
    assert county_staff.get("/t/yanshan/benchmarks/settings").status_code == 403
    assert county_staff.get("/t/yanshan/benchmarks/").status_code == 200
    member = as_user("yanshan-member")  # members have the ledger, not benchmarking
    assert member.get("/t/yanshan/benchmarks/").status_code == 403


# ---------------------------------------------------------------- publishing

def test_a_publication_stays_as_published_after_the_weights_and_the_data_change(story, as_user, app, world, clock,
                                                                                writes):
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["admin"])
    resp = client.post(f"/t/{county.slug}/benchmarks/publish",
                       data={"csrf_token": csrf_token(client), "period": PERIOD, "title": "一月对标通报"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/t/{county.slug}/benchmarks/publications/1")
    before = page(client, f"/t/{county.slug}/benchmarks/publications/1")
    assert "已发布第 1 号排名：一月对标通报" in before and "这是发布时存档的排名" in before
    frozen_rows = Rows(before).tables[0]
    frozen_xlsx = client.get(f"/t/{county.slug}/benchmarks/publications/1.xlsx").data

    client.post(f"/t/{county.slug}/benchmarks/settings",
                data=settings_form(csrf_token(client), weight_response_rate="100", weight_resolution_rate="0",
                                   weight_satisfaction_rate="0", basic_counts="on"))
    with app.app_context():  # C gets enough topics to be ranked, all of them satisfied
        topics(story["states"][2], clock, [SAT, SAT])
        rollups.rebuild(clock.now, tenant_ids=[s.id for s in story["streets"]], acting_tenant_id=world.platform.id, commit=db.commit)
    live = Rows(page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}")).tables[0]
    assert live[0][5:] == ["响应率 权重 100%"] and next(r for r in live if c.name in r)[0] == "1 并列"

    after = page(client, f"/t/{county.slug}/benchmarks/publications/1")
    assert Rows(after).tables[0] == frozen_rows
    assert "“基本满意”不计入满意" in after and "权重 35%" in after  # its own words and weights
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/t/{county.slug}/benchmarks/publications/1.xlsx").data))
    old = openpyxl.load_workbook(io.BytesIO(frozen_xlsx))
    assert [list(r) for r in wb["排名"].iter_rows(min_row=4, values_only=True)] == \
        [list(r) for r in old["排名"].iter_rows(min_row=4, values_only=True)]
    listing = page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}")
    assert "一月对标通报" in listing and f"/t/{county.slug}/benchmarks/publications/1.csv" in listing


def test_publishing_a_period_without_data_is_refused_on_the_page(story, as_user):
    county = story["county"]
    client = as_user(story["admin"])
    resp = client.post(f"/t/{county.slug}/benchmarks/publish",
                       data={"csrf_token": csrf_token(client), "period": "2024-02", "title": "空的一期"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "2024年2月还没有任何议题数据，不能发布" in html
    assert 'value="空的一期"' in html  # the title typed is kept


# ---------------------------------------------------------------- files

def test_the_ranking_exports_to_excel_with_its_definitions_and_to_csv_with_a_bom(story, as_user):
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["admin"])
    resp = client.get(f"/t/{county.slug}/benchmarks/export.xlsx?period={PERIOD}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in resp.headers["Content-Disposition"] and ".xlsx" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["排名", "口径说明", "明细数据"]
    ws = wb["排名"]
    assert ws["A1"].value == f"{county.name}2026年1月对标排名" and "数据截至：2026-01-25 09:00" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[:5] == ["排名", "并列", "街道", "综合得分", "名次变化（正数为上升）"]
    rows = {r[2]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    col = header.index("满意率")
    assert rows[d.name][:5] == (1, None, d.name, 100.0, 2)
    assert rows[a.name][:5] == (2, "并列", a.name, 76.7, -1) and rows[a.name][col] == pytest.approx(2 / 3)
    assert ws.cell(5, col + 1).number_format == "0.0%"
    assert rows[c.name][0] is None and rows[c.name][-1] == "议题少于 2 件，不参与排名"
    words = {r[0]: r for r in wb["口径说明"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert words["响应率"][5] == "30%" and words["满意率"][5] == "35%" and words["收集议题"][5] == "不计入综合得分"
    assert "“基本满意”不计入满意" in words["满意率"][2]
    assert words["参与排名的最少议题数"][2] == 2
    counts = {r[0]: r for r in wb["明细数据"].iter_rows(min_row=2, values_only=True)}
    assert counts[a.name][2] == 3  # collected

    resp = client.get(f"/t/{county.slug}/benchmarks/export.csv?period={PERIOD}")
    assert resp.data.startswith(b"\xef\xbb\xbf") and resp.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert table[0][:3] == ["排名", "并列", "街道"]
    line = next(r for r in table if r[2] == a.name)
    assert line[:5] == ["2", "并列", a.name, "76.7", "-1"] and line[table[0].index("满意率")] == "66.7%"


def test_a_street_exports_its_own_standing(story, as_user):
    a = story["streets"][0]
    client = as_user(story["street_admin"])
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/t/{a.slug}/benchmarks/export.xlsx?period={PERIOD}").data))
    rows = {r[0]: r for r in wb["本街道"].iter_rows(min_row=5, values_only=True)}
    assert rows["满意率"][1] == pytest.approx(2 / 3) and rows["满意率"][5] == "不及中位数"
    names = " ".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c)
    assert all(s.name not in names for s in story["streets"][1:])
    text = client.get(f"/t/{a.slug}/benchmarks/export.csv?period={PERIOD}").data.decode("utf-8-sig")
    assert "满意率,66.7%" in text


# ---------------------------------------------------------------- a street's view

def test_a_street_sees_its_figures_against_quartiles_and_no_other_names_unless_shown(story, as_user, app, writes):
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["street_admin"])
    html = page(client, f"/t/{a.slug}/benchmarks/?period={PERIOD}")
    table = {r[0]: r for r in Rows(html).tables[0]}
    # the streets' satisfaction rates: A 2/3, B 2/3, C 1, D 1 → quartiles 2/3, 5/6, 1
    assert table["满意率 权重 35%"][1:] == ["66.7% 2/3", "83.3% 66.7% – 100.0%", "不及中位数"]
    assert "区县未公开各街道名称" in html
    assert all(s.name not in html for s in (b, c, d))
    assert "2<span class=\"of\"> / 3</span>" in html  # its own rank among the three ranked
    assert html.count("<svg") == len(bops.DEFAULT_SETTINGS["measures"]) and "本街道 66.7%" in html
    with app.app_context(), tenant_context(county.id):
        current = bops.settings_of(county)
        bops.save_settings(county, None, {**{f"weight_{k}": str(v) for k, v in current["weights"].items()},
                                          "min_topics": "2", "measures": current["measures"], "show_names": "on",
                                          **{f"points_{k}": str(v) for k, v in current["points"].items()}})
        db.commit()
    html = page(client, f"/t/{a.slug}/benchmarks/?period={PERIOD}")
    assert all(s.name in html for s in (b, c, d)) and "各街道排名" in html
    assert f"/benchmarks/streets/" not in html  # names, not the other streets' topics


# ---------------------------------------------------------------- drill-down

def test_the_drill_down_lists_the_topics_masked_and_is_audited(story, as_user, app, writes):
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["admin"])
    html = page(client, f"/t/{county.slug}/benchmarks/streets/{a.slug}?period={PERIOD}&measure=satisfaction_rate")
    assert "66.7%" in html and "2 / 3 件" in html
    assert html.count("楼道灯不亮") == 3
    assert html.count("✓ 计入") == 2 and html.count("✗ 未计入") == 1
    for secret in (RESIDENT, PHONE, PHONE[-4:], PLACE):
        assert secret not in html
    with app.app_context(), tenant_context(county.id):
        audit = db.scalars(select(AuditLog).where(AuditLog.action == "cross_tenant.read",
                                                  AuditLog.target.like("benchmark drill-down%"))).all()
        assert audit and all(row.detail["tenants"] == [a.id] for row in audit)
        assert audit[0].target == f"benchmark drill-down {PERIOD} satisfaction_rate"
    # hours measures show each topic's hours; a measure without topics behind it is refused
    html = page(client, f"/t/{county.slug}/benchmarks/streets/{a.slug}?period={PERIOD}&measure=close_p50_h")
    assert "用时（小时）" in html
    html = page(client, f"/t/{county.slug}/benchmarks/streets/{a.slug}?period={PERIOD}&measure=participation_rate",
                status=400)
    assert "该指标没有可查看的议题明细" in html


def test_a_drill_down_reaches_only_the_countys_own_streets(story, as_user, world):
    county = story["county"]
    client = as_user(story["admin"])
    assert client.get(f"/t/{county.slug}/benchmarks/streets/guangwumen?period={PERIOD}").status_code == 404
    assert client.get(f"/t/{county.slug}/benchmarks/streets/{county.slug}").status_code == 404
    # …and a street has no drill-down at all
    street_admin = as_user(story["street_admin"])
    a, b = story["streets"][:2]
    assert street_admin.get(f"/t/{a.slug}/benchmarks/streets/{b.slug}").status_code == 404


# ---------------------------------------------------------------- charts

def test_a_chart_is_svg_without_scripts_or_inline_styles(story, as_user):
    county, a = story["county"], story["streets"][0]
    resp = as_user(story["admin"]).get(f"/t/{county.slug}/benchmarks/chart.svg?measure=satisfaction_rate"
                                       f"&period={PERIOD}")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    root = ET.fromstring(svg)  # well-formed on its own
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "满意率趋势"
    desc = root.find(f"{ns}desc").text
    assert "2026年1月：中位数 83.3%（四分位 66.7%–100.0%）" in desc and "2025年12月：中位数 100.0%" in desc
    assert "style=" not in svg and "<script" not in svg.lower() and "http://" not in svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert any(el.get("stroke-dasharray") == "1 3" for el in root.iter(f"{ns}polyline"))  # the band's dotted edges
    own = as_user(story["street_admin"]).get(f"/t/{a.slug}/benchmarks/chart.svg?measure=response_rate&period={PERIOD}")
    assert 'stroke-dasharray="6 4"' in own.get_data(as_text=True)  # the street's own line, dashed
    assert as_user(story["admin"]).get(f"/t/{county.slug}/benchmarks/chart.svg?measure=nope").status_code == 404


# ---------------------------------------------------------------- the API

def token_for(app, tenant, role):
    with app.app_context(), tenant_context(tenant.id):
        _row, secret = create_api_token(tenant, None, "对标", role)
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_reads_rankings_and_standings_publishes_and_sets(story, app, client, writes):
    county, (a, b, c, d) = story["county"], story["streets"]
    auth = token_for(app, county, "county_admin")
    base = f"/api/v1/t/{county.slug}/benchmarks"
    body = client.get(f"{base}?period={PERIOD}", headers=auth).get_json()
    assert body["view"] == "ranking" and body["period"]["key"] == PERIOD
    lines = {ln["name"]: ln for ln in body["lines"]}
    assert (lines[d.name]["rank"], lines[d.name]["change"]) == (1, 2)
    assert (lines[a.name]["rank"], lines[a.name]["tied"], lines[a.name]["score"]) == (2, True, 76.7)
    assert lines[c.name]["rank"] is None and lines[c.name]["reason"] == "议题少于 2 件，不参与排名"
    assert lines[a.name]["values"]["satisfaction_rate"] == pytest.approx(2 / 3)
    assert {dfn["key"] for dfn in body["definitions"]} >= {"response_rate", "satisfaction_rate"}
    assert client.get(f"{base}?period=26-1", headers=auth).get_json()["error"]["fields"] == {
        "period": ["统计期须为 2026-11（月）、2026-Q4（季度）或 2026（年）"]}

    bad = client.put(f"{base}/settings", headers=auth, json={"weights": {"response_rate": 50}})
    assert bad.status_code == 422 and "weights" in bad.get_json()["error"]["fields"]
    wrong = client.put(f"{base}/settings", headers=auth, json={"weights": {"not_a_measure": 100}, "min_topics": -1})
    assert wrong.status_code == 422  # a map's wrong key by its path
    assert set(wrong.get_json()["error"]["fields"]) == {"weights.not_a_measure.key", "min_topics"}
    ok = client.put(f"{base}/settings", headers=auth, json={"weights": {"response_rate": 40, "resolution_rate": 30,
                                                                        "satisfaction_rate": 30}, "show_names": True})
    assert ok.status_code == 200 and ok.get_json()["weights"]["response_rate"] == 40
    assert ok.get_json()["min_topics"] == 2 and ok.get_json()["points"] == bops.DEFAULT_POINTS  # the rest kept
    assert client.get(f"{base}/settings", headers=auth).get_json()["show_names"] is True

    pub = client.post(f"{base}/publications", headers=auth, json={"period": PERIOD})
    assert pub.status_code == 201 and pub.get_json()["number"] == 1
    assert pub.get_json()["settings"]["weights"]["response_rate"] == 40
    assert client.get(f"{base}/publications", headers=auth).get_json()["items"][0]["title"] == \
        f"{county.name}2026年1月对标排名"
    one = client.get(f"{base}/publications/1", headers=auth).get_json()
    assert [r["name"] for r in one["rows"]][0] == d.name
    assert client.get(f"{base}/publications/2", headers=auth).status_code == 404
    empty = client.post(f"{base}/publications", headers=auth, json={"period": "2024-01"})
    assert empty.status_code == 422 and "period" in empty.get_json()["error"]["fields"]

    street = token_for(app, a, "street_admin")
    mine = client.get(f"/api/v1/t/{a.slug}/benchmarks?period={PERIOD}", headers=street).get_json()
    assert mine["view"] == "standing" and mine["own"]["name"] == a.name
    assert mine["distribution"]["satisfaction_rate"]["median"] == pytest.approx(5 / 6)
    assert [o["name"] for o in mine["others"]] == [d.name, *sorted([a.name, b.name]), c.name]  # names shown now
    assert client.put(f"/api/v1/t/{a.slug}/benchmarks/settings", headers=street, json={}).status_code == 403
    assert client.get(f"/api/v1/t/{a.slug}/benchmarks/publications", headers=street).status_code == 403
    staff = token_for(app, county, "staff")
    assert client.put(f"{base}/settings", headers=staff, json={"min_topics": 3}).status_code == 403
    assert client.post(f"{base}/publications", headers=staff, json={"period": PERIOD}).status_code == 403


def test_the_openapi_document_describes_benchmarking(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/t/{slug}/benchmarks/settings"]) == {"get", "put"}
    assert set(paths["/t/{slug}/benchmarks/publications"]) == {"get", "post"}
    assert "get" in paths["/t/{slug}/benchmarks/publications/{number}"]
    assert paths["/t/{slug}/benchmarks"]["get"]["parameters"][-1]["name"] == "period"


# ---------------------------------------------------------------- isolation and cost

def test_another_tenants_people_get_404_on_every_benchmarking_url(story, as_user, app, client, writes):
    county, a = story["county"], story["streets"][0]
    urls = [f"/t/{county.slug}/benchmarks/", f"/t/{county.slug}/benchmarks/settings",
            f"/t/{county.slug}/benchmarks/chart.svg?measure=collected", f"/t/{county.slug}/benchmarks/export.xlsx",
            f"/t/{county.slug}/benchmarks/export.csv", f"/t/{county.slug}/benchmarks/streets/{a.slug}",
            f"/t/{a.slug}/benchmarks/", f"/t/{a.slug}/benchmarks/export.csv"]
    with app.app_context(), tenant_context(county.id):
        bops.publish(county, None, parse(PERIOD))
        db.commit()
    urls += [f"/t/{county.slug}/benchmarks/publications/1", f"/t/{county.slug}/benchmarks/publications/1.xlsx",
             f"/t/{county.slug}/benchmarks/publications/1.csv"]
    for who in ("chengguan-admin", "guangwumen-admin", "lixia-admin"):
        other = as_user(who)
        for url in urls:
            resp = other.get(url)
            assert resp.status_code == 404, f"{who} {url} → {resp.status_code}"
            assert county.name not in resp.get_data(as_text=True)
        assert other.post(f"/t/{county.slug}/benchmarks/publish", data={"csrf_token": csrf_token(other),
                                                                         "period": PERIOD}).status_code == 404
    auth = token_for(app, story["streets"][1], "street_admin")  # a sibling street's token
    for path in ("benchmarks", "benchmarks/publications", "benchmarks/publications/1", "benchmarks/settings"):
        assert client.get(f"/api/v1/t/{county.slug}/{path}", headers=auth).status_code == 404
    with app.app_context(), tenant_context(county.id):
        assert db.scalar(select(PublishedRanking.number)) == 1  # nothing else was published


def seed_streets(app, county, n, offset):
    """n streets with a month's rollup straight in the table: the page reads rollups, nothing else."""
    with app.app_context():
        for i in range(offset, offset + n):
            street = create_tenant(None, kind="street", slug=f"{county.slug}-q{i}", name=f"计数街道{i}", parent=county)
            with tenant_context(street.id):
                for key in ("2025-12", PERIOD):
                    db.add(Rollup(tenant_id=street.id, period=key, kind="month",
                                  **{**rollups._empty(), "collected": 10 + i, "response_due": 10,
                                     "responded_on_time": 9, "rated": 8, "rated_solved": i % 8, "rated_satisfied": 6}))
                db.commit()


def test_the_county_page_costs_the_same_queries_at_10_and_40_streets(app, world, as_user, query_counter,
                                                                     writes):
    with app.app_context():
        county = create_tenant(None, kind="county", slug="qcount", name="计数区")
        db.commit()
        admin = login_for(county, "county_admin", "qc")
    seed_streets(app, county, 10, 0)
    client = as_user(admin)
    urls = [f"/t/qcount/benchmarks/?period={PERIOD}", f"/t/qcount/benchmarks/export.xlsx?period={PERIOD}"]

    def count(url):
        changes_settled(app)  # the streets just added were heard of, and the page read them once
        assert client.get(url).status_code == 200
        with query_counter() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = {u: count(u) for u in urls}
    assert len(Rows(client.get(urls[0]).get_data(as_text=True)).tables[0]) == 11
    seed_streets(app, county, 30, 10)
    large = {u: count(u) for u in urls}
    assert len(Rows(client.get(urls[0]).get_data(as_text=True)).tables[0]) == 41
    assert small == large, (small, large)
