"""Which months of a street's rollups a run must compute again: those whose figures may have
changed since its last run, or all of them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select

from ..core.db import db
from ..meetings.models import Meeting
from ..roster.models import DutyShift, Person
from ..tenants.models import Tenant
from ..topics.models import Topic, TopicEvent
from .models import Rollup
from .periods import Period, month_range, of
from .sql import local_time, month_number


def changed_months(tenant: Tenant, since: datetime, as_of: datetime) -> list[Period] | None:
    """The months whose figures may have changed since `since`; None: all of them (the roster,
    a meeting or a duty shift changed, whose old month is not known)."""
    side = [select(Meeting.id).where(Meeting.updated_at >= since),
            select(DutyShift.id).where(DutyShift.updated_at >= since),
            select(Person.id).where(Person.kind == "member", Person.updated_at >= since)]
    if any(db.scalar(q.limit(1)) is not None for q in side):
        return None
    touched = select(TopicEvent.topic_id).where(TopicEvent.at >= since)
    deadline_passed = or_(and_(Topic.response_due_at >= since, Topic.response_due_at <= as_of),
                          and_(Topic.deadline_at >= since, Topic.deadline_at <= as_of))
    month = month_number(local_time(Topic.created_at, tenant.timezone))
    found = set(db.scalars(select(month).where(or_(Topic.id.in_(touched), deadline_passed)).distinct()))
    # A claim also counts for member participation in the month it happened.
    found |= set(db.scalars(select(month_number(local_time(TopicEvent.at, tenant.timezone))).where(
        TopicEvent.at >= since, TopicEvent.action.in_(("claim", "invite"))).distinct()))
    return sorted({Period(m // 100, "month", m % 100) for m in found})


def all_months(tenant: Tenant, as_of: datetime) -> list[Period]:
    """From the street's first topic, meeting or kept shift (or existing row) to `as_of`'s month."""
    firsts = [db.scalar(select(func.min(Topic.created_at))), db.scalar(select(func.min(Meeting.starts_at))),
              db.scalar(select(func.min(DutyShift.day)))]
    earliest = [of(f, tenant.timezone) for f in firsts if f is not None]
    earliest += [Period(int(k[:4]), "month", int(k[5:])) for k in db.scalars(
        select(Rollup.period).where(Rollup.kind == "month"))]
    if not earliest:
        return []
    last = max(of(as_of, tenant.timezone), *earliest)
    return month_range(min(earliest), last)
