"""Reading meetings: a meeting and its participants, the conveners of a page of meetings, the
roster by 4+X group for the pickers, and the street's today."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from ..audit.models import AuditLog
from ..core.db import db, utcnow
from ..roster.models import Person
from ..tenants.models import Tenant
from .checks import KIND_GROUP, as_uuid
from .models import GROUPS, Meeting, MeetingParticipant, MeetingTopic


def get_meeting(number: int) -> Meeting | None:
    return db.scalar(select(Meeting).where(Meeting.number == number))


def participants(meeting: Meeting) -> list[MeetingParticipant]:
    order = {g: i for i, g in enumerate(GROUPS)}
    rows = db.scalars(select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
                      .order_by(MeetingParticipant.name)).all()
    return sorted(rows, key=lambda p: (not p.convener, order.get(p.group, 99)))


def conveners_of(meeting_ids) -> dict[uuid.UUID, list[str]]:
    """Convener names for a page of meetings, in one query."""
    out: dict[uuid.UUID, list[str]] = {}
    if meeting_ids:
        for mid, name in db.execute(select(MeetingParticipant.meeting_id, MeetingParticipant.name)
                                    .where(MeetingParticipant.meeting_id.in_(list(meeting_ids)),
                                           MeetingParticipant.convener.is_(True))
                                    .order_by(MeetingParticipant.name)):
            out.setdefault(mid, []).append(name)
    return out


def planned_dates(tenant: Tenant, topic_ids) -> dict[uuid.UUID, datetime]:
    """topic id → when the soonest meeting still to be held that consults it starts, from today on
    (in the street's time zone), for a page of topics in one statement; a topic without one is left
    out (议题公示 says 会期待定)."""
    ids = list(topic_ids)
    if not ids:
        return {}
    zone = ZoneInfo(tenant.timezone)
    today = datetime.combine(utcnow().astimezone(zone).date(), time(0), zone)
    return dict(db.execute(
        select(MeetingTopic.topic_id, func.min(Meeting.starts_at))
        .join(Meeting, and_(Meeting.tenant_id == MeetingTopic.tenant_id, Meeting.id == MeetingTopic.meeting_id))
        .where(MeetingTopic.topic_id.in_(ids), Meeting.status == "planned", Meeting.starts_at >= today)
        .group_by(MeetingTopic.topic_id)).all())


def roster_by_group(keep=(), limit: int = 1000) -> dict[str, list[Person]]:
    """Active people of the street for the pickers, by 4+X group, and those in `keep` (ids of people
    already at the meeting) even if no longer active, so that saving the form does not drop them."""
    out: dict[str, list[Person]] = {g: [] for g in GROUPS}
    keep = [i for i in (as_uuid(k) for k in keep) if i]
    shown = or_(Person.active.is_(True), Person.id.in_(keep)) if keep else Person.active.is_(True)
    for p in db.scalars(select(Person).where(shown).order_by(Person.kind, Person.name).limit(limit)):
        out[KIND_GROUP.get(p.kind, "stakeholder")].append(p)
    return out


def local_today(tenant: Tenant) -> date:
    return utcnow().astimezone(ZoneInfo(tenant.timezone)).date()


def cancel_reason(meeting: Meeting) -> str:
    """Kept in the audit log with the cancellation (the meeting has no column for it)."""
    detail = db.scalar(select(AuditLog.detail).where(AuditLog.action == "meeting.cancel",
                                                     AuditLog.target == f"meeting:{meeting.number}")
                       .order_by(AuditLog.at.desc()).limit(1))
    return (detail or {}).get("reason", "")
