"""Rankings people trust (issue 15, item 9): a rate resting on too few topics is shown with its
counts and marked, left out of the comparison and the score, and the rule is in 口径说明; the
county sets the minimum; the trend charts draw every street, the chosen one highlighted."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.benchmarks import operations as bops
# fixtures: the story, told once per module, and the app on its database (a copy for a test that writes)
from support.benchmark_story import PERIOD, built, clock, story  # noqa: F401
from support.databases import config, world, writes  # noqa: F401
from test_benchmark_pages import Rows, page, settings_form

NS = "{http://www.w3.org/2000/svg}"


def test_a_street_below_the_minimum_sample_is_not_ranked_on_that_measure(story, as_user, app, writes):
    """January: A and B have 3 topics each, all responded and rated, D 2 and C 1. At a minimum of
    3, D's rates (all 100%, which ranked it first) are shown with their counts and marked, and it is
    not ranked; A and B are. (A score of the measures that reach the minimum: test_benchmark_ranking.)"""
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["admin"])
    resp = client.post(f"/t/{county.slug}/benchmarks/settings",
                       data=settings_form(csrf_token(client), min_topics="1", min_denominator="3"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:600]
    html = page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}")
    body = {r[1]: r for r in Rows(html).tables[0][1:] if len(r) > 2}
    assert body[d.name][:4] == ["—", d.name, "各计入指标样本均不足，不参与排名", "2"]
    assert body[d.name][4:] == ["100.0% 2/2 样本不足（n=2）"] * 3
    assert body[c.name][:4] == ["—", c.name, "各计入指标样本均不足，不参与排名", "1"]
    assert body[a.name][:3] == ["1 并列", a.name, "76.7"]
    assert body[a.name][5:] == ["100.0% 3/3", "66.7% 2/3", "66.7% 2/3"]  # no mark at the minimum
    # 口径说明 says the rule with the county's number
    assert "分母（如应响应的议题、有效评价的议题）少于 3 的，标“样本不足”" in html
    assert "综合得分只用达到最少样本数的指标，按它们的权重重新加权平均" in html
    # the settings page shows the number back
    assert 'name="min_denominator" type="number" value="3"' in page(client, f"/t/{county.slug}/benchmarks/settings")


def test_the_minimum_sample_is_checked_and_named_in_chinese(story, as_user, writes):
    client = as_user(story["admin"])
    url = f"/t/{story['county'].slug}/benchmarks/settings"
    for wrong, said in (("1001", "每项指标的最少样本数须在 0–1000 之间"), ("两个", "每项指标的最少样本数须为整数"),
                        ("-1", "每项指标的最少样本数须在 0–1000 之间")):
        resp = client.post(url, data=settings_form(csrf_token(client), min_denominator=wrong))
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and said in html and 'id="min_denominator-error"' in html
        assert f'name="min_denominator" type="number" value="{wrong}"' in html  # kept as typed


def test_the_charts_draw_every_street_and_highlight_the_chosen_one(story, as_user):
    county, (a, b, c, d) = story["county"], story["streets"]
    client = as_user(story["admin"])
    html = page(client, f"/t/{county.slug}/benchmarks/?period={PERIOD}&street={d.slug}")
    assert ">SVG</a>" not in html  # no stray label beside each chart
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 250" width="400" height="250" '
                       'role="img" aria-labelledby="chart-satisfaction_rate-t')
    svg = ET.fromstring(html[start:html.index("</svg>", start) + 6])
    faint = [el for el in svg.iter() if el.get("class") == "street-line"]
    assert {el.find(f"{NS}title").text for el in faint} == {a.name, b.name, c.name}  # every other street
    assert all(el.get("stroke-opacity") == "0.6" for el in faint if el.tag == f"{NS}polyline")
    highlighted = [el for el in svg.iter(f"{NS}polyline") if el.get("stroke-dasharray") == "6 4"]
    assert highlighted and all(el.get("stroke-width") == "2" for el in highlighted)
    assert any((t.text or "").startswith(f"{d.name} ") for t in svg.iter(f"{NS}text"))  # in the legend
    assert f'<option value="{d.slug}" selected>{d.name}</option>' in html
    # the chart on its own, too
    alone = client.get(f"/t/{county.slug}/benchmarks/chart.svg?measure=response_rate&period={PERIOD}&street={a.slug}")
    root = ET.fromstring(alone.get_data(as_text=True))
    assert {el.find(f"{NS}title").text for el in root.iter() if el.get("class") == "street-line"} == {b.name, c.name,
                                                                                                   d.name}


def test_a_street_sees_the_others_lines_only_when_the_county_shows_names(story, as_user, app, writes):
    county, a = story["county"], story["streets"][0]
    client = as_user(story["street_admin"])
    assert 'class="street-line"' not in page(client, f"/t/{a.slug}/benchmarks/?period={PERIOD}")
    with app.app_context(), tenant_context(county.id):
        current = bops.settings_of(county)
        form = {**{f"weight_{k}": str(v) for k, v in current["weights"].items()}, "min_topics": "2",
                "min_denominator": "3", "measures": current["measures"], "show_names": "on",
                **{f"points_{k}": str(v) for k, v in current["points"].items()}}
        bops.save_settings(county, None, form)
        db.commit()
    html = page(client, f"/t/{a.slug}/benchmarks/?period={PERIOD}")
    assert 'class="street-line"' in html
    # D's 2 ratings are below 3: marked in the others' table, its position not judged
    assert "样本不足（n=2）" in html
