"""What a county keeps of its 12345 hotline: one account (the hotline platform as a system that acts
here), the orders it sent, and the signatures it has used (a replayed request is refused)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ...core.db import Base, UTCDateTime, new_id, utcnow
from ...core.tenancy import TenantOwned

CHANNEL = "hotline_12345"  # the intake channel of every topic an order becomes
ROLE = "hotline"  # how the topic's log and the audit log name what the hotline did


class HotlineAccount(TenantOwned, Base):
    """A county's 12345 platform as a service account: its name, the secret both sides sign with
    (sealed like a webhook's: signing.py; shown once), where status goes back to, and whether it
    may post at all. One per county: the orders of one hotline are numbered in one series."""

    __tablename__ = "hotline_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_hotline_accounts_tenant"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    secret_sealed: Mapped[str] = mapped_column(String(200))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


ORDER_STATES = {"queued": "待分派", "routed": "已派往街道"}
QUEUE_REASONS = {"no_match": "地址没有对上本区县任何街道、社区或网格",
                 "ambiguous": "地址同时对上了几个街道",
                 "not_ready": "对上的街道还没有发布工作法或已暂停"}


class HotlineOrder(TenantOwned, Base):
    """One work order (工单) of the county's hotline, by its number: where it went (a street's topic)
    or that it waits in the county's queue, and why. The caller's name and phone are kept here only
    while it waits; once it is a topic they are the topic's resident fields (masked as ever)."""

    __tablename__ = "hotline_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_hotline_orders_number"),
        Index("ix_hotline_orders_state", "tenant_id", "state", "received_at"),  # the queue, oldest first
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    called_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the order's own time (来电时间)
    title: Mapped[str] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(32))  # the hotline's category, as it names it
    caller_name: Mapped[str | None] = mapped_column(String(60))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    attachments: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "url"}], links into the hotline
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the time limit it came with
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the hotline's time of this version
    digest: Mapped[str] = mapped_column(String(64))  # of the fields as last received: the same order again
    queue_reason: Mapped[str | None] = mapped_column(String(16))  # a key of QUEUE_REASONS
    street_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    topic_number: Mapped[int | None] = mapped_column(Integer)
    routed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: by its address
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updates: Mapped[int] = mapped_column(Integer, default=0)


class HotlineRequest(TenantOwned, Base):
    """A signature the hotline has used, kept for as long as its timestamp is accepted: the same
    signed request sent again (captured and replayed) is refused. Older ones are pruned."""

    __tablename__ = "hotline_requests"
    __table_args__ = (Index("ix_hotline_requests_seen", "tenant_id", "seen_at"),)

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the header
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
