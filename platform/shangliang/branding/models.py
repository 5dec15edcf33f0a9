from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.storage import STORAGE_KEY
from ..core.tenancy import TenantOwned


class BrandVersion(TenantOwned, Base):
    """One saved brand of a tenant. Never changed once written: a draft is previewed, then
    published by pointing `Tenant.brand_number` at it; restoring an old one points back."""

    __tablename__ = "brand_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_brand_versions_tenant_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(String(40))  # e.g. 燕山街道政协委员工作室
    brand_name: Mapped[str] = mapped_column(String(20))  # e.g. 有事好商量 / 月月说事
    slogan: Mapped[str] = mapped_column(String(40), default="")  # e.g. 有事莫心急 下楼来商量
    intro: Mapped[str] = mapped_column(Text, default="")  # what 商量 is here, how to raise a topic
    primary_colour: Mapped[str] = mapped_column(String(7))
    accent_colour: Mapped[str] = mapped_column(String(7))
    text_colour: Mapped[str] = mapped_column(String(7))  # on the primary colour
    logo_key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)
    banner_key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)
    qr_key: Mapped[str | None] = mapped_column(String(200), info=STORAGE_KEY)  # the WeChat group's QR image
    # hotlines: [{label, number}], stations: [{name, address, hours}]
    hotlines: Mapped[list] = mapped_column(JSON, default=list)
    mailbox: Mapped[str] = mapped_column(String(200), default="")
    stations: Mapped[list] = mapped_column(JSON, default=list)
    footer: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first published
