"""Photos and attachments: a signed upload straight to storage, a background check, and only
then a file that is shown and served.

    request_upload → (browser posts the file to storage) → complete_upload → check job → ready

The web process never holds the file. Keys are made here (`tenants/<id>/files/<random>` for
what the browser uploads; `<attachment id>` for what the check writes, so that a check run twice
writes the same objects); the file name people gave is metadata only.
"""
from __future__ import annotations

import hashlib
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import delete, func, inspect as sa_inspect, select, update

from ..accounts.models import ADMIN_ROLES
from ..core.errors import Refused
from ..audit.operations import record
from ..core.db import db, utcnow
from ..core.jobs import enqueue
from ..core.permissions import permissions_for
from ..core.storage import (KEY_RE, UPLOAD_EXPIRY, StorageError, current_storage, tenant_key, tenant_prefix)
from ..core.tenancy import tenant_models
from ..i18n import _
from ..tenants.models import Tenant
from . import content
from .content import Refusal, human_size
from .models import Attachment, StorageCheck

MAX_FILE = 20 * 1024 * 1024  # a photo or a document
DEFAULT_QUOTA_MB = 2048
LIVE = ("uploading", "checking", "ready")
STALE_UPLOAD = timedelta(seconds=UPLOAD_EXPIRY) + timedelta(minutes=5)
STALE_CHECK = timedelta(hours=2)  # the job retries with backoff for a few minutes, then gives up
KEEP_CHECKS = timedelta(days=7)


# ---------------------------------------------------------------- owners

@dataclass(frozen=True)
class Owner:
    """What attachments may belong to: how to find one, who may see it, who may add to it."""

    model: str  # "module.models:Class"
    view: str  # permission to see the owner, and so its files
    upload: str  # permission to add files to it (besides files.upload)
    # "module.operations:function(row, user_id) -> bool": the person whose own row it is, who may
    # add files to it without `upload` (a work item's owner reports what was done).
    held_by: str | None = None

    def load(self):
        return _named(self.model)


def _named(path: str):
    from importlib import import_module

    module, name = path.split(":")
    return getattr(import_module(f"shangliang.{module}"), name)


# A registry, not branches: another owner kind is one more line.
OWNERS = {
    "topic": Owner("topics.models:Topic", "topics.view", "topics.view"),
    "meeting": Owner("meetings.models:Meeting", "meetings.view", "meetings.manage"),
    "work_item": Owner("meetings.models:WorkItem", "meetings.view", "meetings.manage", "meetings.operations:owns"),
}


def find_owner(owner_kind: str, owner_id):
    """The owner row in the current tenant, or Refused with 404 semantics."""
    if owner_kind not in OWNERS:
        raise Refused("未知的归属类型", "owner_kind", "not_found")
    try:
        owner_id = owner_id if isinstance(owner_id, uuid.UUID) else uuid.UUID(str(owner_id))
    except ValueError:
        raise Refused("找不到要上传到的对象", "owner_id", "not_found") from None
    model = OWNERS[owner_kind].load()
    row = db.scalar(select(model).where(model.id == owner_id))
    if row is None:
        raise Refused("找不到要上传到的对象", "owner_id", "not_found")
    return row


def may_see(owner_kind: str, roles) -> bool:
    return owner_kind in OWNERS and OWNERS[owner_kind].view in permissions_for(roles)


def may_upload(owner_kind: str, owner, roles, user_id) -> bool:
    perms, spec = permissions_for(roles), OWNERS[owner_kind]
    if "files.upload" not in perms:
        return False
    if spec.upload not in perms:
        return spec.held_by is not None and _named(spec.held_by)(owner, user_id)
    if owner_kind == "topic":  # evidence: only someone who may attach at the topic's current step
        from ..topics.operations import available_actions

        return any(a.kind == "attach" for a in available_actions(owner, set(roles), user_id))
    return True


