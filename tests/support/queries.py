"""Reading what jobs did, from the test process (each read in its own short session)."""
from __future__ import annotations

import re

from sqlalchemy import select

from shangliang.core.db import db
from shangliang.core.jobs import JobRun, OutboxMessage
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification

WELCOME = "membership.welcome"


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def unsent(app) -> list[OutboxMessage]:
    return [m for m in outbox(app) if m.sent_at is None]


def notes(app, tenant, *, kind=None, user=None) -> list[Notification]:
    with app.app_context(), tenant_context(tenant.id):
        q = select(Notification)
        if kind:
            q = q.where(Notification.kind == kind)
        if user:
            q = q.where(Notification.user_id == user.id)
        return list(db.scalars(q))


def job_runs(app, tenant, job_id) -> list[JobRun]:
    with app.app_context(), tenant_context(tenant.id):
        return list(db.scalars(select(JobRun).where(JobRun.job_id == job_id)))


def form_token(client, url) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def add_member_by_form(client, password, username="newcomer", tenant="yanshan"):
    """What a street admin does on the members page; the membership enqueues a welcome job."""
    url = f"/t/{tenant}/manage/members"
    return client.post(url, data={"username": username, "display_name": "新来的委员", "password": password,
                                  "role": "member", "csrf_token": form_token(client, url)})
