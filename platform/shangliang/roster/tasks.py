from __future__ import annotations

import uuid

from ..core.db import db
from ..core.jobs import periodic, tenant_actor
from ..tenants.models import Tenant
from . import imports
from .duty import send_reminders


# A bad file fails at once (no retry); a failure of the database or storage is retried twice,
# from the start: the rows already written come out unchanged.
@tenant_actor(max_retries=2, time_limit_ms=30 * 60_000)
def import_roster(tenant_id: int, import_id: str) -> None:
    """Import a stored roster file, reporting progress and refused rows on its RosterImport."""
    imports.run_import(tenant_id, uuid.UUID(import_id))


@periodic
@tenant_actor
def remind_duty(tenant_id: int) -> None:
    """The day before, tell members with a login about tomorrow's shift, once."""
    send_reminders(db.get(Tenant, tenant_id))