def may_delete(att: Attachment, roles, user_id) -> bool:
    return att.status != "deleted" and ((user_id is not None and att.created_by == user_id)
                                        or bool(set(roles) & ADMIN_ROLES))


# ---------------------------------------------------------------- names, quota

def clean_filename(name: str | None) -> str:
    """A file name as metadata: no folders, no control or direction-changing characters, ≤ 200."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    name = name.strip(" .")
    if not name:
        return "未命名文件"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:199 - len(ext)]}.{ext}" if dot and 0 < len(ext) <= 16 else name[:200]
    return name


def download_name(att: Attachment) -> str:
    """The given name with the extension of what the file really is (a PNG called x.pdf is x.png)."""
    stem, dot, ext = att.filename.rpartition(".")
    stem = stem if dot and stem else att.filename
    real = att.key.rpartition(".")[2] if "." in att.key.rpartition("/")[2] else ""
    return f"{stem}.{real}" if real else stem


def quota(tenant: Tenant) -> int:
    if tenant.storage_quota is not None:
        return tenant.storage_quota
    mb = current_app.config["SHANGLIANG"].storage_quota_mb if has_app_context() else DEFAULT_QUOTA_MB
    return mb * 1024 * 1024


def usage() -> int:
    """Bytes the tenant's files hold, each stored object once (a deduplicated file shares its
    objects), plus what uploads in progress may still add."""
    stored = select(Attachment.key, func.max(Attachment.size).label("size")).where(
        Attachment.status == "ready").group_by(Attachment.key).subquery()
    held = db.scalar(select(func.coalesce(func.sum(stored.c.size), 0)))
    pending = db.scalar(select(func.coalesce(func.sum(Attachment.declared_size), 0)).where(
        (Attachment.status == "checking")
        | ((Attachment.status == "uploading") & (Attachment.created_at > utcnow() - STALE_UPLOAD))))
    return int(held) + int(pending)


# ---------------------------------------------------------------- upload

def request_upload(tenant: Tenant, actor_id: int | None, owner_kind: str, owner_id, filename: str | None,
                   size, content_type: str | None = None, *, roles=None) -> tuple[Attachment, dict]:
    """A row (uploading) and the signed form the browser posts the file to. The form lets storage
    take exactly this key and at most `size` bytes. With `roles`, the person must be allowed to
    add files to the owner. `content_type` is what the browser claims: the check decides."""
    owner = find_owner(owner_kind, owner_id)
    if roles is not None and not may_upload(owner_kind, owner, roles, actor_id):
        raise Refused("您不能向此处上传文件", "owner_id", "forbidden")
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise Refused("请提供文件大小（字节）", "size", "validation_error") from None
    if size <= 0:
        raise Refused("文件是空的", "size", "validation_error")
    if size > MAX_FILE:
        raise Refused(_("单个文件不能超过 {limit}，本文件 {size}", limit=human_size(MAX_FILE), size=human_size(size)),
                      "size", "too_large")
    used, limit = usage(), quota(tenant)
    if used + size > limit:
        raise Refused(_("存储空间已用 {used} / {limit}，本文件 {size}，超出配额", used=human_size(used),
                        limit=human_size(limit), size=human_size(size)), "size", "quota_exceeded")
    row = Attachment(tenant_id=tenant.id, owner_kind=owner_kind, owner_id=owner.id,
                     key=tenant_key(tenant.id, "files"), filename=clean_filename(filename), declared_size=size,
                     status="uploading", created_by=actor_id)
    db.add(row)
    db.flush()
    return row, current_storage().upload_form(row.key, max_bytes=size, expires=UPLOAD_EXPIRY)


def complete_upload(tenant: Tenant, actor_id: int | None, attachment_id) -> Attachment:
    """The browser says the file is in storage: check that it is, and start the check job.
    Asked twice, it starts one job."""
    from . import tasks

    row = get(attachment_id)
    if row is None or (actor_id is not None and row.created_by != actor_id):
        raise Refused("文件不存在", "attachment_id", "not_found")
    if row.status == "deleted":
        raise Refused("文件已删除", "attachment_id", "conflict")
    if row.status != "uploading":
        return row  # already complete: one job is enough
    try:
        there = current_storage().exists(row.key)
    except Exception:  # a storage outage: the user may try again, nothing is recorded
        current_app.logger.exception("storage unavailable while completing upload %s", row.id)
        raise Refused("存储服务暂时不可用，请稍后重试", "file", "storage_unavailable") from None
    if not there:
        raise Refused("存储中还没有收到这个文件，请重新上传", "file", "validation_error")
    claimed = db.execute(update(Attachment).where(Attachment.id == row.id, Attachment.status == "uploading")
                         .values(status="checking").execution_options(synchronize_session=False))
    if claimed.rowcount == 1:  # a parallel call claimed it first: its job will do
        enqueue(tasks.check_attachment, str(row.id), tenant_id=tenant.id)
    db.refresh(row)
    return row


# ---------------------------------------------------------------- reading

def get(attachment_id) -> Attachment | None:
    try:
        attachment_id = attachment_id if isinstance(attachment_id, uuid.UUID) else uuid.UUID(str(attachment_id))
    except ValueError:
        return None
    return db.scalar(select(Attachment).where(Attachment.id == attachment_id))


def visible(attachment_id, roles) -> Attachment | None:
    """The attachment if the person may see its owner; None (404) otherwise, as for a stranger."""
    att = get(attachment_id)
    if att is None or att.status == "deleted" or not may_see(att.owner_kind, roles):
        return None
    return att


def attachments_of(owner_kind: str, owner_id, *, limit: int = 200) -> list[Attachment]:
    """An owner's files for its gallery, oldest first: ready ones, ones still being checked, and
    refused ones with their reason (so the uploader learns why)."""
    return list(db.scalars(select(Attachment).where(
        Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id,
        Attachment.status.in_(("uploading", "checking", "ready", "refused")))
        .order_by(Attachment.created_at, Attachment.id).limit(limit)))


def gallery_items(owner_kind: str, owner_id, roles, user_id) -> list[Attachment]:
    """What this person sees in the owner's gallery: an upload still in progress is its
    uploader's; a refused file (with its reason) is shown to those who may delete it."""
    return [a for a in attachments_of(owner_kind, owner_id)
            if (a.status != "uploading" or a.created_by == user_id)
            and (a.status != "refused" or may_delete(a, roles, user_id))]


