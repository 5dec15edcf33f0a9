from __future__ import annotations

from ..core.db import db, utcnow
from ..core.jobs import enqueue, periodic, tenant_actor
from ..tenants.models import Tenant
from . import rollups
from .periods import parse


@periodic
@tenant_actor
def refresh_rollups(tenant_id: int) -> None:
    """Bring the street's rollups up to date, then its county's rows of the same periods."""
    tenant = db.get(Tenant, tenant_id)
    changed = rollups.refresh(tenant, utcnow())
    if changed and tenant.parent_id is not None:
        enqueue(refresh_county, [p.key for p in changed], tenant_id=tenant.parent_id)


@tenant_actor
def refresh_county(tenant_id: int, period_keys: list[str]) -> None:
    rollups.derive_county(db.get(Tenant, tenant_id), [parse(k) for k in period_keys], utcnow())
