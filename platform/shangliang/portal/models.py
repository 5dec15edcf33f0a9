"""The public side of a street: what 商量 is, raising a topic (点单), following and rating it, 公示."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime


class ThrottleCount(Base):
    """How many requests a throttle counted for one key in one fixed window (portal/limits.py).

    Not tenant-owned: limits span tenants (one address flooding many streets) and are
    checked before anyone is known. Keys hold hashed addresses, never raw ones."""

    __tablename__ = "throttle_counts"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)  # the window's start
    n: Mapped[int] = mapped_column(Integer, default=1)