def signed_url(att: Attachment, size: str | None = None, *, expires: int = 300) -> str | None:
    """A signed link to the file (as a download, with a safe name) or to its thumbnail or web-sized
    image (inline). None unless the file passed its check."""
    if att.status != "ready":
        return None
    store = current_storage()
    if size == "thumb" and att.thumb_key:
        return store.download_url(att.thumb_key, expires=expires)
    if size == "web" and att.kind == "photo":
        return store.download_url(att.web_key or att.key, expires=expires)
    if size in ("thumb", "web"):
        return None
    return store.download_url(att.key, filename=download_name(att), expires=expires)


# ---------------------------------------------------------------- deleting

def delete_attachment(tenant: Tenant, actor_id: int | None, roles, attachment_id) -> Attachment:
    """Mark it deleted; a job removes its objects unless another attachment shares them."""
    from . import tasks

    att = visible(attachment_id, roles)
    if att is None:
        raise Refused("文件不存在", "attachment_id", "not_found")
    if not may_delete(att, roles, actor_id):
        raise Refused("只有上传者或管理员可以删除文件", "attachment_id", "forbidden")
    keys = sorted({k for k in (att.key, att.thumb_key, att.web_key, *derived_keys(att)) if k})
    att.status = "deleted"
    record(tenant.id, actor_id, "file.delete", str(att.id),
           {"name": att.filename, "owner": f"{att.owner_kind}:{att.owner_id}"})
    db.flush()
    enqueue(tasks.remove_objects, keys, tenant_id=tenant.id)
    return att


