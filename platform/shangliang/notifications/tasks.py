from __future__ import annotations

from ..accounts.models import ROLE_LABELS
from ..core.db import db
from ..core.jobs import tenant_actor
from ..tenants.models import Tenant
from .operations import notify


@tenant_actor
def welcome_member(tenant_id: int, user_id: int, role: str) -> None:
    tenant = db.get(Tenant, tenant_id)
    notify(tenant_id, user_id, "membership.welcome", f"您已加入{tenant.name}",
           f"角色：{ROLE_LABELS.get(role, role)}", link=f"/t/{tenant.slug}/manage/")
