from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, utcnow

KINDS = ("platform", "county", "street")
STATUSES = ("active", "suspended", "archived")


class Tenant(Base):
    """A county (县/区) or street (街道/镇); one `platform` row holds the operators.

    Not tenant-owned itself: every tenant-owned table points here.
    """

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("kind IN ('platform', 'county', 'street')", name="kind"),
        CheckConstraint("status IN ('active', 'suspended', 'archived')", name="status"),
        CheckConstraint("kind <> 'street' OR parent_id IS NOT NULL", name="street_has_county"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="active")
    households: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    custom_host: Mapped[str | None] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Tenant | None] = relationship(remote_side=[id], lazy="joined", innerjoin=False)

    @property
    def is_street(self) -> bool:
        return self.kind == "street"

    @property
    def is_county(self) -> bool:
        return self.kind == "county"

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