def delete_owner_files(tenant: Tenant, owner_kind: str, owner_id) -> None:
    """The owner itself is deleted (a meeting, with its work items; meetings/operations.py calls
    this): its files are marked deleted with it, and a job removes their objects after the commit
    unless another attachment shares them."""
    from . import tasks

    keys: set[str] = set()
    for att in db.scalars(select(Attachment).where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id,
                                                   Attachment.status != "deleted")):
        keys.update(k for k in (att.key, att.thumb_key, att.web_key, *derived_keys(att)) if k)
        att.status = "deleted"
    if keys:
        db.flush()
        enqueue(tasks.remove_objects, sorted(keys), tenant_id=tenant.id)


def referenced(keys) -> set[str]:
    """Those of `keys` that a live attachment still points at."""
    keys = list(keys)
    rows = db.execute(select(Attachment.key, Attachment.thumb_key, Attachment.web_key).where(
        Attachment.status.in_(LIVE),
        Attachment.key.in_(keys) | Attachment.thumb_key.in_(keys) | Attachment.web_key.in_(keys)))
    return {k for row in rows for k in row if k in keys}


def remove_objects(tenant_id: int, keys: list[str]) -> None:
    store = current_storage()
    own = {k for k in keys if k.startswith(tenant_prefix(tenant_id))}  # a job touches its own tenant only
    for key in sorted(own - referenced(own)):
        store.delete(key)


# ---------------------------------------------------------------- the check

SERVED_EXTS = ("jpg", "png", "webp", "pdf", "docx", "xlsx", "pptx")


def file_key(att: Attachment, ext: str) -> str:
    """Where the check writes what is served: fixed by the attachment's id, so a check that runs
    again (after a crash) overwrites its objects instead of leaving a second set behind."""
    return f"{tenant_prefix(att.tenant_id)}files/{att.id.hex}.{ext}"


def thumb_key(att: Attachment) -> str:
    return f"{tenant_prefix(att.tenant_id)}thumbnails/{att.id.hex}.jpg"


def web_key(att: Attachment) -> str:
    return f"{tenant_prefix(att.tenant_id)}photos/{att.id.hex}.jpg"


def derived_keys(att: Attachment) -> list[str]:
    return [file_key(att, ext) for ext in SERVED_EXTS] + [thumb_key(att), web_key(att)]


class StorageTrouble(Exception):
    """Storage failed in a way that may pass (outage, timeout): the job is tried again."""


def check_upload(tenant_id: int, attachment_id: uuid.UUID) -> None:
    """The check job's work: stream the upload to a temporary file, decide what it is, rewrite
    photos, store what is served under keys made from the attachment id, and only then mark it
    ready. Refused files are deleted. Run twice, the second run finds nothing to do."""
    att = get(attachment_id)
    if att is None or att.status != "checking":
        return
    att_id, upload_key = att.id, att.key
    with tempfile.TemporaryFile() as raw:
        try:
            size, digest = _fetch(upload_key, raw)
            if size > min(MAX_FILE, att.declared_size):
                raise Refusal(f"文件大小 {human_size(size)} 超过上传时申报的 {human_size(att.declared_size)} "
                              f"或上限 {human_size(MAX_FILE)}")
            twin = db.scalar(select(Attachment).where(Attachment.sha256 == digest, Attachment.status == "ready",
                                                      Attachment.id != att.id)
                             .order_by(Attachment.created_at, Attachment.id).limit(1))
            if twin is not None:
                result = _share(att, twin)
            else:
                found = content.inspect(raw, size)
                result = _store(att, found, raw, size)
            result.update(sha256=digest, status="ready", error=None)
        except Refusal as exc:
            result = {"status": "refused", "error": exc.message[:300]}
        except StorageTrouble as exc:
            _note(att_id, "存储服务暂时出错，正在重试")
            raise RuntimeError(f"storage trouble while checking {att_id}") from exc.__cause__
    _finish(att, result, upload_key)


