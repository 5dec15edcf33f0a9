"""The check job's work on an upload: stream it to a temporary file, decide what it is, rewrite
photos, store what is served under keys made from the attachment id, and only then mark it ready.

    request_upload → (browser posts the file to storage) → complete_upload → this check → ready
"""
from __future__ import annotations

import hashlib
import tempfile
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ..core.db import db, own_transaction, utcnow
from ..core.errors import Refused
from ..core.storage import StorageError, StorageUnavailable, current_storage
from ..tenants.models import Tenant
from . import content, photos
from .access import find_owner, get
from .keys import derived_keys, file_key, thumb_key, web_key
from .later import remove_later
from .limits import Refusal, human_size
from .models import Attachment
from .owners import OWNERS
from .uploads import MAX_FILE


class StorageTrouble(Exception):
    """Storage failed in a way that may pass (outage, timeout): the job is tried again."""


def check_upload(tenant_id: int, attachment_id: uuid.UUID) -> None:
    """Check one upload and make it ready, or refuse it (its objects are then deleted). Run twice,
    the second run finds nothing to do."""
    att = get(attachment_id)
    if att is None or att.status != "checking":
        return
    att_id, upload_key = att.id, att.key
    with tempfile.TemporaryFile() as raw:
        try:
            result = _examine(att, raw)
        except Refusal as exc:
            result = {"status": "refused", "error": exc.message[:300]}
        except StorageTrouble as exc:
            _note(att_id, "存储服务暂时出错，正在重试")
            raise RuntimeError(f"storage trouble while checking {att_id}") from exc.__cause__
    _finish(att, result, upload_key)


def _examine(att: Attachment, raw) -> dict:
    """What the attachment becomes once its bytes are known: a twin's objects, or its own."""
    size, digest = _fetch(att.key, raw)
    if size > min(MAX_FILE, att.declared_size):
        raise Refusal(f"文件大小 {human_size(size)} 超过上传时申报的 {human_size(att.declared_size)} "
                      f"或上限 {human_size(MAX_FILE)}")
    twin = db.scalar(select(Attachment).where(Attachment.sha256 == digest, Attachment.status == "ready",
                                              Attachment.id != att.id)
                     .order_by(Attachment.created_at, Attachment.id).limit(1))
    result = _share(twin) if twin is not None else _store(att, content.inspect(raw, size), raw, size)
    result.update(sha256=digest, status="ready", error=None)
    return result


def _fetch(key: str, out) -> tuple[int, str]:
    """Copy the object into `out`, at most MAX_FILE + 1 bytes; (size, sha256)."""
    sha, size = hashlib.sha256(), 0
    try:
        src = current_storage().open(key)
    except StorageUnavailable as exc:  # away: the job tries again, the file is not missing
        raise StorageTrouble() from exc
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
        photo = photos.rewrite_photo(raw, found, main, thumb, web)
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


def _share(twin: Attachment) -> dict:
    """The same bytes are already stored in this tenant: point at them."""
    return {"key": twin.key, "kind": twin.kind, "content_type": twin.content_type, "size": twin.size,
            "width": twin.width, "height": twin.height, "taken_at": twin.taken_at, "thumb_key": twin.thumb_key,
            "web_key": twin.web_key, "same_as": twin.same_as or twin.id}


def _note(att_id: uuid.UUID, message: str) -> None:
    """Tell the uploader the check is being retried: written in a transaction of its own, since
    the job then fails and rolls back its own."""
    db.rollback()  # the job's transaction is done with: it must not hold the row while the note is written
    with own_transaction() as s:
        s.execute(update(Attachment).where(Attachment.id == att_id, Attachment.status == "checking")
                  .values(error=message).execution_options(synchronize_session=False))


def _finish(att: Attachment, result: dict, upload_key: str) -> None:
    # Deleted while we worked? Then what we wrote goes too, and the row stays deleted.
    db.refresh(att, with_for_update=True)
    if att.status != "checking":
        remove_later(att.tenant_id, {upload_key, *derived_keys(att)})
        return
    for name, value in result.items():
        setattr(att, name, value)
    att.checked_at = utcnow()
    # The upload itself is never served (photos are rewritten, documents copied under a key of
    # their type); it goes once this is committed, by a job, so a crash before the commit keeps it.
    leftovers = [upload_key] if result["status"] == "ready" else [upload_key, *derived_keys(att)]
    remove_later(att.tenant_id, leftovers)
    if result["status"] == "ready" and att.as_evidence:
        _as_evidence(att)


def _as_evidence(att: Attachment) -> None:
    """The owner records the file it was given as evidence (a topic, at its step), with the file."""
    kind = OWNERS.get(att.owner_kind)
    if kind is None or kind.evidence is None:
        return
    try:
        owner = find_owner(att.owner_kind, att.owner_id)
    except Refused:  # the owner is gone: the file stays what it is
        return
    kind.evidence(db.get(Tenant, att.tenant_id), owner, att)
