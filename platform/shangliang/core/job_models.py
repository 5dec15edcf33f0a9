"""The tables jobs keep: the outbox (which also holds each running job's lease), the jobs that have
had their effect, and the rounds of periodic jobs already queued."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime, new_id, utcnow
from .tenancy import TenantOwned


class OutboxMessage(Base):
    """A job waiting to be handed to the broker. Holds ids only, never personal data.

    While a delivery runs the job, `runner` names it and `lease_until` says until when it holds the
    job (renewed by its heartbeat, see core/leases.py)."""

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_pending", "sent_at", "created_at"),
                      Index("ix_job_outbox_lease", "lease_until"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    actor: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    runner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(TenantOwned, Base):
    """A job that has had its effect; written in the same transaction as the effect."""

    __tablename__ = "job_runs"

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PeriodicRound(Base):
    """One round of periodic jobs queued for a period: whichever worker inserts it first queues
    them, every other worker finds it there and queues nothing."""

    __tablename__ = "periodic_rounds"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