def _fetch(key: str, out) -> tuple[int, str]:
    """Copy the object into `out`, at most MAX_FILE + 1 bytes; (size, sha256)."""
    sha, size = hashlib.sha256(), 0
    try:
        src = current_storage().open(key)
    except StorageError:
        raise Refusal("存储中没有找到上传的文件，请重新上传") from None
    except Exception as exc:
        raise StorageTrouble() from exc
    try:
        while chunk := src.read(1024 * 1024):
            sha.update(chunk)
            out.write(chunk)
            size += len(chunk)
            if size > MAX_FILE:
                raise Refusal(f"文件超过上限 {human_size(MAX_FILE)}")
    except Refusal:
        raise
    except Exception as exc:
        raise StorageTrouble() from exc
    finally:
        src.close()
    out.flush()
    return size, sha.hexdigest()


def _put(key: str, fh, content_type: str) -> int:
    fh.seek(0, 2)
    n = fh.tell()
    fh.seek(0)
    try:
        current_storage().put_file(key, fh, content_type)
    except Exception as exc:
        raise StorageTrouble() from exc
    return n


def _store(att: Attachment, found: content.Found, raw, size: int) -> dict:
    key = file_key(att, found.ext)
    if found.kind != "photo":
        _put(key, raw, found.content_type)
        return {"key": key, "kind": "document", "content_type": found.content_type, "size": size,
                "width": None, "height": None, "taken_at": None, "thumb_key": None, "web_key": None}
    with tempfile.TemporaryFile() as main, tempfile.TemporaryFile() as thumb, tempfile.TemporaryFile() as web:
        photo = content.rewrite_photo(raw, found, main, thumb, web)
        stored = _put(key, main, found.content_type) + _put(thumb_key(att), thumb, "image/jpeg")
        if photo.web:
            stored += _put(web_key(att), web, "image/jpeg")
    taken = photo.taken_at
    if taken is not None and taken.tzinfo is None:  # the camera's clock: the street's local time
        tenant = db.get(Tenant, att.tenant_id)
        taken = taken.replace(tzinfo=ZoneInfo(tenant.timezone if tenant else "Asia/Shanghai"))
    # `size` is what the attachment holds in storage, thumbnail and web image included: what the quota counts.
    return {"key": key, "kind": "photo", "content_type": found.content_type, "size": stored,
            "width": photo.width, "height": photo.height, "taken_at": taken, "thumb_key": thumb_key(att),
            "web_key": web_key(att) if photo.web else None}


def _share(att: Attachment, twin: Attachment) -> dict:
    """The same bytes are already stored in this tenant: point at them."""
    return {"key": twin.key, "kind": twin.kind, "content_type": twin.content_type, "size": twin.size,
            "width": twin.width, "height": twin.height, "taken_at": twin.taken_at, "thumb_key": twin.thumb_key,
            "web_key": twin.web_key, "same_as": twin.same_as or twin.id}


def _note(att_id: uuid.UUID, message: str) -> None:
    """Tell the uploader the check is being retried; committed on its own, the job then fails."""
    db.rollback()
    db.execute(update(Attachment).where(Attachment.id == att_id, Attachment.status == "checking")
               .values(error=message).execution_options(synchronize_session=False))
    db.commit()


