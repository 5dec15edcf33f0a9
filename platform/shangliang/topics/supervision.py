"""督办: a county (over its streets) or a street's 党工委 (over its communities) supervises a topic
that is overdue or was referred up: a marked note with a new due time, on the timeline, told to
the people who answer for the topic's step."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..accounts.models import Membership
from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..notifications.operations import notify
from ..tenants.models import Tenant
from . import counts
from .deadlines import end_of_day_named
from .log import claimants, clock, events, log_event
from .models import Supervision, Topic
from .page import register_part

EVENT_LABELS = {"supervise": "督办"}
SUPERVISORS = {"county_admin": "county", "platform_admin": "county", "street_admin": "street"}


def level_of(roles: set[str]) -> str | None:
    """The level a person supervises at: the county's (or the platform's) people above the street's."""
    levels = {SUPERVISORS[r] for r in roles if r in SUPERVISORS}
    return "county" if "county" in levels else next(iter(levels), None)


def may_supervise(topic: Topic, roles: set[str]) -> bool:
    return topic.status == "open" and (topic.overdue or topic.escalated) and level_of(roles) is not None


def supervise(tenant: Tenant, topic: Topic, actor_id: int, roles: set[str], data: dict) -> Supervision:
    if not may_supervise(topic, roles):
        raise Refused("只有超时或已提请的议题可以督办", "topic", "conflict")
    note = forms.text(data, "note", limit=2000, required="请写明督办意见：要求谁在什么时间前做到什么")
    now = clock()
    due = end_of_day_named(data.get("due_on"), tenant.timezone, now)
    if due is None:
        raise Refused("请填写新的办理期限", "due_on", "validation_error")
    level = level_of(roles)
    row = Supervision(tenant_id=tenant.id, topic_id=topic.id, level=level, note=note, due_at=due, by=actor_id, at=now)
    db.add(row)
    log_event(topic, "supervise", actor_id, next(r for r in sorted(roles) if r in SUPERVISORS), at=now,
              comment=note, data={"level": level, "due_at": due.isoformat()})
    with counts.watching(topic):  # no longer overdue: the new time limit stands
        topic.due_at, topic.overdue, topic.updated_at = due, False, now
    _tell(tenant, topic, note)
    return row


def _tell(tenant: Tenant, topic: Topic, note: str) -> None:
    """The step's staff and departments, the street's administrators, and the members who took it up."""
    roles = set(topic.step["roles"])
    people = {m.user_id for m in db.scalars(select(Membership).where(
        Membership.role.in_(("street_admin", "staff", "department")))) if m.role in roles or m.role == "street_admin"}
    people |= set(claimants(events(topic)))
    for uid in sorted(people):
        notify(tenant.id, uid, "topic.supervised", f"议题 #{topic.number} 被督办：{topic.title}"[:200], note[:500],
               link=f"/t/{tenant.slug}/topics/{topic.number}")


def due_day(data: dict) -> str:
    """The day a supervision named: its due time is the midnight that ends it where the street is,
    written with the street's offset, so the day is the one before that midnight's."""
    return (datetime.fromisoformat(data["due_at"]) - timedelta(microseconds=1)).date().isoformat()


def topic_supervision(topic, log, roles, user_id) -> dict:
    return {"may_supervise": may_supervise(topic, roles), "supervised_until": due_day,
            "supervisions": list(db.scalars(select(Supervision).where(Supervision.topic_id == topic.id)
                                             .order_by(Supervision.at))) if any(e.action == "supervise" for e in log)
            else []}


register_part("supervision", topic_supervision)
