from __future__ import annotations

from flask import g, has_request_context, request

from ..core.db import db, own_transaction
from ..core.tenancy import record_escapes_with, tenant_context
from .kinds import register
from .models import AuditLog


def client_ip() -> str | None:
    # ProxyFix (TRUSTED_PROXIES) has already put the real client address here.
    return request.remote_addr if has_request_context() else None


def acting_through(via: str) -> None:
    """What this request acts through besides a person (an API token): every audit row it writes
    says so in `detail.via`, and a token with no owner is known by it alone."""
    g.audit_via = via


def record(tenant_id: int, actor_id: int | None, action: str, target: str | None = None,
           detail: dict | None = None) -> AuditLog:
    """Add an audit row to the current transaction: it commits (or not) with the action."""
    detail = dict(detail or {})
    via = g.get("audit_via") if has_request_context() else None
    if via and "via" not in detail:
        detail["via"] = via
    row = AuditLog(tenant_id=tenant_id, actor_id=actor_id, action=action, target=target,
                   detail=detail, ip=client_ip())
    db.add(row)
    return row


def record_escape(acting_tenant_id, actor_id, reason, tenant_ids, ip=None) -> None:
    """Cross-tenant reads are logged in a transaction of their own, before the read."""
    if acting_tenant_id is None:
        raise ValueError("a cross-tenant read needs an acting tenant to be audited in")
    if has_request_context():
        # A page that reads the same tenants several times (a street's 对标: settings, standing,
        # trend) is one read of them: audited once per request, by its first reason.
        seen = g.setdefault("_audited_reads", {}).setdefault((acting_tenant_id, actor_id), set())
        if set(tenant_ids) <= seen:
            return
        seen.update(tenant_ids)
    with tenant_context(acting_tenant_id), own_transaction() as s:
        s.add(AuditLog(tenant_id=acting_tenant_id, actor_id=actor_id, action="cross_tenant.read",
                       target=reason, detail={"tenants": list(tenant_ids)}, ip=ip or client_ip()))


record_escapes_with(record_escape)
register("cross_tenant.read", "查看其他单位的数据", "Read of other units' data", "read")
