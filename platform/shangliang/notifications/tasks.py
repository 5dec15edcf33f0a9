from __future__ import annotations

from ..core.db import db
from ..core.jobs import tenant_actor
from ..tenants.models import Tenant
from .operations import notify

ROLE_NAMES = {"platform_admin": "平台管理员", "county_admin": "区县管理员", "street_admin": "街道管理员",
              "staff": "工作人员", "member": "政协委员", "department": "职能部门联络人"}


@tenant_actor
def welcome_member(tenant_id: int, user_id: int, role: str) -> None:
    tenant = db.get(Tenant, tenant_id)
    notify(tenant_id, user_id, "membership.welcome", f"您已加入{tenant.name}",
           f"角色：{ROLE_NAMES.get(role, role)}", link=f"/t/{tenant.slug}/manage/")
