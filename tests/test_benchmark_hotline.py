"""12345 orders per street per month on the county's benchmarking page (benchmarks/hotline.py): the
topics that came in by the 12345 channel, month by month, with the period against the same period a
year before (同比) and the one before (环比), so that "12345 complaints down 30%" reads off the page.
Told on a fake clock (support/clock.py); both modes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

import factories
from shangliang.benchmarks import hotline, rollups
from shangliang.benchmarks.periods import Period
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.tenants.models import Tenant
from support.clock import stopped_at

# (street, year, month): orders from the hotline; wechat topics beside them are not counted
ORDERS = {("yanshan", 2024, 12): 10, ("yanshan", 2025, 11): 4, ("yanshan", 2025, 12): 7, ("langshan", 2025, 12): 2}


def test_the_county_page_shows_12345_orders_per_street_per_month_with_their_trend(app, world, as_user,
                                                                                   monkeypatch):
    clock = stopped_at(monkeypatch, datetime(2024, 12, 5, 2, tzinfo=timezone.utc))
    with app.app_context():
        for slug in ("yanshan", "langshan"):
            factories.procedure(db.get(Tenant, world.tenant(slug).id))
        for (slug, year, month), n in sorted(ORDERS.items(), key=lambda kv: kv[0][1:]):
            clock.now = datetime(year, month, 10, 2, tzinfo=timezone.utc)
            street = db.get(Tenant, world.tenant(slug).id)
            for i in range(n):
                factories.raise_topic(street, None, title=f"12345 工单 {i}", channel="hotline_12345")
            factories.raise_topic(street, None, title="微信群里说的")
        db.commit()
        rollups.rebuild(clock.now, tenant_ids=[world.yanshan.id, world.langshan.id],
                        acting_tenant_id=world.platform.id, commit=db.commit)

        with tenant_context(world.lixia.id):
            table = hotline.orders(db.get(Tenant, world.lixia.id), Period(2025, "month", 12), None)
        by_slug = {ln.slug: ln for ln in table.lines}
        assert [m.key for m in table.months][0] == "2025-01" and table.months[-1].key == "2025-12"
        yan = by_slug["yanshan"]
        assert (yan.months[-2:], yan.now, yan.year_before, yan.before) == ([4, 7], 7, 10, 4)
        assert (yan.year_on_year, yan.on_previous) == (-30, 75)
        assert (by_slug["langshan"].now, by_slug["langshan"].year_on_year) == (2, None)
        assert (table.total.now, table.total.year_before, table.total.year_on_year) == (9, 10, -10)

    page = as_user("lixia-admin").get("/t/lixia/benchmarks/?period=2025-12")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    section = text[text.index('id="hotline"'):]
    section = section[:section.index("</section>")]
    assert "12345 热线工单" in section and "燕山街道" in section and "狼山镇街道" in section
    assert re.search(r"燕山街道</th>.*?<strong>7</strong></td><td class=\"num\">10</td><td class=\"num\">"
                     r"<span class=\"change-down\">↓30%</span>", section, re.S)
    year = as_user("lixia-admin").get("/t/lixia/benchmarks/?period=2025").get_data(as_text=True)
    assert "12345 热线工单" in year  # a year: its twelve months against the year before
