"""The public side of a street: what 商量 is, raising a topic (点单), following and rating it, 公示."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, utcnow


class ThrottleHit(Base):
    """One counted attempt towards a throttle (a public submission, a failed receipt look-up).

    Not tenant-owned: limits span tenants (one address flooding many streets) and are
    checked before anyone is known. Keys hold hashed addresses, never raw ones."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
