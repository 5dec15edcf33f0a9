"""Deleting files: the row is marked at once; its objects go by a job after the commit, unless
another attachment still shares them (a deduplicated file points at its twin's objects)."""
from __future__ import annotations

from sqlalchemy import select

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db
from ..core.errors import Refused
from ..core.storage import current_storage, tenant_prefix
from ..tenants.models import Tenant
from .access import may_delete, visible
from .keys import held_keys
from .later import remove_later
from .models import LIVE, Attachment


def delete_attachment(tenant: Tenant, actor_id: int | None, roles, attachment_id) -> Attachment:
    """Mark it deleted; a job removes its objects unless another attachment shares them."""
    att = visible(attachment_id, roles, actor_id)
    if att is None:
        raise Refused("文件不存在", "attachment_id", "not_found")
    if not may_delete(att, roles, actor_id):
        raise Refused("只有上传者或管理员可以删除文件", "attachment_id", "forbidden")
    keys = held_keys(att)
    att.status = "deleted"
    record(tenant.id, actor_id, "file.delete", str(att.id),
           {"name": att.filename, "owner": f"{att.owner_kind}:{att.owner_id}"})
    db.flush()
    remove_later(tenant.id, keys)
    return att


def delete_owner_files(tenant: Tenant, owner_kind: str, owner_id) -> None:
    """The owner itself is deleted (a meeting, with its work items; meetings/operations.py calls
    this): its files are marked deleted with it, and a job removes their objects after the commit
    unless another attachment shares them."""
    keys: set[str] = set()
    for att in db.scalars(select(Attachment).where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id,
                                                   Attachment.status != "deleted")):
        keys |= held_keys(att)
        att.status = "deleted"
    if keys:
        db.flush()
        remove_later(tenant.id, keys)


def referenced(keys) -> set[str]:
    """Those of `keys` that a live attachment still points at."""
    keys = list(keys)
    rows = db.execute(select(Attachment.key, Attachment.thumb_key, Attachment.web_key).where(
        Attachment.status.in_(LIVE),
        Attachment.key.in_(keys) | Attachment.thumb_key.in_(keys) | Attachment.web_key.in_(keys)))
    return {k for row in rows for k in row if k in keys}


def remove_objects(tenant_id: int, keys: list[str]) -> None:
    """The removal job's work."""
    store = current_storage()
    own = {k for k in keys if k.startswith(tenant_prefix(tenant_id))}  # a job touches its own tenant only
    for key in sorted(own - referenced(own)):
        store.delete(key)
