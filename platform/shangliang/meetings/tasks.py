from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import Membership
from ..core.db import db
from ..core.jobs import periodic, tenant_actor
from ..notifications.models import Notification
from ..notifications.operations import notify
from ..roster.models import Person
from ..tenants.models import Tenant
from .models import Meeting, WorkItem
from .queries import local_today
from .work import overdue_notification_id

BATCH = 500  # overdue items looked at per run


@periodic
@tenant_actor
def notify_overdue_work(tenant_id: int) -> None:
    """Work items past their due date: tell the owner (if they have a login) and the street's
    administrators, once per item and person."""
    tenant = db.get(Tenant, tenant_id)
    rows = db.execute(select(WorkItem, Meeting.number, Person.user_id)
                      .join(Meeting, Meeting.id == WorkItem.meeting_id)
                      .outerjoin(Person, Person.id == WorkItem.owner_person_id)
                      .where(WorkItem.status != "done", WorkItem.due_on < local_today(tenant),
                             Meeting.status != "cancelled")
                      .order_by(WorkItem.due_on).limit(BATCH)).all()
    if not rows:
        return
    admins = set(db.scalars(select(Membership.user_id).where(Membership.role == "street_admin")))
    wanted = {}
    for item, number, owner_user in rows:
        for uid in admins | ({owner_user} if owner_user else set()):
            wanted[overdue_notification_id(item, uid)] = (item, number, uid)
    told = set(db.scalars(select(Notification.id).where(Notification.id.in_(list(wanted)))))
    for nid, (item, number, uid) in wanted.items():
        if nid in told:
            continue
        note = notify(tenant_id, uid, "work_item.overdue", f"工作清单事项已超期：{item.title}",
                      f"议事会 #{number} · 期限 {item.due_on.isoformat()} · 责任人 {item.owner_name or '—'}",
                      link=f"/t/{tenant.slug}/meetings/{number}#work-{item.id}")
        note.id = nid  # a parallel run makes the same row and loses on the key, then skips it on retry
