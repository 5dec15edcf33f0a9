"""Demo meetings from tenants/demo/meetings.yaml, made through the same operations as the pages.
A street that already has the meeting (by title), or whose roster lacks its people, is left alone."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from ..core.db import db
from ..meetings import operations as ops
from ..meetings.models import Meeting, MeetingParticipant
from ..roster.models import Person, Station
from ..tenants.models import Tenant

MEETINGS_FILE = Path(__file__).resolve().parents[3] / "tenants" / "demo" / "meetings.yaml"


def ensure_demo_meeting(street: Tenant, admin_id: int | None) -> Meeting | None:
    spec = (yaml.safe_load(MEETINGS_FILE.read_text("utf-8")) or {}).get(street.slug)
    if not spec or db.scalar(select(Meeting.id).where(Meeting.title == spec["title"])) is not None:
        return None
    names = spec["conveners"] + spec.get("participants", [])
    people = {p.name: p for p in db.scalars(select(Person).where(Person.name.in_(names)))}
    if set(names) - set(people):
        return None  # the roster is not loaded (yet)
    today = ops.local_today(street)
    hh, mm = (int(x) for x in spec.get("time", "14:30").split(":"))
    starts = datetime.combine(today - timedelta(days=spec.get("days_ago", 7)), time(hh, mm),
                              ZoneInfo(street.timezone))
    station = db.scalar(select(Station).where(Station.name == spec.get("station"))) if spec.get("station") else None
    participants = [{"person_id": people[n].id, "convener": n in spec["conveners"]} for n in names]
    participants += [{"name": n, "group": g} for n, g in spec.get("extras", [])]
    meeting = ops.create_meeting(street, admin_id, {
        "title": spec["title"], "form": spec["form"], "starts_at": starts,
        "station_id": station.id if station else None,
        "place": "" if station else spec.get("place", ""), "agenda": spec.get("agenda", "").strip(),
        "participants": participants})
    absent = set(spec.get("absent", []))
    present = db.scalars(select(MeetingParticipant.id).where(MeetingParticipant.meeting_id == meeting.id,
                                                             MeetingParticipant.name.not_in(absent))).all()
    ops.set_attendance(street, admin_id, meeting, present, expected_version=meeting.version)
    ops.add_minutes(street, admin_id, meeting, spec["minutes"].strip(), base_revision=0, note="会后整理")
    ops.set_status(street, admin_id, meeting, "held", expected_version=meeting.version)
    work = spec.get("work", [])
    owners = {p.name: p for p in db.scalars(select(Person).where(Person.name.in_([w[1] for w in work])))}
    for title, owner, due, status in work:
        person = owners.get(owner)
        item = ops.add_work_item(street, admin_id, meeting, {
            "title": title, "owner_person_id": person.id if person else None, "owner_name": owner,
            "due_on": today + timedelta(days=due)})
        if status != "open":
            ops.update_work_item(street, admin_id, item, status=status)
    return meeting
