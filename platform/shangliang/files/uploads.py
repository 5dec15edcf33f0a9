"""Starting and completing an upload: a row (uploading) and a signed form the browser posts the
file to, within the size limit and the tenant's quota; then, once storage has it, the check job.

The web process never holds the file. Its key is made here (`tenants/<id>/files/<random>`); the
file name people gave is metadata only."""
from __future__ import annotations

import unicodedata
import uuid
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select, update

from ..core.db import db, utcnow
from ..core.errors import Refused
from ..core.storage import UPLOAD_EXPIRY, current_storage, tenant_key
from ..i18n import _
from ..tenants.models import Tenant
from .access import find_owner, get, may_reach, may_upload
from .later import CHECK, later
from .limits import human_size
from .models import Attachment
from .owners import owner_kind as owner_kind_of

MAX_FILE = 20 * 1024 * 1024  # a photo or a document
DEFAULT_QUOTA_MB = 2048
STALE_UPLOAD = timedelta(seconds=UPLOAD_EXPIRY) + timedelta(minutes=5)


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


def _declared_size(tenant: Tenant, size) -> int:
    """The size the browser declares, within the file limit and what the quota has left."""
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
    return size


def request_upload(tenant: Tenant, actor_id: int | None, owner_kind: str, owner_id, filename: str | None,
                   size, content_type: str | None = None, *, roles=None, as_evidence: bool = False
                   ) -> tuple[Attachment, dict]:
    """A row (uploading) and the signed form the browser posts the file to. The form lets storage
    take exactly this key and at most `size` bytes. With `roles`, the person must be allowed to
    add files to the owner. `content_type` is what the browser claims: the check decides.
    `as_evidence`: the person asks for it to count as evidence of the owner's step once checked,
    where the owner offers that to them (files/owners.py); elsewhere it is only a file."""
    owner = find_owner(owner_kind, owner_id)
    if roles is not None and not may_reach(owner_kind, owner, roles, actor_id):
        raise Refused("找不到要上传到的对象", "owner_id", "not_found")
    if roles is not None and not may_upload(owner_kind, owner, roles, actor_id):
        raise Refused("您不能向此处上传文件", "owner_id", "forbidden")
    size = _declared_size(tenant, size)
    if not current_storage().available():  # a form would point at a dead address, its row left 'uploading'
        raise Refused("存储服务暂时不可用，请稍后重试", "file", "storage_unavailable")
    offers = owner_kind_of(owner_kind).offers_evidence
    as_evidence = bool(as_evidence) and roles is not None and offers is not None and offers(owner, roles, actor_id)[0]
    row = Attachment(tenant_id=tenant.id, owner_kind=owner_kind, owner_id=owner.id,
                     key=tenant_key(tenant.id, "files"), filename=clean_filename(filename), declared_size=size,
                     status="uploading", created_by=actor_id, as_evidence=as_evidence)
    db.add(row)
    db.flush()
    return row, current_storage().upload_form(row.key, max_bytes=size, expires=UPLOAD_EXPIRY)


def complete_upload(tenant: Tenant, actor_id: int | None, attachment_id) -> Attachment:
    """The browser says the file is in storage: check that it is, and start the check job.
    Asked twice, it starts one job."""
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
        later(CHECK, str(row.id), tenant_id=tenant.id)
    db.refresh(row)
    return row


def keep(tenant: Tenant, owner, actor_id: int | None, attachment_id: uuid.UUID, data: bytes, filename: str) -> None:
    """Bytes made in the app (a drawn signature) stored as a topic's file and checked like an
    upload. Storage down: refused, and the act that made them is not recorded either."""
    row = Attachment(id=attachment_id, tenant_id=tenant.id, owner_kind="topic", owner_id=owner.id,
                     key=tenant_key(tenant.id, "files"), filename=clean_filename(filename), declared_size=len(data),
                     status="checking", created_by=actor_id)
    try:
        current_storage().put(row.key, data, "image/png")
    except Exception:
        current_app.logger.exception("storage unavailable while keeping %s", filename)
        raise Refused("存储服务暂时不可用，请稍后重试", "file", "storage_unavailable") from None
    db.add(row)
    db.flush()
    later(CHECK, str(row.id), tenant_id=tenant.id)
