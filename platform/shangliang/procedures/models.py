from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned


class ProcedureVersion(TenantOwned, Base):
    """One published version of a tenant's procedure. Never changed once written:
    topics keep the version they started on, new topics take the newest."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_procedure_versions_tenant_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    template_key: Mapped[str] = mapped_column(String(40))  # the built-in it descends from
    name: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict] = mapped_column(JSON)
    # the YAML as published, for editing the next version: read only by the editor (deferred)
    source_text: Mapped[str] = mapped_column(Text, deferred=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    publisher = relationship("User", lazy="joined")

    @property
    def steps(self) -> list[dict]:
        return self.definition["steps"]
