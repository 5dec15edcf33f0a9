"""The factories reach what they promise, through the operations: a topic at any step of a built-in
procedure, a county of streets with members, a meeting held with its attendance, a shift kept."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.meetings.models import MeetingParticipant
from shangliang.roster.models import Person
from shangliang.topics import operations as ops


@pytest.mark.parametrize("key", ["small", "qibu_dingdan"])
def test_a_topic_is_moved_to_any_step_with_the_evidence_each_asks_for(app, world, key):
    with app.app_context():
        street = factories.street(f"f-{key}".replace("_", "-"), "工厂街道", parent=world.lixia, procedure_key=key)
        with tenant_context(street.id):
            steps = [s["key"] for s in factories.raise_topic(street).procedure.steps]
        for step in steps[1:]:
            topic = factories.topic_at(street, step)
            assert topic.step_key == step and topic.status == "open"
            with tenant_context(street.id):
                state = ops.replay(ops.events(topic))
            assert (state["step_key"], state["status"]) == (step, "open")
        db.commit()


def test_a_county_of_streets_with_members_a_meeting_held_and_a_shift_kept(app, world):
    with app.app_context():
        county, streets = factories.county(2, ["qibu_dingdan", "tiyi_banping"])
        assert [s["tenant"].parent_id for s in streets] == [county.id, county.id]
        street, (first, second) = streets[0]["tenant"], [p for _u, p in streets[0]["people"]]
        meeting = factories.meeting(street, "楼道灯议事会", "2025-05-20T14:30", conveners=[first],
                                    participants=[second, "物业经理"])
        factories.attend(street, meeting, [first])
        factories.hold(street, meeting)
        shift = factories.shift(street, streets[0]["station"], second, date(2025, 5, 21), "kept")
        db.commit()
        with tenant_context(street.id):
            rows = {p.name: (p.convener, p.attended) for p in db.scalars(select(MeetingParticipant))}
            members = db.scalars(select(Person).where(Person.kind == "member")).all()
        assert meeting.status == "held" and shift.status == "kept"
        assert rows == {"委员0": (True, True), "委员1": (False, False), "物业经理": (False, False)}
        assert sorted(p.name for p in members) == ["委员0", "委员1"] and all(p.user_id for p in members)
