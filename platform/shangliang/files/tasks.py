from __future__ import annotations

import uuid

from ..core.db import db
from ..core.jobs import periodic, tenant_actor
from . import operations as ops


# A few retries: storage may be down for a moment. Then the periodic check gives up on the file.
@tenant_actor(max_retries=3, time_limit_ms=5 * 60_000)
def check_attachment(tenant_id: int, attachment_id: str) -> None:
    """Check an uploaded file and make it ready, or refuse it (see operations.check_upload)."""
    ops.check_upload(tenant_id, uuid.UUID(attachment_id))


@tenant_actor
def remove_objects(tenant_id: int, keys: list[str]) -> None:
    """Delete objects no live attachment points at any more."""
    ops.remove_objects(tenant_id, keys)


@periodic
@tenant_actor
def check_storage(tenant_id: int) -> None:
    """Objects without rows and rows without objects, written as a StorageCheck."""
    ops.check_storage(tenant_id)
    db.flush()