def _finish(att: Attachment, result: dict, upload_key: str) -> None:
    from . import tasks

    # Deleted while we worked? Then what we wrote goes too, and the row stays deleted.
    db.refresh(att, with_for_update=True)
    if att.status != "checking":
        enqueue(tasks.remove_objects, sorted({upload_key, *derived_keys(att)}), tenant_id=att.tenant_id)
        return
    for name, value in result.items():
        setattr(att, name, value)
    att.checked_at = utcnow()
    # The upload itself is never served (photos are rewritten, documents copied under a key of
    # their type); it goes once this is committed, by a job, so a crash before the commit keeps it.
    leftovers = [upload_key] if result["status"] == "ready" else [upload_key, *derived_keys(att)]
    enqueue(tasks.remove_objects, leftovers, tenant_id=att.tenant_id)


# ---------------------------------------------------------------- the periodic storage check

def known_keys(tenant_id: int) -> set[str]:
    """Every storage key a row of this tenant refers to: any `key` / `*_key` column of any
    tenant-owned table, keys logged in topic events, and what a running check may be writing."""
    from ..topics.models import TopicEvent

    keys: set[str] = set()
    for model in tenant_models():
        if model is Attachment:
            continue
        for attr in sa_inspect(model).column_attrs:
            if attr.key == "key" or attr.key.endswith("_key"):
                col = getattr(model, attr.key)
                keys.update(db.scalars(select(col).where(col.like("tenants/%"))))
    for data in db.scalars(select(TopicEvent.data).where(TopicEvent.action == "attach")):
        if isinstance(data, dict) and data.get("key"):
            keys.add(data["key"])
    for att in db.scalars(select(Attachment).where(Attachment.status.in_(LIVE))):
        keys.update(k for k in (att.key, att.thumb_key, att.web_key) if k)
        if att.status == "checking":
            keys.update(derived_keys(att))
    return {k for k in keys if KEY_RE.fullmatch(k)}


def expected_keys() -> list[tuple[str, str, str]]:
    """(table, row id, key) of rows that say their object exists."""
    from ..branding.models import BrandVersion
    from ..transfer.models import TenantExport

    out = []
    for att in db.scalars(select(Attachment).where(Attachment.status == "ready")):
        out += [("attachments", str(att.id), k) for k in (att.key, att.thumb_key, att.web_key) if k]
    for brand in db.scalars(select(BrandVersion)):
        out += [("brand_versions", str(brand.id), k) for k in (brand.logo_key, brand.banner_key, brand.qr_key) if k]
    for export in db.scalars(select(TenantExport).where(TenantExport.status == "done", TenantExport.key.is_not(None))):
        out.append(("tenant_exports", str(export.id), export.key))
    return out


def check_storage(tenant_id: int) -> StorageCheck:
    """Compare the tenant's objects with its rows; give up on uploads nobody finished."""
    _expire_stale(tenant_id)
    listed = set(current_storage().list_keys(tenant_prefix(tenant_id)))
    known = known_keys(tenant_id)
    orphans = sorted(k for k in listed if k not in known)
    missing = [{"table": t, "id": i, "key": k} for t, i, k in expected_keys() if k not in listed]
    row = StorageCheck(tenant_id=tenant_id, objects=len(listed), orphans=orphans[:500], missing=missing[:500])
    db.add(row)
    db.execute(delete(StorageCheck).where(StorageCheck.at < utcnow() - KEEP_CHECKS))
    return row


def _expire_stale(tenant_id: int) -> None:
    from . import tasks

    now = utcnow()
    stale = db.scalars(select(Attachment).where(
        ((Attachment.status == "uploading") & (Attachment.created_at < now - STALE_UPLOAD))
        | ((Attachment.status == "checking") & (Attachment.created_at < now - STALE_CHECK))))
    for att in stale:
        att.error = "上传未完成，请重新上传" if att.status == "uploading" else "检查未能完成，请重新上传"
        att.status, att.checked_at = "refused", now
        enqueue(tasks.remove_objects, sorted({att.key, *derived_keys(att)}), tenant_id=tenant_id)


def latest_check() -> StorageCheck | None:
    return db.scalar(select(StorageCheck).order_by(StorageCheck.at.desc()).limit(1))
