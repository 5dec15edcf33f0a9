"""A county with a story, for the benchmarking pages: told once per module, on a database of the
module's own (support/databases.py).

A test module takes `story`, `clock` and `built` from here, and `config`, `world` and `writes`
from support/databases.py. Tests read the shared story; a test that changes anything asks for
`writes` as well and runs on a copy of the story's database, so that no test sees another's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from factories import EVERYONE, act, login, serial, supply
from factories import county as county_of
from shangliang.benchmarks import operations as bops
from shangliang.benchmarks import rollups
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.topics import operations as ops
from shangliang.topics import log as topic_log  # topics read the time through log.clock()
from support.clock import BEFORE, Clock, stopped_at
from support.databases import Built, build_once

PERIOD = "2026-01"
PLACE, RESIDENT, PHONE = "幸福里3号楼2单元", "王秀英", "13912345678"
SAT = {"level": "satisfied", "solved": True, "valid": True}
VERY = {"level": "very_satisfied", "solved": True, "valid": True}
UNSAT = {"level": "unsatisfied", "solved": False, "valid": True}


def raise_topic(state, title="楼道灯不亮"):
    street, user_id = state["tenant"], state["people"][0][0]
    return ops.create_topic(street, user_id, {"title": title, "channel": "wechat", "category": "市政",
                                              "resident_name": RESIDENT, "resident_phone": PHONE})


def see_through(state, topic, clock, rating):
    """From intake to its close, two hours a step, each step's evidence first."""
    street, user_id = state["tenant"], state["people"][0][0]
    while topic.status == "open":
        clock.now += timedelta(hours=2)
        offered = {a.kind: a for a in ops.available_actions(topic, EVERYONE, user_id)}
        step = offered.get("close") or offered["advance"]
        if "field:place" in step.missing:
            act(street, topic, "record", user_id, data={"place": PLACE})
        supply(street, topic, [m for m in step.missing if m != "field:place"], user_id, rating)
        act(street, topic, step.kind, user_id, to=step.to)


def topics(state, clock, ratings):
    with tenant_context(state["tenant"].id):
        for rating in ratings:
            see_through(state, raise_topic(state), clock, rating)
        db.commit()


def login_for(tenant, role, prefix):
    user = login(tenant, role, f"{prefix}{serial()}", f"{tenant.name}管理员")
    db.commit()
    return user.username


def tell(world, clock) -> dict:
    """Four streets on three procedures. December 2025: A and B score 100 (tied first), D 30.
    January 2026: D scores 100 (↑2); A and B 76.7 each (tied second, ↓1); C has one topic only,
    below the county's minimum of 2: shown, not ranked."""
    county, streets = county_of(4, ["qibu_dingdan", "tiyi_banping", "sanji_liangti_yizhuan", "qibu_dingdan"],
                                changed_at=BEFORE)
    db.commit()
    a, b, c, d = streets
    clock.now = datetime(2025, 12, 20, 1, 0, tzinfo=timezone.utc)
    for s in (a, b):
        topics(s, clock, [SAT, SAT])
    topics(d, clock, [UNSAT, UNSAT])
    clock.now = datetime(2026, 1, 10, 1, 0, tzinfo=timezone.utc)
    for s in (a, b):
        topics(s, clock, [SAT, VERY, UNSAT])
    topics(c, clock, [SAT])
    topics(d, clock, [SAT, VERY])
    with tenant_context(county.id):
        form = {**{f"weight_{k}": str(v) for k, v in bops.DEFAULT_SETTINGS["weights"].items()},
                "min_topics": "2", "min_denominator": "1", "measures": bops.DEFAULT_SETTINGS["measures"],
                **{f"points_{k}": str(v) for k, v in bops.DEFAULT_POINTS.items()}}
        bops.save_settings(county, None, form)
        db.commit()
    clock.now = datetime(2026, 1, 25, 1, 0, tzinfo=timezone.utc)
    rollups.rebuild(clock.now, tenant_ids=[s["tenant"].id for s in streets], acting_tenant_id=world.platform.id, commit=db.commit)
    admin = login_for(county, "county_admin", "bca")
    street_admin = login_for(a["tenant"], "street_admin", "bsa")
    return {"county": county, "streets": [s["tenant"] for s in streets], "admin": admin,
            "street_admin": street_admin, "states": streets}


@pytest.fixture(scope="module")
def built(request, tmp_path_factory) -> Built:
    def build(world):
        clock = Clock(BEFORE)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(topic_log, "utcnow", clock)
            return {"story": tell(world, clock), "now": clock.now}

    return build_once(request, tmp_path_factory, build)


@pytest.fixture
def clock(monkeypatch, built) -> Clock:
    """Where the story left the clock, as a test after it would find it."""
    return stopped_at(monkeypatch, built.data["now"])


@pytest.fixture
def story(built, clock) -> dict:
    return built.data["story"]
