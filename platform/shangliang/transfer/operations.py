"""The old import path of the transfer module, kept for `shangliang tenant export` and `tenant
import` (cli.py), which import these names from here; export.py and restore.py hold them now.

`import_tenant` is the import command's transaction: it commits, which no operation does, because
the command relies on it. Once cli.py calls restore_tenant and commits itself, this module goes.
"""
from __future__ import annotations

from ..core.db import db
from ..core.storage import current_storage
from ..tenants.models import Tenant
from .export import file_sha256, write_export
from .restore import discard, restore_tenant, summary_lines

__all__ = ["file_sha256", "import_tenant", "summary_lines", "write_export"]


def import_tenant(zip_path, parent_slug: str | None = None, slug: str | None = None,
                  actor_id: int | None = None) -> Tenant:
    """restore_tenant, then commit. One transaction: refused or failed, nothing remains."""
    try:
        tenant = restore_tenant(zip_path, parent_slug, slug, actor_id)
    except BaseException:
        db.rollback()
        raise
    try:
        db.commit()
    except BaseException:
        db.rollback()
        discard(current_storage(), tenant.import_report.keys)
        raise
    return tenant
