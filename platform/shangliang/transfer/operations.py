"""Moving a tenant between installations.

An export is a zip:

    manifest.json        format, app version, the tenant's own fields, per table its row count and
                         columns, per file its size and SHA-256
    data/<table>.json    the tenant's rows of each tenant-owned table: a JSON array with one row per
                         line (so that both ends stream it), UUIDs as strings, times ISO 8601 UTC
    users.json           the people the rows point at: id, username, display name (never a hash)
    files/<path>         every object under the tenant's storage prefix, `<path>` relative to it

It is written to a temporary file table by table and file by file, then uploaded; nothing holds
the whole archive in memory. An import creates a new tenant from it (a new id, the same rows and
files), matching people by username, in one transaction: if anything is refused, nothing stays.
"""
from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import secrets
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from importlib import metadata
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, Table, Uuid, func, insert, select, update
from sqlalchemy.orm import Session

from .. import models  # noqa: F401  (every table in the metadata)
from ..accounts.models import User
from ..accounts.operations import USERNAME_RE
from ..core.errors import Refused
from ..audit.operations import record
from ..core import jobs
from ..core.db import Base, db, utcnow
from ..core.storage import StorageError, check_key, current_storage, tenant_key, tenant_prefix
from ..core.tenancy import tenant_context, tenant_models
from ..tenants.models import Tenant
from ..tenants.operations import validate_tenant_fields
from .models import TenantExport

log = logging.getLogger(__name__)

FORMAT = "shangliang-tenant-export"
FORMAT_VERSION = 1
PROGRESS_EVERY = 500  # rows or files between two progress commits
BATCH = 500  # rows per INSERT on import
CHUNK = 1024 * 1024

# Tenant-owned tables left out of an export, and why. Tables that are not tenant-owned are never
# exported: users (only those referenced, in users.json), tenants (the manifest), sign-in sessions
# and attempts, the job outbox and rate-limit counters belong to the installation, not the tenant.
EXCLUDED = {
    "tenant_exports": "the exports themselves: their zips stay where they were made",
    "job_runs": "idempotency records of this installation's job deliveries",
    "api_tokens": "secrets of integrations; issue new tokens on the new installation",
    "invitations": "one-time sign-up links are live secrets of this installation",
    # Derived from the topics, meetings and rota, which are exported: the new installation's
    # rollup job computes them again on its first run (no state row: every month).
    "benchmark_rollups": "figures derived from the exported rows, recomputed on the new installation",
    "benchmark_state": "when this installation last rolled up; the new one starts afresh",
}
UNUSABLE_PASSWORD = "!imported-"  # not an Argon2 hash: no password matches it until one is set


class ImportRefused(Refused):
    """An import refused: a fixed message (translated) plus what it concerns (a path, a table)."""

    def __init__(self, message: str, detail: str = "", field: str = "file", code: str = "invalid_export"):
        super().__init__(message, field, code)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.message}：{self.detail}" if self.detail else self.message


@dataclass
class ImportReport:
    tenant_id: int
    slug: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    users_matched: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- tables and values

def exported_tables() -> list[Table]:
    """Tenant-owned tables in foreign-key order (parents first), without the excluded ones."""
    owned = {m.__table__.name for m in tenant_models()}
    return [t for t in Base.metadata.sorted_tables if t.name in owned and t.name not in EXCLUDED]


def user_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]


def _encode(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def _decoder(column):
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


def _dumps(value) -> str:
    # No raw line breaks: json escapes them inside strings, so one row stays one line.
    return json.dumps(value, ensure_ascii=False, default=_encode, separators=(",", ":"))


def app_version() -> str:
    try:
        return metadata.version("shangliang")
    except metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- requesting an export

def request_export(tenant: Tenant, actor_id: int | None) -> TenantExport:
    """Queue an export of the tenant; one at a time. The caller commits (which sends the job)."""
    # Two administrators clicking at once queue behind this lock (PostgreSQL; SQLite has one writer).
    db.execute(select(Tenant.id).where(Tenant.id == tenant.id).with_for_update())
    busy = db.scalar(select(TenantExport.id).where(TenantExport.status.in_(("queued", "running"))).limit(1))
    if busy is not None:
        raise Refused("已有导出正在进行", None, "conflict")
    row = TenantExport(tenant_id=tenant.id, status="queued", created_by=actor_id, created_at=utcnow())
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "export.request", str(row.id))
    from .tasks import export_tenant

    jobs.enqueue(export_tenant, str(row.id), tenant_id=tenant.id)
    return row


