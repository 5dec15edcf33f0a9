from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..accounts.models import Membership
from ..core.db import db, utcnow
from ..core.jobs import periodic, tenant_actor
from ..notifications.operations import notify
from ..tenants.models import Tenant
from . import counts, transfers
from .models import OPEN_TRANSFER_STATES, Topic, Transfer
from .log import claimants, events

BATCH = 500  # per run; the next tick takes the rest


@periodic
@tenant_actor
def mark_overdue(tenant_id: int) -> None:
    """Topics past their step's time limit: mark them and tell the people responsible, once."""
    tenant = db.get(Tenant, tenant_id)
    due = list(db.scalars(select(Topic).where(Topic.status == "open", Topic.overdue.is_(False),
                                              Topic.due_at.is_not(None), Topic.due_at < utcnow())
                          .order_by(Topic.due_at).limit(BATCH)))
    if not due:
        return
    staff = {m.user_id: m.role for m in db.scalars(select(Membership).where(
        Membership.role.in_(("street_admin", "staff", "member", "department"))))}
    with counts.watching(*due):
        for topic in due:
            topic.overdue = True
    for topic in due:
        roles = set(topic.step["roles"])
        # Staff and departments of the step, and the street's administrators, who answer for every step.
        people = {uid for uid, role in staff.items() if (role in roles and role != "member") or role == "street_admin"}
        people |= set(claimants(events(topic)))  # members who took it up
        for uid in sorted(people):
            notify(tenant_id, uid, "topic.overdue", f"议题 #{topic.number} 已超过“{topic.step['name']['zh']}”时限",
                   topic.title, link=f"/t/{tenant.slug}/topics/{topic.number}")


REMIND_BEFORE = timedelta(days=1)


@periodic
@tenant_actor
def remind_transfers(tenant_id: int) -> None:
    """Transfers due within a day, or past due, and not answered: their department's contacts are
    reminded once (12345's rule: a department answers within the limit)."""
    tenant, now = db.get(Tenant, tenant_id), utcnow()
    due = list(db.scalars(select(Transfer).where(Transfer.state.in_(OPEN_TRANSFER_STATES),
                                                 Transfer.reminded_at.is_(None), Transfer.due_at.is_not(None),
                                                 Transfer.due_at < now + REMIND_BEFORE)
                          .order_by(Transfer.due_at).limit(BATCH)))
    topics = {t.id: t for t in db.scalars(select(Topic).where(Topic.id.in_([t.topic_id for t in due])))} if due else {}
    for transfer in due:
        transfers.remind(tenant, topics[transfer.topic_id], transfer, now)
