"""Who sees and adds which files: finding an attachment and its owner, the permissions on
them, the gallery an owner shows, and the signed links that serve a checked file."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from ..core.db import db
from ..core.errors import Refused
from ..core.permissions import permissions_for
from ..core.storage import StorageError, own_key, own_link
from ..core.tenancy import current_tenant_id
from ..accounts.models import ADMIN_ROLES
from .models import Attachment
from .owners import OWNERS, owner_kind


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def find_owner(kind: str, owner_id):
    """The owner row in the current tenant, or Refused with 404 semantics."""
    model = owner_kind(kind).model
    owner_id = _uuid(owner_id)
    row = db.scalar(select(model).where(model.id == owner_id)) if owner_id is not None else None
    if row is None:
        raise Refused("找不到要上传到的对象", "owner_id", "not_found")
    return row


def may_see(kind: str, roles) -> bool:
    return kind in OWNERS and OWNERS[kind].view in permissions_for(roles)


def _guest(kind: str, owner, user_id) -> bool:
    spec = OWNERS.get(kind)
    return spec is not None and spec.guest is not None and owner is not None and spec.guest(owner, user_id)


def may_reach(kind: str, owner, roles, user_id) -> bool:
    """Whether the person may know the owner is there at all (else: 404, as for a stranger)."""
    return may_see(kind, roles) or _guest(kind, owner, user_id)


def may_upload(kind: str, owner, roles, user_id) -> bool:
    perms, spec = permissions_for(roles), OWNERS[kind]
    if _guest(kind, owner, user_id):
        return spec.admits is None or spec.admits(owner, roles, user_id)
    if "files.upload" not in perms:
        return False
    if spec.upload not in perms:
        return spec.held_by is not None and spec.held_by(owner, user_id)
    return spec.admits is None or spec.admits(owner, roles, user_id)


def may_delete(att: Attachment, roles, user_id) -> bool:
    spec = OWNERS.get(att.owner_kind)
    if spec is not None and spec.sealed is not None and (owner := _owner(att)) is not None and spec.sealed(owner):
        return False
    return att.status != "deleted" and ((user_id is not None and att.created_by == user_id)
                                        or bool(set(roles) & ADMIN_ROLES))


def get(attachment_id) -> Attachment | None:
    attachment_id = _uuid(attachment_id)
    if attachment_id is None:
        return None
    return db.scalar(select(Attachment).where(Attachment.id == attachment_id))


def ready_by_key(key: str) -> Attachment | None:
    """A checked attachment stored under `key` (evidence given by its storage key)."""
    return db.scalar(select(Attachment).where(Attachment.key == key, Attachment.status == "ready").limit(1))


def visible(attachment_id, roles, user_id: int | None = None) -> Attachment | None:
    """The attachment if the person may see its owner; None (404) otherwise, as for a stranger."""
    att = get(attachment_id)
    if att is None or att.status == "deleted" or not _own_keys(att):
        return None
    if may_see(att.owner_kind, roles):
        return att
    spec = OWNERS.get(att.owner_kind)
    owner = _owner(att) if spec is not None and spec.guest else None
    return att if _guest(att.owner_kind, owner, user_id) else None


def _own_keys(att: Attachment) -> bool:
    """Whether every object the row names is the current tenant's (else it is served to nobody)."""
    try:
        for key in (att.key, att.thumb_key, att.web_key):
            if key is not None:
                own_key(current_tenant_id(), key)
    except StorageError:  # logged by own_key
        return False
    return True


def _owner(att: Attachment):
    """The file's owner row, from the session's identity map when the page has it already (a
    gallery asks once per file: the transfer it shows is not read again for each)."""
    return db.get(OWNERS[att.owner_kind].model, {"tenant_id": att.tenant_id, "id": att.owner_id})


def attachments_of(kind: str, owner_id, *, limit: int = 200) -> list[Attachment]:
    """An owner's files for its gallery, oldest first: ready ones, ones still being checked, and
    refused ones with their reason (so the uploader learns why)."""
    return list(db.scalars(select(Attachment).where(
        Attachment.owner_kind == kind, Attachment.owner_id == owner_id,
        Attachment.status.in_(("uploading", "checking", "ready", "refused")))
        .order_by(Attachment.created_at, Attachment.id).limit(limit)))


def gallery_items(kind: str, owner_id, roles, user_id) -> list[Attachment]:
    """What this person sees in the owner's gallery: an upload still in progress is its
    uploader's; a refused file (with its reason) is shown to those who may delete it."""
    return [a for a in attachments_of(kind, owner_id)
            if (a.status != "uploading" or a.created_by == user_id)
            and (a.status != "refused" or may_delete(a, roles, user_id))]


def download_name(att: Attachment) -> str:
    """The given name with the extension of what the file really is (a PNG called x.pdf is x.png)."""
    stem, dot, _ext = att.filename.rpartition(".")
    stem = stem if dot and stem else att.filename
    real = att.key.rpartition(".")[2] if "." in att.key.rpartition("/")[2] else ""
    return f"{stem}.{real}" if real else stem


def signed_url(att: Attachment, size: str | None = None, *, expires: int = 300) -> str | None:
    """A signed link to the file (as a download, with a safe name) or to its thumbnail or web-sized
    image (inline). None unless the file passed its check."""
    if att.status != "ready":
        return None
    tenant_id = current_tenant_id()  # a key outside the tenant's prefix is signed for nobody
    if size == "thumb" and att.thumb_key:
        return own_link(tenant_id, att.thumb_key, expires=expires)
    if size == "web" and att.kind == "photo":
        return own_link(tenant_id, att.web_key or att.key, expires=expires)
    if size in ("thumb", "web"):
        return None
    return own_link(tenant_id, att.key, filename=download_name(att), expires=expires)
