from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.storage import STORAGE_KEY
from ..core.tenancy import TenantOwned


class TenantExport(TenantOwned, Base):
    """A requested export of the tenant: made by a job, which reports its progress here."""

    __tablename__ = "tenant_exports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    done_items: Mapped[int] = mapped_column(Integer, default=0)
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)  # the zip in the tenant's storage
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the job that makes it: is it really running?

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else int(100 * self.done_items / self.total_items) if self.total_items else 0