def exports(limit: int = 20) -> list[TenantExport]:
    return list(db.scalars(select(TenantExport).order_by(TenantExport.created_at.desc()).limit(limit)))


def display_names(user_ids) -> dict[int, str]:
    ids = [i for i in user_ids if i is not None]
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def find_export(export_id: uuid.UUID) -> TenantExport | None:
    return db.scalar(select(TenantExport).where(TenantExport.id == export_id))


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
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1, default=_encode))
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
            out.write(((",\n" if n else "") + _dumps(dict(row))).encode())
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
    row.status, row.done_items, row.error, row.finished_at = "running", 0, None, None
    db.commit()  # the page shows it running from now on
    store = current_storage()
    fd, tmp = tempfile.mkstemp(prefix="shangliang-export-", suffix=".zip")
    os.close(fd)
    key = None
    try:
        manifest = write_export(tenant_id, tmp, progress=lambda done, total: _save_progress(export_id, done, total))
        sha256, size = file_sha256(tmp)
        key = tenant_key(tenant_id, "exports", "zip")
        with open(tmp, "rb") as fh:
            store.put_file(key, fh, "application/zip")
        row = find_export(export_id)
        row.status, row.key, row.size, row.sha256, row.finished_at = "done", key, size, sha256, utcnow()
        row.done_items = row.total_items
        record(tenant_id, row.created_by, "export.done", str(row.id),
               {"size": size, "sha256": sha256, "files": len(manifest["files"]),
                "rows": sum(t["rows"] for t in manifest["tables"].values())})
        db.flush()  # committed by the job runner, with the job's id
    except Exception as exc:
        db.rollback()
        if key is not None:
            store.delete(key)
        db.execute(update(TenantExport).where(TenantExport.id == export_id)
                   .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow()))
        db.commit()
        raise
    finally:
        os.unlink(tmp)


def _save_progress(export_id: uuid.UUID, done: int, total: int) -> None:
    db.execute(update(TenantExport).where(TenantExport.id == export_id).values(done_items=done, total_items=total))
    db.commit()


# ---------------------------------------------------------------- importing

_TOP = {"manifest.json", "users.json"}


def _safe_name(name: str) -> bool:
    """Zip-slip: no absolute paths, no `..`, no backslashes or drive letters, nothing odd."""
    if not name or name.startswith("/") or "\\" in name or ":" in name or "\x00" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def _check_archive(zf: zipfile.ZipFile) -> dict:
    names = zf.namelist()
    for name in names:
        if not _safe_name(name[:-1] if name.endswith("/") else name):
            raise ImportRefused("导出文件含有不安全的路径", name)
    names = [n for n in names if not n.endswith("/")]  # folders, if the zip was made again by hand
    if len(names) != len(set(names)):
        raise ImportRefused("导出文件含有重复的条目")
    if "manifest.json" not in names or "users.json" not in names:
        raise ImportRefused("导出文件缺少清单（manifest.json 或 users.json）")
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (ValueError, zipfile.BadZipFile):
        raise ImportRefused("导出文件的清单无法读取") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or manifest.get("format_version") != FORMAT_VERSION:
        raise ImportRefused("无法识别的导出格式", f"{manifest.get('format') if isinstance(manifest, dict) else '?'} "
                            f"v{manifest.get('format_version') if isinstance(manifest, dict) else '?'}")
    if not isinstance(manifest.get("tenant"), dict) or not isinstance(manifest.get("tables"), dict) \
            or not isinstance(manifest.get("files"), dict):
        raise ImportRefused("导出文件的清单无法读取")
    known = {t.name: t for t in exported_tables()}
    for name, info in manifest["tables"].items():
        if name not in known:
            raise ImportRefused("本安装不认识导出文件中的数据表", name)
        extra = set(info.get("columns", ())) - {c.name for c in known[name].columns}
        if extra:
            raise ImportRefused("导出文件中的数据表含有本安装没有的列，请先升级本安装",
                                f"{name}: {', '.join(sorted(extra))}")
    expected = _TOP | {f"data/{t}.json" for t in manifest.get("tables", {})} | \
        {f"files/{rel}" for rel in manifest.get("files", {})}
    for name in names:
        if name not in expected:
            raise ImportRefused("导出文件含有清单之外的条目", name)
    missing = expected - set(names)
    if missing:
        raise ImportRefused("导出文件不完整，缺少条目", sorted(missing)[0])
    for rel in manifest.get("files", {}):
        try:
            check_key("tenants/0/" + rel)  # what it becomes must be a key this installation makes
        except StorageError:
            raise ImportRefused("导出文件中的文件路径无效", rel) from None
    return manifest


