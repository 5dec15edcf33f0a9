"""The periodic storage check: the tenant's objects against its rows (objects no row refers to,
rows whose object is gone), and uploads nobody finished given up on.

Rows of other modules that say "my object exists" are registered here by those modules
(`expect_objects`), since files sits below branding and transfer and does not import them."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, inspect as sa_inspect, select

from ..core.db import db, utcnow
from ..core.storage import KEY_RE, StorageUnavailable, current_storage, tenant_prefix
from ..core.tenancy import tenant_models
from ..topics.models import TopicEvent
from .keys import derived_keys
from .later import remove_later
from .models import LIVE, Attachment, StorageCheck
from .uploads import STALE_UPLOAD

log = logging.getLogger(__name__)
STALE_CHECK = timedelta(hours=2)  # the job retries with backoff for a few minutes, then gives up
KEEP_CHECKS = timedelta(days=7)


@dataclass(frozen=True)
class Expected:
    """Rows of `model` (those matching `where`, if given) whose `columns` name an object that must exist."""

    model: type
    columns: tuple[str, ...]
    where: object = None


EXPECTED: list[Expected] = []


def expect_objects(model: type, *columns: str, where=None) -> None:
    """Called at import by the module that owns `model`: the storage check reports its rows whose
    object is missing."""
    EXPECTED.append(Expected(model, columns, where))


expect_objects(Attachment, "key", "thumb_key", "web_key", where=Attachment.status == "ready")


def known_keys(tenant_id: int) -> set[str]:
    """Every storage key a row of this tenant refers to: any `key` / `*_key` column of any
    tenant-owned table, keys logged in topic events, and what a running check may be writing."""
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
    out = []
    for spec in EXPECTED:
        query = select(spec.model) if spec.where is None else select(spec.model).where(spec.where)
        for row in db.scalars(query):
            out += [(spec.model.__tablename__, str(row.id), k) for k in (getattr(row, c) for c in spec.columns) if k]
    return out


def check_storage(tenant_id: int) -> StorageCheck | None:
    """Compare the tenant's objects with its rows; give up on uploads nobody finished, even while
    storage is away (None then: nothing compared, the latest report stays)."""
    _expire_stale(tenant_id)
    try:
        listed = set(current_storage().list_keys(tenant_prefix(tenant_id)))
    except StorageUnavailable:
        log.warning("storage check of tenant %s: storage unavailable, only stale uploads given up", tenant_id)
        return None
    known = known_keys(tenant_id)
    orphans = sorted(k for k in listed if k not in known)
    missing = [{"table": t, "id": i, "key": k} for t, i, k in expected_keys() if k not in listed]
    row = StorageCheck(tenant_id=tenant_id, objects=len(listed), orphans=orphans[:500], missing=missing[:500])
    db.add(row)
    db.execute(delete(StorageCheck).where(StorageCheck.at < utcnow() - KEEP_CHECKS))
    return row


def _expire_stale(tenant_id: int) -> None:
    now = utcnow()
    stale = db.scalars(select(Attachment).where(
        ((Attachment.status == "uploading") & (Attachment.created_at < now - STALE_UPLOAD))
        | ((Attachment.status == "checking") & (Attachment.created_at < now - STALE_CHECK))))
    for att in stale:
        att.error = "上传未完成，请重新上传" if att.status == "uploading" else "检查未能完成，请重新上传"
        att.status, att.checked_at = "refused", now
        remove_later(tenant_id, {att.key, *derived_keys(att)})


def latest_check() -> StorageCheck | None:
    return db.scalar(select(StorageCheck).order_by(StorageCheck.at.desc()).limit(1))
