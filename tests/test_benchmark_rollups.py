"""Rollups equal a from-scratch computation. Random histories across several procedures (topics
raised, claimed, worked, consulted, rated, reopened, closed; meetings held; shifts kept, with the
clock moving on so that deadlines pass) are rolled up incrementally at random moments; at the end
every month, quarter and year of every street and county must equal the naive Python figures of
tests/support/naive_benchmarks.py, and the full rebuild must give the same rows again."""
from __future__ import annotations

import itertools
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import factories
from factories import EVERYONE, act, supply
from factories import county as county_of
from shangliang.benchmarks import rollups
from shangliang.benchmarks.models import Rollup
from shangliang.benchmarks.periods import parse
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.meetings.models import Meeting, MeetingParticipant
from shangliang.roster.models import DutyShift
from shangliang.topics import operations as ops
from shangliang.topics import supervision
from support import naive_benchmarks as naive
from support.clock import BEFORE, START, clock  # noqa: F401  (clock: a fixture)

LEVELS = ("very_satisfied", "satisfied", "basic", "unsatisfied")
CHANNEL_MIX = ("wechat", "station_qr", "hotline_12345", "grid_qr")
_serial = itertools.count()


def rating_from(level, solved, valid):
    data = {"level": LEVELS[level], "solved": solved, "valid": valid}
    return data if valid else {**data, "invalid_reason": "与办理事项无关"}


