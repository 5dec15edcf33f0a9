from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text,
                        UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned

FORMS = ("on_site", "meeting_room", "written", "online")  # 现场, 议事室, 书面, 网络
GROUPS = ("member", "cadre", "department", "resident", "stakeholder")  # 4+X: 委员 干部 部门 居民 + 利益相关方
MEETING_STATUSES = ("planned", "held", "cancelled")
WORK_STATUSES = ("open", "in_progress", "done")


class Meeting(TenantOwned, Base):
    """A consultation meeting (议事会)."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_meetings_tenant_number"),
        Index("ix_meetings_tenant_starts", "tenant_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    form: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    station_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class MeetingParticipant(TenantOwned, Base):
    """Someone at the meeting: from the roster (`person_id`) or named here (a stakeholder)."""

    __tablename__ = "meeting_participants"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["meetings.tenant_id", "meetings.id"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["roster_people.tenant_id", "roster_people.id"]),
        Index("ix_meeting_participants_meeting", "tenant_id", "meeting_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(60))
    group: Mapped[str] = mapped_column(String(16))
    convener: Mapped[bool] = mapped_column(Boolean, default=False)  # 双召集人: at most two
    attended: Mapped[bool | None] = mapped_column(Boolean)


class MeetingMinutes(TenantOwned, Base):
    """One revision of a meeting's minutes; revisions are kept, the newest is current."""

    __tablename__ = "meeting_minutes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "meeting_id", "revision", name="uq_meeting_minutes_revision"),
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["meetings.tenant_id", "meetings.id"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingTopic(TenantOwned, Base):
    """A topic consulted at the meeting, with what was agreed on it."""

    __tablename__ = "meeting_topics"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["meetings.tenant_id", "meetings.id"]),
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_meeting_topics_topic", "tenant_id", "topic_id"),
    )

    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when logged on the topic (consult)


class WorkItem(TenantOwned, Base):
    """One agreed action (工作清单) with its owner and due date, followed up until done."""

    __tablename__ = "work_items"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "meeting_id"], ["meetings.tenant_id", "meetings.id"]),
        Index("ix_work_items_tenant_status_due", "tenant_id", "status", "due_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(200))
    owner_person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    owner_name: Mapped[str] = mapped_column(String(100), default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
