from __future__ import annotations

import uuid

from ..core.jobs import tenant_actor
from . import export


# An hour at most; a failure is retried twice (the zip is made again from the start).
@tenant_actor(max_retries=2, time_limit_ms=60 * 60_000)
def export_tenant(tenant_id: int, export_id: str) -> None:
    """Write the tenant's export zip, reporting progress on its TenantExport row."""
    export.run_export(tenant_id, uuid.UUID(export_id))
