from __future__ import annotations

import uuid

from ..core.db import db
from ..core.jobs import periodic, tenant_actor
from .checks import check_upload
from .deletion import remove_objects as remove_unshared
from .reconcile import check_storage as compare_storage


# A few retries: storage may be down for a moment. Then the periodic check gives up on the file.
# The actor names (files.tasks.<function>) are what files/later.py asks for.
@tenant_actor(max_retries=3, time_limit_ms=5 * 60_000)
def check_attachment(tenant_id: int, attachment_id: str) -> None:
    """Check an uploaded file and make it ready, or refuse it (see checks.check_upload)."""
    check_upload(tenant_id, uuid.UUID(attachment_id))


@tenant_actor
def remove_objects(tenant_id: int, keys: list[str]) -> None:
    """Delete objects no live attachment points at any more."""
    remove_unshared(tenant_id, keys)


@periodic
@tenant_actor
def check_storage(tenant_id: int) -> None:
    """Objects without rows and rows without objects, written as a StorageCheck."""
    compare_storage(tenant_id)
    db.flush()
