"""督办 and the evaluating parties besides the residents are measures of their own on the county's
对标: how often a street is supervised and whether supervised topics were closed; 党政点评 and
委员评议 satisfaction (known by who speaks, whatever the procedure calls the party); the mean of
the 1–5 dimension scores (提议办评's 时长, 类型, 成效)."""
from __future__ import annotations

from sqlalchemy import select

import factories
from shangliang.benchmarks import rollups
from shangliang.benchmarks.measures import BY_KEY
from shangliang.benchmarks.models import Rollup
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics import supervision
from support.clock import BEFORE, START, clock  # noqa: F401  (clock: a fixture)


def rate(street, topic, party, level, **scores):
    data = {"level": level, "solved": level != "unsatisfied", "party": party,
            **{f"score_{k}": v for k, v in scores.items()}}
    factories.act(street, topic, "rate", data=data)


def month_of(tenant) -> dict:
    with tenant_context(tenant.id):
        row = db.scalar(select(Rollup).where(Rollup.period == "2025-12"))
        return rollups.figures(row)


def value(key, fig):
    return BY_KEY[key].value(fig)


def test_supervision_parties_and_scores_are_measured(app, world, clock):
    with app.app_context():
        county, (tiyi, sihuan) = factories.county(procedures=["tiyi_banping", "sihuan_babu"], changed_at=BEFORE)
        tiyi, sihuan = tiyi["tenant"], sihuan["tenant"]
        with tenant_context(tiyi.id):
            scored = factories.topic_at(tiyi, "ping")
            rate(tiyi, scored, "weiyuan", "satisfied", duration=5, kind=4, effect=3)  # 4.00
            rate(tiyi, scored, "residents", "basic", duration=2, kind=2, effect=3)  # 2.33 (decides)
            pushed = factories.raise_topic(tiyi)
            factories.advance(tiyi, pushed, toward="ji_minqing")
            factories.act(tiyi, pushed, "escalate", data={"reason": "需要街道协调"}, to="yi")
            supervision.supervise(tiyi, pushed, None, {"county_admin"}, {"note": "请在月底前办结", "due_on": "2026-01-31"})
            factories.raise_topic(tiyi)
            db.commit()
        with tenant_context(sihuan.id):
            reviewed = factories.topic_at(sihuan, "jianping")
            rate(sihuan, reviewed, "dangzheng", "unsatisfied")
            rate(sihuan, reviewed, "weiyuan", "very_satisfied")
            rate(sihuan, reviewed, "dangzheng", "satisfied")  # the officials' last word counts
            db.commit()
        changed = set()
        for street in (tiyi, sihuan):
            with tenant_context(street.id):
                changed |= set(rollups.refresh(street, START))
                db.commit()
        with tenant_context(county.id):
            rollups.derive_county(county, sorted(changed), START)
            db.commit()

        t, s, c = month_of(tiyi), month_of(sihuan), month_of(county)
        assert (t["collected"], t["supervised"], t["supervised_closed"]) == (3, 1, 0)
        assert value("supervision_rate", t) == 1 / 3 and value("supervised_closed_rate", t) == 0
        assert (t["members_rated"], t["members_satisfied"], t["officials_rated"]) == (1, 1, 0)
        assert t["scored"] == 2 and t["score_points"] == 400 + 233  # 4.00 and 2.33, in hundredths
        assert value("evaluation_score", t) == 3.165
        assert value("officials_satisfaction_rate", t) is None  # 提议办评 has no 党政点评: not computed
        assert (s["officials_rated"], s["officials_satisfied"], s["members_rated"], s["members_satisfied"]) == (
            1, 1, 1, 1)
        assert s["scored"] == 0 and value("evaluation_score", s) is None
        assert s["rated"] == 0  # none of these decides: the residents' 群众评议 has not been given
        # the county's row adds its streets up: rates over both
        assert (c["supervised"], c["collected"], c["members_rated"], c["members_satisfied"]) == (
            1, t["collected"] + s["collected"], 2, 2)
        assert value("evaluation_score", c) == 3.165
