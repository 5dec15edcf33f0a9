"""Importing a tenant: a new tenant made from the zip of another installation's export (a new id,
the same rows and files), matching people by username. Everything in the zip is checked first
(archive.py says what it must hold); refused or failed, nothing remains: the caller's transaction
rolls the rows back, and the files written so far are deleted here.
"""
from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field

from sqlalchemy import Table, insert, select

from ..accounts.models import User
from ..accounts.operations import USERNAME_RE
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.storage import StorageError, check_key, current_storage, tenant_prefix
from ..core.tenancy import tenant_context
from ..tenants.models import Tenant
from ..tenants.operations import validate_tenant_fields
from ..topics.counts import recount
from .archive import BATCH, CHUNK, FORMAT, FORMAT_VERSION, ImportRefused, decoder, exported_tables, user_columns
from .keys import KeyCheck, source_prefix

log = logging.getLogger(__name__)

UNUSABLE_PASSWORD = "!imported-"  # not an Argon2 hash: no password matches it until one is set


@dataclass
class ImportReport:
    tenant_id: int
    slug: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    users_matched: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the files written to storage


# ---------------------------------------------------------------- checking the archive

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


# ---------------------------------------------------------------- restoring

def restore_tenant(zip_path, parent_slug: str | None = None, slug: str | None = None,
                   actor_id: int | None = None) -> Tenant:
    """Create a tenant from an export of another installation; flushes, the caller commits.

    Refused or failed, the files written so far are deleted and the caller rolls back; if its
    commit fails, it discards `import_report.keys`. The returned tenant carries `import_report`."""
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
    except BaseException:
        discard(store, written)
        raise
    report.keys = written
    tenant.import_report = report
    return tenant


def discard(store, keys) -> None:
    """Delete the files of an import that did not happen."""
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # keep cleaning; the error that matters is the one being raised
            log.exception("could not delete %s after a failed import", key)


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
                   rewrite, keys: KeyCheck) -> int:
    decoders = {c.name: d for c in table.columns if (d := decoder(c)) is not None}
    ucols = user_columns(table)
    columns = set(columns)
    n, batch = 0, []
    for row in _rows(zf, table.name):
        keys(table, n + 1, row)  # before anything of it is written: another tenant's key refuses it all
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
    old_prefix = source_prefix(manifest)
    new_prefix = tenant_prefix(tenant.id)
    keys = KeyCheck(old_prefix)
    rewrite = _Rewriter(old_prefix, new_prefix, info.get("slug", ""), tenant.slug)
    with tenant_context(tenant.id, actor_id):
        try:
            for table in exported_tables():
                if table.name in manifest["tables"]:
                    meta = manifest["tables"][table.name]
                    report.tables[table.name] = _restore_table(zf, table, int(meta["rows"]), meta["columns"],
                                                               tenant.id, users, rewrite, keys)
            recount(tenant.id)  # the board's counts are not exported: they are made from the topics
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