def import_tenant(zip_path, parent_slug: str | None = None, slug: str | None = None,
                  actor_id: int | None = None) -> Tenant:
    """Create a tenant from an export of another installation, and commit.

    One transaction: refused or failed, nothing remains (files written so far are deleted).
    The returned tenant carries `import_report` (an ImportReport)."""
    store = current_storage()
    written: list[str] = []
    try:
        try:
            zf = zipfile.ZipFile(zip_path)
        except (zipfile.BadZipFile, OSError):
            raise ImportRefused("不是有效的导出文件（zip）") from None
        with zf:
            manifest = _check_archive(zf)
            tenant, report = _restore(zf, manifest, parent_slug, slug, actor_id, store, written)
        db.commit()
    except BaseException:
        db.rollback()
        for key in written:
            try:
                store.delete(key)
            except Exception:  # keep cleaning; the error that matters is the one being raised
                log.exception("could not delete %s after a failed import", key)
        raise
    tenant.import_report = report
    return tenant


def _new_tenant(info: dict, parent_slug: str | None, slug: str | None) -> Tenant:
    kind = info.get("kind")
    if kind not in ("county", "street"):
        raise ImportRefused("只能导入区县或街道", str(kind), "kind")
    slug = slug or info.get("slug")
    if db.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ImportRefused("该标识已被使用，请用 --slug 指定新的标识", slug, "slug", "conflict")
    parent = None
    if kind == "street":
        wanted = parent_slug or info.get("parent")
        parent = db.scalar(select(Tenant).where(Tenant.slug == wanted, Tenant.kind == "county"))
        if parent is None:
            raise ImportRefused("上级区县不存在，请先创建它或用 --parent 指定", str(wanted), "parent")
    elif parent_slug:
        raise ImportRefused("区县没有上级单位，不能指定 --parent", parent_slug, "parent")
    validate_tenant_fields(kind, slug, info.get("name", ""), parent, info.get("households"),
                           info.get("timezone") or "Asia/Shanghai")
    tenant = Tenant(kind=kind, slug=slug, name=info["name"].strip(), parent_id=parent.id if parent else None,
                    households=info.get("households"), population=info.get("population"),
                    timezone=info.get("timezone") or "Asia/Shanghai", status=info.get("status") or "active",
                    status_note=info.get("status_note"), brand_number=info.get("brand_number"))
    db.add(tenant)
    db.flush()
    return tenant


def _map_users(zf, report: ImportReport) -> dict[int, int]:
    """Old user id → this installation's, by username; missing people are created without a
    usable password (an administrator sets one before they can sign in)."""
    try:
        people = json.loads(zf.read("users.json"))
    except ValueError:
        raise ImportRefused("导出文件的用户清单无法读取") from None
    mapping = {}
    for person in people:
        username = str(person.get("username", ""))
        if not USERNAME_RE.fullmatch(username):
            raise ImportRefused("导出文件中的用户名无效", username)
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, display_name=str(person.get("display_name") or username)[:100],
                        password_hash=UNUSABLE_PASSWORD + secrets.token_hex(16), created_at=utcnow())
            db.add(user)
            db.flush()
            report.users_created.append(username)
        else:
            report.users_matched.append(username)
        mapping[int(person["id"])] = user.id
    return mapping


class _Rewriter:
    """Storage keys (`tenants/<old>/…`) and tenant links (`/t/<old-slug>/…`) anywhere in a value."""

    def __init__(self, old_prefix: str, new_prefix: str, old_slug: str, new_slug: str):
        self.pairs = [(old_prefix, new_prefix)]
        if old_slug != new_slug:
            self.pairs.append((f"/t/{old_slug}/", f"/t/{new_slug}/"))

    def __call__(self, value):
        if isinstance(value, str):
            for old, new in self.pairs:
                if value.startswith(old):
                    return new + value[len(old):]
            return value
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value


def _rows(zf, name: str):
    """The rows of one data file, one line at a time."""
    with zf.open(f"data/{name}.json") as fh:
        lines = (line.strip() for line in fh)
        if next(lines, b"") != b"[":
            raise ImportRefused("导出文件中的数据无法读取", name)
        for line in lines:
            if line == b"]":
                return
            if not line:  # an empty table is written as "[", "", "]"
                continue
            try:
                row = json.loads(line.rstrip(b","))
            except ValueError:
                raise ImportRefused("导出文件中的数据无法读取", name) from None
            if not isinstance(row, dict):
                raise ImportRefused("导出文件中的数据无法读取", name)
            yield row
    raise ImportRefused("导出文件中的数据不完整", name)