def play(street_state, choice, rating, member):
    """One step of a topic's life: one of the actions offered now, its evidence supplied first."""
    street, topics = street_state["tenant"], street_state["topics"]
    user_id, person = street_state["people"][member]
    open_topics = [t for t in topics if t.status == "open"]
    if not open_topics or choice % 5 == 0:
        channel = CHANNEL_MIX[(choice // 5) % len(CHANNEL_MIX)]  # counted by channel too
        topics.append(ops.create_topic(street, user_id, {"title": "随机议题", "channel": channel}))
        return
    topic = open_topics[choice % len(open_topics)]
    offered = [a for a in ops.available_actions(topic, EVERYONE, user_id)
               if a.kind in ("claim", "invite", "advance", "reopen", "transfer", "close_out_of_scope", "close",
                             "escalate", "rate")]
    if not offered:
        return
    if (topic.escalated or topic.overdue) and choice % 7 == 0:  # 督办, from above the street
        supervision.supervise(street, topic, user_id, {"county_admin"}, {"note": "限期办理", "due_on": "2030-01-31"})
        return
    a = offered[(choice // 5) % len(offered)]
    if a.kind == "close_out_of_scope" and choice % 3:  # rarer than going on
        a = next((x for x in offered if x.kind == "advance"), a)
    if a.kind in ("advance", "close"):
        supply(street, topic, a.missing, user_id, rating)
    parties = [p["key"] for p in (topic.step.get("evaluation") or {}).get("parties", [])]
    if parties:  # a procedure with several evaluating parties: each may speak, the deciding one or not
        dims = (topic.step.get("evaluation") or {}).get("dimensions", [])
        rating = factories.evaluated(topic, rating) | {"party": parties[choice % len(parties)]} | {
            f"score_{d['key']}": 1 + (choice + i) % 5 for i, d in enumerate(dims)}
    data = {"invite": {"user_id": street_state["people"][1 - member][0]}, "rate": rating,
            "close_out_of_scope": {"reason": "不属于受理范围"}, "escalate": {"reason": "需要街道协调"}}.get(a.kind, {})
    if a.kind == "transfer":
        data = factories.transfer_to(street, "城管")
    if a.kind == "invite" and data["user_id"] in ops.claimants(ops.events(topic)):
        return
    act(street, topic, a.kind, user_id, data=data, to=a.to)


def side_activity(street_state, which, clock, member):
    street = street_state["tenant"]
    person = street_state["people"][member][1]
    if which == 0:  # a meeting held, the member attending
        meeting = Meeting(tenant_id=street.id, number=next(_serial), title="议事会", form="on_site",
                          starts_at=clock.now, status="held", updated_at=clock.now)
        db.add(meeting)
        db.flush()
        db.add(MeetingParticipant(tenant_id=street.id, meeting_id=meeting.id, person_id=person.id, name="委员",
                                  group="member", convener=member == 1, attended=member == 0))
    else:  # a shift kept that day
        local = clock.now.astimezone(ZoneInfo(street.timezone)).date()
        if db.scalar(select(DutyShift.id).where(DutyShift.person_id == person.id, DutyShift.day == local)) is None:
            db.add(DutyShift(tenant_id=street.id, station_id=street_state["station"].id, day=local,
                             person_id=person.id, status="kept", updated_at=clock.now))


def refresh_all(county, streets, at):
    changed = set()
    for s in streets:
        with tenant_context(s["tenant"].id):
            changed |= set(rollups.refresh(s["tenant"], at))
            db.commit()
    with tenant_context(county.id):
        rollups.derive_county(county, sorted(changed), at)
        db.commit()


def stored(tenant_id) -> dict:
    with tenant_context(tenant_id):
        return {r.period: rollups.figures(r) for r in db.scalars(select(Rollup))}


def assert_same(got: dict, want: dict, where: str):
    assert set(got) == set(want), f"{where}: periods {sorted(got)} != {sorted(want)}"
    for key in want:
        g, w = got[key], want[key]
        for c in (*naive.COUNTED, *naive.SUMMED, "meetings_held", "members_active", "members_total"):
            assert g[c] == w[c], f"{where} {key} {c}: rollup {g[c]} != naive {w[c]}"
        assert g["excluded"] == w["excluded"], f"{where} {key} exclusions"
        assert g["channels"] == w["channels"], f"{where} {key} channels"
        for which in ("response", "close"):
            assert g["durations"][which] == pytest.approx(w[which], abs=2e-3), f"{where} {key} {which} hours"
        for name in rollups.PERCENTILES:
            assert (g[name] is None) == (w[name] is None), f"{where} {key} {name}"
            if w[name] is not None:
                assert g[name] == pytest.approx(w[name], abs=2e-3), f"{where} {key} {name}"


step = st.tuples(st.integers(0, 2),           # what: 0-1 a topic step, 2 a meeting or a shift
                 st.integers(0, 1), st.integers(0, 999), st.integers(0, 1),  # street, choice, member
                 st.integers(0, 3), st.booleans(), st.integers(0, 5),        # rating: level, solved, valid (0 = not)
                 st.floats(0, 120),                                          # hours until the next step
                 st.integers(0, 7))                                          # 0: roll up now


# ROLLUP_EXAMPLES=200 for a longer hunt; the suite's 12 keep CI short.
@settings(max_examples=int(os.environ.get("ROLLUP_EXAMPLES", 12)), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(script=st.lists(step, min_size=10, max_size=60))
def test_incremental_rollups_equal_a_naive_computation(app, world, clock, script):
    with app.app_context():
        db.rollback()  # an earlier example that failed must not leave its transaction open
        clock.now = START
        county, streets = county_of(changed_at=BEFORE)
        db.commit()
        for what, s, choice, member, level, solved, valid, hours, roll in script:
            state = streets[s]
            with tenant_context(state["tenant"].id):
                if what < 2:
                    play(state, choice, rating_from(level, solved, valid != 0), member)
                else:
                    side_activity(state, choice % 2, clock, member)
                db.commit()
            clock.now += timedelta(hours=hours)
            if roll == 0:
                refresh_all(county, streets, clock.now)
        clock.now += timedelta(hours=1)
        refresh_all(county, streets, clock.now)

        want = {}
        for s in streets:
            with tenant_context(s["tenant"].id):
                want[s["tenant"].id] = naive.street_figures(s["tenant"], clock.now)
            assert_same(stored(s["tenant"].id), want[s["tenant"].id], s["tenant"].slug)
        assert_same(stored(county.id), naive.county_figures(want), county.slug)

        before = {t: stored(t) for t in [county.id, *want]}
        rollups.rebuild(clock.now, tenant_ids=list(want), acting_tenant_id=world.platform.id, commit=db.commit)
        for tenant_id, rows in before.items():
            assert stored(tenant_id) == rows, "the full rebuild differs from the incremental rollups"


def test_a_new_transition_rewrites_only_its_month_and_what_holds_it(app, world, clock):
    with app.app_context():
        county, streets = county_of(1, ["qibu_dingdan"], changed_at=BEFORE)  # members act at its first step
        db.commit()
        street, (user_id, _p) = streets[0]["tenant"], streets[0]["people"][0]
        with tenant_context(street.id):
            old = ops.create_topic(street, user_id, {"title": "一月的议题", "channel": "wechat"})
            db.commit()
        clock.now = START + timedelta(days=60)  # February
        with tenant_context(street.id):
            ops.create_topic(street, user_id, {"title": "二月的议题", "channel": "wechat"})
            db.commit()
        clock.now += rollups.LAG + timedelta(minutes=1)
        refresh_all(county, streets, clock.now)
        clock.now += timedelta(minutes=30)
        with tenant_context(street.id):
            assert rollups.refresh(street, clock.now) == []  # nothing changed, nothing rewritten
            db.commit()
        clock.now += timedelta(hours=1)
        with tenant_context(street.id):
            act(street, old, "comment", user_id)
            db.commit()
            changed = rollups.refresh(street, clock.now)
            db.commit()
        assert [p.key for p in changed] == ["2025-12", "2025-Q4", "2025"]  # the month the topic came in
        clock.now += rollups.LAG + timedelta(minutes=1)
        with tenant_context(street.id):
            act(street, old, "claim", user_id)
            db.commit()
            changed = rollups.refresh(street, clock.now)
        # …and a claim also counts for member participation in the month it was made
        assert sorted(p.key for p in changed) == ["2025", "2025-12", "2025-Q4", "2026", "2026-02", "2026-Q1"]


def test_periods_parse_and_refuse_with_the_field_named():
    from shangliang.core.errors import Refused

    assert parse("2026-11").label == "2026年11月" and parse("2026-Q4").months()[0].key == "2026-10"
    assert parse("2026").previous().key == "2025" and parse("2026-01").previous().key == "2025-12"
    for bad in ("", "2026-13", "26-01", "2026-Q5", "abc"):
        with pytest.raises(Refused) as err:
            parse(bad)
        assert err.value.field == "period"
