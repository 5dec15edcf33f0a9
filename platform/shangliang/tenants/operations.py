"""Provisioning and reading tenants. A tenant is rows in the shared schema: no DDL, ever."""
from __future__ import annotations

import re
from zoneinfo import available_timezones

from sqlalchemy import func, select

from ..accounts.models import Membership, User
from ..accounts.operations import Refused, add_membership
from ..audit.operations import record
from ..core.db import db
from ..core.tenancy import cross_tenant, tenant_context
from .models import Tenant

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED = {"admin", "api", "static", "storage", "login", "logout", "platform-api", "healthz", "t", "www"}


def validate_tenant_fields(kind: str, slug: str, name: str, parent: Tenant | None, households=None,
                           timezone: str = "Asia/Shanghai") -> None:
    if kind not in ("county", "street", "platform"):
        raise Refused("类型须为区县或街道", "kind")
    if not SLUG_RE.fullmatch(slug or "") or slug in RESERVED:
        raise Refused("标识须为 3–40 位小写字母、数字或横线，以字母开头", "slug")
    if not (name or "").strip() or len(name) > 100:
        raise Refused("请填写 1–100 个字符的名称", "name")
    if kind == "street" and (parent is None or parent.kind != "county"):
        raise Refused("街道必须属于一个区县", "parent")
    if households is not None and (not isinstance(households, int) or households < 0):
        raise Refused("户数须为非负整数", "households")
    if timezone not in available_timezones():
        raise Refused("未知时区", "timezone")
    if db.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Refused("该标识已被使用", "slug", "conflict")


def create_tenant(actor_id: int | None, *, kind: str, slug: str, name: str, parent: Tenant | None = None,
                  households: int | None = None, timezone: str = "Asia/Shanghai",
                  admin: User | None = None) -> Tenant:
    """One transaction: the tenant row, its first administrator and the audit entry.

    The caller commits; if anything fails, nothing of the tenant remains.
    """
    validate_tenant_fields(kind, slug, name, parent, households, timezone)
    tenant = Tenant(kind=kind, slug=slug, name=name.strip(), parent_id=parent.id if parent else None,
                    households=households, timezone=timezone)
    db.add(tenant)
    db.flush()
    with tenant_context(tenant.id, actor_id):
        record(tenant.id, actor_id, "tenant.create", slug, {"kind": kind, "parent": parent.slug if parent else None})
        if admin is not None:
            add_membership(tenant, actor_id, admin, f"{kind}_admin")
    return tenant


def listed_tenants_query(tenant: Tenant):
    """What a county (its streets) or the platform (every county and street) looks after."""
    q = select(Tenant).where(Tenant.kind != "platform")
    if tenant.kind != "platform":
        q = q.where(Tenant.parent_id == tenant.id, Tenant.status != "archived")
    return q.order_by(Tenant.kind, Tenant.parent_id, Tenant.id)


def children(tenant: Tenant, limit: int = 100) -> list[Tenant]:
    return list(db.scalars(listed_tenants_query(tenant).limit(limit)))


def member_counts(acting: Tenant, actor_id: int, tenants: list[Tenant]) -> dict[int, int]:
    """Aggregate figures across tenants, through the audited escape. One query for all."""
    ids = [t.id for t in tenants]
    if not ids:
        return {}
    with cross_tenant(ids, reason=f"member counts for {acting.slug}", actor_id=actor_id,
                      acting_tenant_id=acting.id):
        rows = db.execute(select(Membership.tenant_id, func.count(func.distinct(Membership.user_id)))
                          .group_by(Membership.tenant_id))
        return {t: n for t, n in rows if t in ids}