def _restore_table(zf, table: Table, expected: int, columns, tenant_id: int, users: dict[int, int],
                   rewrite) -> int:
    decoders = {c.name: d for c in table.columns if (d := _decoder(c)) is not None}
    ucols = user_columns(table)
    columns = set(columns)
    n, batch = 0, []
    for row in _rows(zf, table.name):
        if set(row) != columns:  # every row has the manifest's columns: one INSERT shape for all
            raise ImportRefused("导出文件中的数据与清单不符", table.name)
        out = {}
        for col, value in row.items():
            if col == "tenant_id":
                value = tenant_id
            elif value is None:
                pass
            elif col in ucols:
                if value not in users:
                    raise ImportRefused("导出文件中的数据指向清单之外的用户", f"{table.name}.{col}")
                value = users[value]
            else:
                value = rewrite(value)
                if col in decoders:
                    try:
                        value = decoders[col](value)
                    except (TypeError, ValueError):
                        raise ImportRefused("导出文件中的数据无法读取", f"{table.name}.{col}") from None
            out[col] = value
        batch.append(out)
        n += 1
        if len(batch) >= BATCH:
            db.execute(insert(table), batch)
            batch = []
    if batch:
        db.execute(insert(table), batch)
    if n != expected:
        raise ImportRefused("导出文件中的行数与清单不符", f"{table.name}: {n} ≠ {expected}")
    return n


def _restore_file(zf, rel: str, meta: dict, new_prefix: str, store, written: list[str]) -> int:
    info = zf.getinfo(f"files/{rel}")
    size = int(meta.get("size", -1))
    if info.file_size != size:
        raise ImportRefused("文件校验和与清单不符", rel)
    key = check_key(new_prefix + rel)
    if store.exists(key):
        raise ImportRefused("目标存储中已有同名文件", key)
    digest, got = hashlib.sha256(), 0
    with zf.open(info) as src, tempfile.TemporaryFile() as tmp:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            got += len(chunk)
            if got > size:  # never trust the header's size: stop at what the manifest promised
                break
            digest.update(chunk)
            tmp.write(chunk)
        if got != size or not secrets.compare_digest(digest.hexdigest(), str(meta.get("sha256", ""))):
            raise ImportRefused("文件校验和与清单不符", rel)
        tmp.seek(0)
        written.append(key)
        store.put_file(key, tmp, mimetypes.guess_type(rel)[0] or "application/octet-stream")
    return size


def _restore(zf, manifest, parent_slug, slug, actor_id, store, written) -> tuple[Tenant, ImportReport]:
    tenant = _new_tenant(manifest.get("tenant", {}), parent_slug, slug)
    report = ImportReport(tenant_id=tenant.id, slug=tenant.slug)
    users = _map_users(zf, report)
    info = manifest["tenant"]
    old_prefix = manifest.get("source_prefix") or tenant_prefix(int(info["id"]))
    new_prefix = tenant_prefix(tenant.id)
    rewrite = _Rewriter(old_prefix, new_prefix, info.get("slug", ""), tenant.slug)
    with tenant_context(tenant.id, actor_id):
        try:
            for table in exported_tables():
                if table.name in manifest["tables"]:
                    meta = manifest["tables"][table.name]
                    report.tables[table.name] = _restore_table(zf, table, int(meta["rows"]), meta["columns"],
                                                               tenant.id, users, rewrite)
            for rel, meta in manifest["files"].items():
                report.bytes += _restore_file(zf, rel, meta, new_prefix, store, written)
                report.files += 1
        except zipfile.BadZipFile as exc:  # a damaged entry (its CRC-32 does not match)
            raise ImportRefused("导出文件已损坏", str(exc)) from None
        record(tenant.id, actor_id, "tenant.import", tenant.slug,
               {"from": info.get("slug"), "exported_at": manifest.get("exported_at"),
                "app_version": manifest.get("app_version"), "tables": report.tables, "files": report.files,
                "users_created": report.users_created})
    return tenant, report


def summary_lines(report: ImportReport) -> list[str]:
    """The import report for the command line."""
    lines = [f"tenant {report.slug} (id {report.tenant_id}) imported"]
    lines += [f"  {name:<20} {n:>8} rows" for name, n in report.tables.items()]
    lines.append(f"  files restored: {report.files} ({report.bytes} bytes, SHA-256 checked)")
    lines.append(f"  users matched by username: {len(report.users_matched)}")
    if report.users_created:
        lines.append(f"  users created: {len(report.users_created)} ({', '.join(report.users_created)}); "
                     "they have no usable password until an administrator sets one")
    return lines

