from __future__ import annotations

from datetime import datetime

import uuid

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned

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
    population: Mapped[int | None] = mapped_column(Integer)
    # Shown on the closed portal of a suspended street, and to its staff.
    status_note: Mapped[str | None] = mapped_column(String(200))
    # The published brand version (BrandVersion.number); None: the platform's look.
    brand_number: Mapped[int | None] = mapped_column(Integer)
    # Bytes of files the tenant may keep; None: the installation's default (STORAGE_QUOTA_MB).
    storage_quota: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    custom_host: Mapped[str | None] = mapped_column(String(253), unique=True)
    # The street's topic categories (议题类别), chosen from at intake; None: any category is taken.
    categories: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
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


class Community(TenantOwned, Base):
    """A community (社区) or village of a street, with its grids (网格): where topics come from."""

    __tablename__ = "communities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    grids: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Invitation(TenantOwned, Base):
    """A one-time link that makes its holder an administrator (or another role) of the tenant.

    Only the SHA-256 of the token is kept; the link is shown once, to the person who made it."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(100), default="")  # whom it is for, e.g. a name
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= utcnow() else "open"
