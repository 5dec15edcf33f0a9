"""What a tenant export holds, for both ends (export.py writes it, restore.py reads it):

    manifest.json        format, app version, the tenant's own fields, per table its row count and
                         columns, per file its size and SHA-256
    data/<table>.json    the tenant's rows of each tenant-owned table: a JSON array with one row per
                         line (so that both ends stream it), UUIDs as strings, times ISO 8601 UTC
    users.json           the people the rows point at: id, username, display name (never a hash)
    files/<path>         every object under the tenant's storage prefix, `<path>` relative to it
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from importlib import metadata

from sqlalchemy import Date, DateTime, Table, Uuid

from .. import models  # noqa: F401  (every table in the metadata)
from ..core.db import Base
from ..core.errors import Refused
from ..core.tenancy import tenant_models

FORMAT = "shangliang-tenant-export"
FORMAT_VERSION = 1
BATCH = 500  # rows per query on export, per INSERT on import
CHUNK = 1024 * 1024

# Tenant-owned tables left out of an export, and why. Tables that are not tenant-owned are never
# exported: users (only those referenced, in users.json), tenants (the manifest), sign-in sessions
# and attempts, the job outbox and rate-limit counters belong to the installation, not the tenant.
EXCLUDED = {
    "tenant_exports": "the exports themselves: their zips stay where they were made",
    "job_runs": "idempotency records of this installation's job deliveries",
    "api_tokens": "secrets of people and systems: they make new tokens on the new installation",
    "invitations": "one-time sign-up links are live secrets of this installation",
    # Secrets sealed with this installation's SECRET_KEY, and the log of what it posted: subscribe
    # the receivers again on the new installation (each gets a new secret).
    "webhook_subscriptions": "secrets of integrations, sealed with this installation's key",
    "webhook_deliveries": "what this installation posted to its subscribers",
    # OAuth clients travel, client_id and all (a confidential one's secret only as its SHA-256, which
    # cannot be turned back into it): the programs keep working after a move. A code lives minutes.
    "oauth_codes": "single-use authorization codes of this installation, minutes long",
    # The county's 12345 account is a secret sealed the same way; its orders name streets by this
    # installation's tenant ids and wait for that account (each street's topic keeps its order's
    # number, and is exported); the signatures seen guard this installation's endpoint only.
    "hotline_accounts": "the 12345 hotline's secret, sealed with this installation's key",
    "hotline_orders": "work orders of this installation's hotline account; their topics keep the numbers",
    "hotline_requests": "signatures this installation has seen, kept minutes against replays",
    # Derived from the topics, meetings and rota, which are exported: the new installation's
    # rollup job computes them again on its first run (no state row: every month).
    "benchmark_rollups": "figures derived from the exported rows, recomputed on the new installation",
    "benchmark_state": "when this installation last rolled up; the new one starts afresh",
    "topic_step_counts": "the board's counts of the exported topics, counted again on import",
}


class ImportRefused(Refused):
    """An import refused: a fixed message (translated) plus what it concerns (a path, a table)."""

    def __init__(self, message: str, detail: str = "", field: str = "file", code: str = "invalid_export"):
        super().__init__(message, field, code)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message}：{self.detail}" if self.detail else self.message


def exported_tables() -> list[Table]:
    """Tenant-owned tables in foreign-key order (parents first), without the excluded ones."""
    owned = {m.__table__.name for m in tenant_models()}
    return [t for t in Base.metadata.sorted_tables if t.name in owned and t.name not in EXCLUDED]


def user_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]


def encode(value):
    """A value as JSON has no type for it: how the export writes it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def decoder(column):
    """How the import reads a column's exported text back (None: as it is)."""
    kind = getattr(column.type, "impl", column.type)
    if isinstance(kind, DateTime):
        def to_datetime(v):
            dt = datetime.fromisoformat(v)
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        return to_datetime
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, Uuid):
        return uuid.UUID
    return None


def dumps(value) -> str:
    """One row as one line of the data file."""
    # No raw line breaks: json escapes them inside strings, so one row stays one line.
    return json.dumps(value, ensure_ascii=False, default=encode, separators=(",", ":"))


def app_version() -> str:
    try:
        return metadata.version("shangliang")
    except metadata.PackageNotFoundError:
        return "unknown"
