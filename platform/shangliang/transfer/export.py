"""Exporting a tenant: the request, the job that makes the zip (archive.py says what it holds),
and the page's view of it.

The zip is written to a temporary file (in a scratch directory, core/scratch.py) table by table
and file by file, then uploaded; nothing holds the whole archive in memory. The job writes its
running state and its progress in short transactions of their own (the page polls them while it
runs), and so a failure, which must outlive the job's rollback; each checks that the delivery
still holds the job (core/leases.py), so a second delivery, or one that lost the job, writes
nothing. The finished export commits with the job's id.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
import zipfile
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import jobs, leases, scratch
from ..core.db import db, own_transaction, utcnow
from ..core.errors import Refused
from ..core.storage import StorageError, check_key, current_storage, tenant_key, tenant_prefix
from ..files.reconcile import expect_objects
from ..tenants.models import Tenant
from .archive import BATCH, CHUNK, EXCLUDED, FORMAT, FORMAT_VERSION, app_version, dumps, encode, exported_tables, \
    user_columns
from .models import TenantExport

# the storage check reports a finished export whose zip is gone
expect_objects(TenantExport, "key", where=(TenantExport.status == "done") & TenantExport.key.is_not(None))

log = logging.getLogger(__name__)

PROGRESS_EVERY = 500  # rows or files between two progress commits



# ---------------------------------------------------------------- requesting an export

def request_export(tenant: Tenant, actor_id: int | None) -> TenantExport:
    """Queue an export of the tenant; one at a time. The caller commits (which sends the job)."""
    # Two administrators clicking at once queue behind this lock (PostgreSQL; SQLite has one writer).
    db.execute(select(Tenant.id).where(Tenant.id == tenant.id).with_for_update())
    # 'running' counts only while a worker holds the job: one whose worker died blocks nothing
    # (its job is sent again when its lease runs out, and finishes beside the new one).
    busy = db.scalar(select(TenantExport.id).where(or_(
        TenantExport.status == "queued",
        and_(TenantExport.status == "running", leases.held(TenantExport.job_id)))).limit(1))
    if busy is not None:
        raise Refused("已有导出正在进行", None, "conflict")
    row = TenantExport(tenant_id=tenant.id, status="queued", created_by=actor_id, created_at=utcnow())
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "export.request", str(row.id))
    row.job_id = jobs.enqueue("transfer.tasks.export_tenant", str(row.id), tenant_id=tenant.id)
    return row


def exports(limit: int = 20) -> list[TenantExport]:
    return list(db.scalars(select(TenantExport).order_by(TenantExport.created_at.desc()).limit(limit)))


def display_names(user_ids) -> dict[int, str]:
    ids = [i for i in user_ids if i is not None]
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def find_export(export_id: uuid.UUID) -> TenantExport | None:
    """Read afresh: the job writes the row in transactions of its own."""
    return db.scalar(select(TenantExport).where(TenantExport.id == export_id)
                     .execution_options(populate_existing=True))


def download_name(tenant: Tenant, row: TenantExport) -> str:
    when = (row.finished_at or row.created_at).astimezone(ZoneInfo(tenant.timezone))
    return f"{tenant.slug}-export-{when:%Y%m%d-%H%M}.zip"


# ---------------------------------------------------------------- writing the zip

class _Progress:
    def __init__(self, total: int, callback):
        self.done, self.total, self.callback = 0, total, callback
        self._since = 0
        if callback:
            callback(0, total)

    def step(self, n: int = 1) -> None:
        self.done += n
        self._since += n
        if self.callback and self._since >= PROGRESS_EVERY:
            self._since = 0
            self.callback(min(self.done, self.total), self.total)


def _reader() -> Session:
    """A read-only session for the dump: on PostgreSQL one snapshot for every table."""
    engine = db.get_bind()
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return Session(bind=engine)


def write_export(tenant_id: int, path: str, progress=None) -> dict:
    """Write the tenant's export to the zip at `path`; returns its manifest.

    Run inside the tenant's scope. `progress(done, total)` is called every PROGRESS_EVERY items."""
    store = current_storage()
    tenant = db.get(Tenant, tenant_id)
    prefix = tenant_prefix(tenant_id)
    tables = exported_tables()
    with _reader() as rs:
        counts = {t.name: rs.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)
                                    .execution_options(tenant_filter_by_hand=True))
                  for t in tables}
        files, skipped = [], []
        for key in store.list_keys(prefix):
            if key.startswith(prefix + "exports/"):
                continue  # earlier exports: a zip inside the zip would only double its size
            try:
                files.append(check_key(key))
            except StorageError:  # not made by this platform: it could not be imported anywhere
                log.warning("export of tenant %s skips %s: not a storage key", tenant_id, key)
                skipped.append(key[len(prefix):])
        tracker = _Progress(sum(counts.values()) + len(files), progress)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version(),
            "exported_at": utcnow().isoformat(), "source_prefix": prefix,
            "tenant": {"id": tenant.id, "slug": tenant.slug, "name": tenant.name, "kind": tenant.kind,
                       "parent": tenant.parent.slug if tenant.parent else None, "status": tenant.status,
                       "status_note": tenant.status_note, "households": tenant.households,
                       "population": tenant.population, "timezone": tenant.timezone,
                       "brand_number": tenant.brand_number, "custom_host": tenant.custom_host},
            "tables": {}, "excluded_tables": EXCLUDED, "users": 0, "files": {}, "skipped_files": skipped,
        }
        user_ids: set[int] = set()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for table in tables:
                rows = _write_table(zf, rs, table, tenant_id, user_ids, tracker)
                manifest["tables"][table.name] = {"rows": rows, "columns": [c.name for c in table.columns]}
            for key in files:
                manifest["files"][key[len(prefix):]] = _write_file(zf, store, key, key[len(prefix):])
                tracker.step()
            users = _users(rs, user_ids)
            manifest["users"] = len(users)
            zf.writestr("users.json", json.dumps(users, ensure_ascii=False, indent=1))
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, default=encode))
    if progress:
        progress(tracker.total, tracker.total)
    return manifest


