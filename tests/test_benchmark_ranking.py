"""The composite score, ranks with ties and too-few-topics, the county's settings and their checks,
and the rollup jobs as the worker runs them (the street's job, then its county's)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import act
from factories import county as county_of
from shangliang.core.errors import Refused
from shangliang.audit.models import AuditLog
from shangliang.benchmarks import operations as bops
from shangliang.benchmarks import rollups, tasks
from shangliang.benchmarks.measures import DEFAULT_SETTINGS
from shangliang.benchmarks.models import Rollup
from shangliang.benchmarks.periods import of
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import enqueue
from shangliang.core.tenancy import tenant_context
from shangliang.topics import operations as ops
from support.clock import BEFORE


def fig(collected=20, responded=18, due=20, solved=15, rated=16, very=6, satisfied=6, basic=2):
    return {**rollups._empty(), "collected": collected, "responded_on_time": responded, "response_due": due,
            "rated_solved": solved, "rated": rated, "rated_very_satisfied": very, "rated_satisfied": satisfied,
            "rated_basic": basic}


def lines(*figures):
    return [bops.Line(i, f"s{i}", f"街道{i}", None, f) for i, f in enumerate(figures)]


def test_score_is_the_weighted_mean_of_the_weighted_measures():
    settings = dict(DEFAULT_SETTINGS)
    score, reason = bops.score(fig(), settings)
    # 30% × 18/20 + 35% × 15/16 + 35% × 12/16 (基本满意 not counted)
    assert reason is None and score == round(100 * (.3 * .9 + .35 * 15 / 16 + .35 * 12 / 16), 1)
    counted, _ = bops.score(fig(), {**settings, "basic_counts": True})
    assert counted == round(100 * (.3 * .9 + .35 * 15 / 16 + .35 * 14 / 16), 1)
    lower_better, _ = bops.score({**fig(), "closed": 10, "closed_reopened": 2}, {**settings,
                                                                                "weights": {"reopen_rate": 100}})
    assert lower_better == 80.0  # a reopen rate of 20% scores 1 − 0.2
    unlimited = {**settings, "min_denominator": 0}  # no minimum sample: no data at all is missing data
    none, why = bops.score(fig(rated=0, solved=0, very=0, satisfied=0, basic=0), unlimited)
    assert none is None and why == "缺少解决率数据"


def test_equal_scores_share_a_rank_and_too_few_topics_are_shown_unranked():
    table = lines(fig(), fig(), fig(responded=10), fig(collected=3), fig(rated=0, solved=0, very=0, satisfied=0,
                                                                         basic=0))
    bops.rank(table, {**DEFAULT_SETTINGS, "min_denominator": 0})
    assert [ln.rank for ln in table] == [1, 1, 3, None, None]  # ties, then the next rank is skipped
    unranked = {ln.name: ln.reason for ln in table if ln.rank is None}
    assert unranked == {"街道3": "议题少于 10 件，不参与排名", "街道4": "缺少解决率数据"}


def test_a_measure_short_of_its_sample_is_not_compared_nor_scored():
    """解放路 ranked first on 1 valid rating out of 1: with a minimum of 5 per measure, its
    resolution and satisfaction rates are shown, marked, and left out of its score."""
    settings = {**DEFAULT_SETTINGS, "min_denominator": 5}
    full, jiefang, none = fig(), fig(rated=1, solved=1, very=1, satisfied=0, basic=0), \
        fig(due=3, responded=3, rated=1, solved=0, very=0, satisfied=0, basic=0)
    table = lines(full, jiefang, none)
    bops.rank(table, settings)
    by = {ln.name: ln for ln in table}  # ranked in place: first the ranked, by score
    assert by["街道0"].thin == {} and by["街道1"].thin == {"resolution_rate": 1, "satisfaction_rate": 1}
    # its score is its response rate alone (18/20), weighed among the measures it qualifies for
    assert by["街道1"].score == 90.0 and by["街道1"].values["satisfaction_rate"] == 1.0
    assert [ln.name for ln in table if ln.rank] == ["街道1", "街道0"]
    assert by["街道2"].rank is None and by["街道2"].reason == "各计入指标样本均不足，不参与排名"
    assert set(by["街道2"].thin) == {"response_rate", "resolution_rate", "satisfaction_rate"}
    assert bops._frozen(by["街道1"])["thin"] == {"resolution_rate": 1, "satisfaction_rate": 1}
    # at a minimum of 1 every measure counts, as before
    bops.rank(table, {**settings, "min_denominator": 1})
    assert by["街道1"].thin == {} and by["街道1"].score == 97.0 and by["街道2"].rank is not None


def test_settings_are_checked_field_by_field_and_kept(app, world):
    with app.app_context(), tenant_context(world.lixia.id):
        form = {"weight_response_rate": "40", "weight_resolution_rate": "40", "weight_satisfaction_rate": "10",
                "min_topics": "5", "measures": ["collected", "response_rate", "resolution_rate", "satisfaction_rate"],
                **{f"points_{k}": str(v) for k, v in DEFAULT_SETTINGS["points"].items()}}
        with pytest.raises(Refused) as err:
            bops.save_settings(world.lixia, None, form)
        assert err.value.field == "weights" and "90%" in err.value.message
        with pytest.raises(Refused) as err:
            bops.save_settings(world.lixia, None, {**form, "weight_satisfaction_rate": "20", "min_topics": "x"})
        assert err.value.field == "min_topics"
        with pytest.raises(Refused) as err:
            bops.save_settings(world.lixia, None, {**form, "weight_satisfaction_rate": "20", "measures": ["collected"]})
        assert err.value.field == "measures" and "响应率" in err.value.message
        with pytest.raises(Refused) as err:
            bops.save_settings(world.lixia, None, {**form, "weight_satisfaction_rate": "20", "points_claim": "1000"})
        assert err.value.field == "points_claim"
        for wrong, said in (("1001", "每项指标的最少样本数须在 0–1000 之间"), ("-1", "每项指标的最少样本数须在 0–1000 之间"),
                            ("2.5", "每项指标的最少样本数须为整数"), ("", "每项指标的最少样本数须为整数")):
            with pytest.raises(Refused) as err:
                bops.save_settings(world.lixia, None, {**form, "weight_satisfaction_rate": "20", "min_denominator": wrong})
            assert err.value.field == "min_denominator" and err.value.message == said
        saved = bops.save_settings(world.lixia, None, {**form, "weight_satisfaction_rate": "20", "show_names": "on",
                                                       "points_claim": "5", "min_denominator": "8"})
        db.commit()
        assert saved["weights"] == {"response_rate": 40, "resolution_rate": 40, "satisfaction_rate": 20}
        assert saved["show_names"] and not saved["basic_counts"] and saved["points"]["claim"] == 5
        assert bops.settings_of(world.lixia)["min_topics"] == 5 and saved["min_denominator"] == 8
    with app.app_context(), tenant_context(world.yanshan.id):  # the county's streets read them, audited
        assert bops.settings_for_street(world.yanshan, None)["weights"]["resolution_rate"] == 40
        assert db.scalar(select(AuditLog).where(AuditLog.action == "cross_tenant.read",
                                                AuditLog.target == "benchmark settings")) is not None


def test_the_periodic_job_rolls_up_the_street_then_its_county(app, world, run_jobs):
    with app.app_context():
        county, streets = county_of(2, ["qibu_dingdan", "tiyi_banping"], changed_at=BEFORE)
        db.commit()
        for s in streets:
            with tenant_context(s["tenant"].id):
                topic = ops.create_topic(s["tenant"], s["people"][0][0], {"title": "路灯不亮", "channel": "wechat"})
                act(s["tenant"], topic, "claim", s["people"][0][0])
                db.commit()
                created = topic.created_at  # the topic's month, not the clock's when the test looks
        for s in streets:
            with tenant_context(s["tenant"].id):
                enqueue(tasks.refresh_rollups)
                db.commit()
        run_jobs()
        month = of(created, "Asia/Shanghai").key
        for s in streets:
            with tenant_context(s["tenant"].id):
                row = db.get(Rollup, (s["tenant"].id, month))
                assert row.collected == 1 and row.members_active == 1 and row.members_total == 2
        with tenant_context(county.id):  # the county's row was derived by the job its streets queued
            row = db.get(Rollup, (county.id, month))
            assert row is not None and row.collected == 2 and row.members_active == 2 and row.members_total == 4
            year = db.get(Rollup, (county.id, month[:4]))
            assert year.collected == 2


def test_published_rankings_keep_their_figures_and_words(app, world):
    with app.app_context():
        county, streets = county_of(2, ["qibu_dingdan", "qibu_dingdan"], changed_at=BEFORE)
        db.commit()
        for s in streets:
            with tenant_context(s["tenant"].id):
                created = ops.create_topic(s["tenant"], None, {"title": "井盖松动", "channel": "wechat"}).created_at
                db.commit()
        rollups.rebuild(utcnow() + timedelta(seconds=1), tenant_ids=[s["tenant"].id for s in streets],
                        acting_tenant_id=world.platform.id, commit=db.commit)
        period = of(created, "Asia/Shanghai")
        with tenant_context(county.id):
            pub = bops.publish(county, None, period)
            db.commit()
            frozen = (pub.rows, pub.definitions, pub.settings)
            assert [r["figures"]["collected"] for r in pub.rows] == [1, 1]
            assert pub.settings["weights"] == DEFAULT_SETTINGS["weights"]
            assert "基本满意”不计入满意" in next(d for d in pub.definitions if d["key"] == "satisfaction_rate")["formula"]
            form = {"weight_response_rate": "100", "min_topics": "0", "measures": ["collected", "response_rate"],
                    "basic_counts": "on", **{f"points_{k}": "1" for k in DEFAULT_SETTINGS["points"]}}
            bops.save_settings(county, None, form)
            db.commit()
        with tenant_context(streets[0]["tenant"].id):
            ops.create_topic(streets[0]["tenant"], None, {"title": "又一件", "channel": "wechat"})
            db.commit()
        rollups.rebuild(utcnow() + timedelta(seconds=2), tenant_ids=[s["tenant"].id for s in streets],
                        acting_tenant_id=world.platform.id, commit=db.commit)
        with tenant_context(county.id):
            again = db.get(type(pub), (county.id, pub.id))
            assert (again.rows, again.definitions, again.settings) == frozen
            live = bops.ranking(county, period, None)
            assert sorted(ln.figures["collected"] for ln in live.lines) == [1, 2]
            assert live.settings["weights"] == {"response_rate": 100}
            with pytest.raises(Refused) as err:
                bops.publish(county, None, period.previous().previous())
            assert err.value.field == "period"


def test_publishing_at_the_same_moment_numbers_each_once(app, world):
    """Six administrators (or one double click) publish together: every publication gets its own
    number, or the late ones are told someone else just published."""
    import threading

    from shangliang.benchmarks.models import PublishedRanking

    with app.app_context():
        county, streets = county_of(1, ["qibu_dingdan"], changed_at=BEFORE)
        db.commit()
        with tenant_context(streets[0]["tenant"].id):
            created = ops.create_topic(streets[0]["tenant"], None, {"title": "井盖松动", "channel": "wechat"}).created_at
            db.commit()
        rollups.rebuild(utcnow() + timedelta(seconds=1), tenant_ids=[streets[0]["tenant"].id],
                        acting_tenant_id=world.platform.id, commit=db.commit)
    period, gate, outcomes = of(created, "Asia/Shanghai"), threading.Barrier(6), []

    def run():
        with app.app_context(), tenant_context(county.id):
            gate.wait()
            try:
                outcomes.append(bops.publish(county, None, period).number)
                db.commit()
            except Refused as exc:
                db.rollback()
                outcomes.append(exc.code)
            finally:
                db.remove()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with app.app_context(), tenant_context(county.id):
        numbers = sorted(db.scalars(select(PublishedRanking.number)))
    assert len(outcomes) == 6 and set(outcomes) <= set(numbers) | {"conflict"}
    assert numbers == list(range(1, len(numbers) + 1))  # no number twice, none skipped
