from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.storage import STORAGE_KEY
from ..core.tenancy import TenantOwned

# uploading: a signed upload was issued; checking: the browser says it is done, the job runs;
# ready: checked and served; refused: failed the checks, object deleted; deleted: removed by a person.
STATUSES = ("uploading", "checking", "ready", "refused", "deleted")
LIVE = ("uploading", "checking", "ready")  # a row in these may still point at its objects


class Attachment(TenantOwned, Base):
    """A photo or document on a topic, a meeting or a work item.

    `key` is made by code (tenants/<id>/files/<uuid>); the file name people gave it is only
    metadata. Until the check job has passed (`ready`) nothing is served."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_owner", "tenant_id", "owner_kind", "owner_id"),
        Index("ix_attachments_sha256", "tenant_id", "sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(String(200), info=STORAGE_KEY)
    filename: Mapped[str] = mapped_column(String(200), default="")
    declared_size: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="uploading")
    kind: Mapped[str | None] = mapped_column(String(16))  # photo | document
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # capture time, kept from EXIF
    thumb_key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)
    web_key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)
    # Another attachment holding the same bytes in this tenant: this one points at its objects.
    same_as: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    error: Mapped[str | None] = mapped_column(String(300))
    # Uploaded as evidence of its owner's current step (a topic's photo): recorded there once ready.
    as_evidence: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StorageCheck(TenantOwned, Base):
    """A periodic comparison of the tenant's objects with its rows: what is in storage without a
    row, and which rows point at a missing object."""

    __tablename__ = "storage_checks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    objects: Mapped[int] = mapped_column(Integer, default=0)
    orphans: Mapped[list] = mapped_column(JSON, default=list)  # keys without a row
    missing: Mapped[list] = mapped_column(JSON, default=list)  # [{table, id, key}] rows without an object