def _write_table(zf, rs, table: Table, tenant_id: int, user_ids: set[int], tracker: _Progress) -> int:
    # A raw table dump, so the ORM's tenant filter does not apply: the filter is written here,
    # and PostgreSQL's row-level security checks it again.
    stmt = (select(table).where(table.c.tenant_id == tenant_id).order_by(*table.primary_key.columns)
            .execution_options(yield_per=BATCH, tenant_filter_by_hand=True))
    ucols = user_columns(table)
    n = 0
    with zf.open(f"data/{table.name}.json", "w", force_zip64=True) as out:
        out.write(b"[\n")
        for row in rs.execute(stmt).mappings():
            user_ids.update(row[c] for c in ucols if row[c] is not None)
            out.write(((",\n" if n else "") + dumps(dict(row))).encode())
            n += 1
            tracker.step()
        out.write(b"\n]\n")
    return n


def _write_file(zf, store, key: str, rel: str) -> dict:
    info = zipfile.ZipInfo(f"files/{rel}", date_time=utcnow().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # photos and documents are compressed already
    digest, size = hashlib.sha256(), 0
    src = store.open(key)
    try:
        with zf.open(info, "w", force_zip64=True) as out:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    finally:
        src.close()
    return {"sha256": digest.hexdigest(), "size": size}


def _users(rs, ids: set[int]) -> list[dict]:
    out, ordered = [], sorted(ids)
    for i in range(0, len(ordered), BATCH):
        rows = rs.execute(select(User.id, User.username, User.display_name)
                          .where(User.id.in_(ordered[i:i + BATCH])).order_by(User.id))
        out += [{"id": r.id, "username": r.username, "display_name": r.display_name} for r in rows]
    return out


def file_sha256(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ---------------------------------------------------------------- the export job's body

def run_export(tenant_id: int, export_id: uuid.UUID) -> None:
    """Make the zip of one requested export. Safe to run twice: a finished export is left alone."""
    row = find_export(export_id)
    if row is None or row.status == "done":
        return
    _mark(export_id, status="running", done_items=0, error=None, finished_at=None)
    store = current_storage()
    try:
        key, size, sha256, manifest = _make_zip(tenant_id, export_id, store)
    except Exception as exc:
        _mark(export_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow())
        raise
    try:
        _finish(tenant_id, export_id, key, size, sha256, manifest)
    except Exception:
        store.delete(key)  # the job rolls the row back to running: its retry makes the zip again
        raise


def _make_zip(tenant_id: int, export_id: uuid.UUID, store) -> tuple[str, int, str, dict]:
    """Write the zip to a scratch file and store it; a failure leaves no zip behind."""
    key = None
    with scratch.directory("export-") as directory:
        tmp = os.path.join(directory, "export.zip")
        try:
            manifest = write_export(tenant_id, tmp,
                                    progress=lambda done, total: _save_progress(export_id, done, total))
            sha256, size = file_sha256(tmp)
            key = tenant_key(tenant_id, "exports", "zip")
            with open(tmp, "rb") as fh:
                store.put_file(key, fh, "application/zip")
        except Exception:
            if key is not None:
                store.delete(key)
            raise
    return key, size, sha256, manifest


def _finish(tenant_id: int, export_id: uuid.UUID, key: str, size: int, sha256: str, manifest: dict) -> None:
    leases.hold(db)  # still this delivery's job: else its zip goes, and the row stays the other's
    row = find_export(export_id)
    row.status, row.key, row.size, row.sha256, row.finished_at = "done", key, size, sha256, utcnow()
    row.done_items = row.total_items
    record(tenant_id, row.created_by, "export.done", str(row.id),
           {"size": size, "sha256": sha256, "files": len(manifest["files"]),
            "rows": sum(t["rows"] for t in manifest["tables"].values())})
    db.flush()  # committed by the job runner, with the job's id


def _save_progress(export_id: uuid.UUID, done: int, total: int) -> None:
    _mark(export_id, done_items=done, total_items=total)


def _mark(export_id: uuid.UUID, **values) -> None:
    """Write the export's row in a transaction of its own: the page sees it while the job runs.
    Only while this delivery holds the job (LeaseLost if not)."""
    with own_transaction() as s:
        leases.hold(s)
        s.execute(update(TenantExport).where(TenantExport.id == export_id).values(**values))
