from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text,
                        UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.changes import watch_table
from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned
from ..procedures.operations import version_of


# Pages kept by web processes (the board, the portal's front page) are dropped by a street's topic
# changes: migration 0026's trigger names the street, and this process's own writes do at commit.
watch_table("topics", "tenant_id")


class Topic(TenantOwned, Base):
    """One resident concern (议题), moving through the steps of the procedure version it
    started on. Its current step, round and due time are kept here for lists and boards,
    and always equal what replaying its `TopicEvent` log gives."""

    __tablename__ = "topics"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number", name="uq_topics_tenant_number"),
        ForeignKeyConstraint(["tenant_id", "procedure_version_id"],
                             ["procedure_versions.tenant_id", "procedure_versions.id"]),
        # The board reads each step's first cards straight off this index.
        Index("ix_topics_tenant_step", "tenant_id", "status", "step_key", "due_at", "number"),
        Index("ix_topics_tenant_due", "tenant_id", "status", "due_at"),
        UniqueConstraint("tenant_id", "receipt_hash", name="uq_topics_tenant_receipt"),
        Index("ix_topics_tenant_created", "tenant_id", "created_at"),  # benchmarking: a period's intake
        # The portal's latest concluded topics and 公示 (status and closed_as fixed, newest first): the
        # first rows of this index, read backwards, whatever the number of closed topics.
        Index("ix_topics_tenant_concluded", "tenant_id", "status", "closed_as", "updated_at"),
        # 办理公示 and the portal's latest outcomes: the topics staff published, newest first.
        Index("ix_topics_tenant_published", "tenant_id", "published_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    procedure_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    step_key: Mapped[str] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_as: Mapped[str | None] = mapped_column(String(32))  # done | out_of_scope
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    step_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fixed at intake, for benchmarking (对标): when the first response falls due (the intake
    # step's time limit) and when the whole procedure should be done (its main path's limits).
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    community: Mapped[str | None] = mapped_column(String(60))
    grid: Mapped[str | None] = mapped_column(String(60))
    # The station (roster's Station) whose QR code the topic was raised through; no foreign key, since
    # topics sit below the roster (its name at the time is in the log's create event).
    station_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    place: Mapped[str | None] = mapped_column(String(200))
    resident_name: Mapped[str | None] = mapped_column(String(60))
    resident_phone: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # plan, outcome, summary, reason, department …
    # 办理公示 is reviewed, not automatic: set when staff publish the outcome (its public title, text and
    # the photos they chose are in `publication`); until then a concluded topic is not public.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publication: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # None is SQL NULL: awaiting review
    # A topic raised on the public portal: SHA-256 of the receipt code the resident keeps.
    receipt_hash: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic lock: two people acting on the same topic at once cannot both succeed.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def procedure(self):
        """The version the topic runs on (immutable: kept by the process, not joined to every read)."""
        return version_of(self.tenant_id, self.procedure_version_id)

    @property
    def step(self) -> dict:
        return next(s for s in self.procedure.steps if s["key"] == self.step_key)


class TopicCounter(TenantOwned, Base):
    """The tenant's last topic number. Taking the next one locks this row until commit, so
    simultaneous intakes queue here instead of colliding on the number."""

    __tablename__ = "topic_counters"

    last: Mapped[int] = mapped_column(Integer, default=0)


class TopicStepCount(TenantOwned, Base):
    """How many of the tenant's topics stand at a step in a state of the board's (open, overdue,
    closed): the board's counts, read from a few rows instead of counting every topic. Kept by
    topics/counts.py in the transaction that moves a topic."""

    __tablename__ = "topic_step_counts"

    step_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    topics: Mapped[int] = mapped_column(Integer, default=0)


class TopicEvent(TenantOwned, Base):
    """The topic's immutable log: who did what, when, from which step to which, with what evidence.

    Benchmarking (对标) is computed from these time stamps; `phase_from`/`phase_to` make
    them queryable by canonical phase across tenants with different procedures."""

    __tablename__ = "topic_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "topic_id", "seq", name="uq_topic_events_topic_seq"),
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_topic_events_tenant_phase_at", "tenant_id", "phase_to", "at"),
        Index("ix_topic_events_tenant_at", "tenant_id", "at"),  # what changed since the last rollup
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_step: Mapped[str | None] = mapped_column(String(40))
    to_step: Mapped[str | None] = mapped_column(String(40))
    phase_from: Mapped[str | None] = mapped_column(String(16))
    phase_to: Mapped[str | None] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # evidence: fields, rating, signatures, target …

    actor = relationship("User", lazy="joined")


TRANSFER_STATES = {"sent": "待接收", "accepted": "办理中", "replied": "已答复", "returned": "已退回"}
OPEN_TRANSFER_STATES = ("sent", "accepted")


class Transfer(TenantOwned, Base):
    """转交 / 转办: a topic sent to one department, with what is asked and by when. A topic may be
    sent to several, at once (多部门协作) or one after another; each keeps its own state. The row
    lives in the topic's street; a county department's is found by its inbox across the county's
    streets. The department is named by (tenant, id) with no foreign key, since it may be the
    county's row, and by the name it had when sent."""

    __tablename__ = "topic_transfers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_topic_transfers_topic", "tenant_id", "topic_id", "sent_at"),
        # A department's inbox: its transfers in a street, open ones soonest due first.
        Index("ix_topic_transfers_inbox", "tenant_id", "department_id", "state", "due_at"),
        Index("ix_topic_transfers_due", "tenant_id", "state", "due_at"),  # the reminders' periodic pass
        Index("ix_topic_transfers_sent", "tenant_id", "sent_at"),  # a period's transfers (对标)
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    department_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    department_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    department_name: Mapped[str] = mapped_column(String(100))
    asked: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="sent")
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")  # the reply, or the reason it was returned
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # replied by the due time (12345's rule)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TRANSFER_STATES

    @property
    def title(self) -> str:  # how a list of files names what they belong to
        return self.department_name

    def overdue_at(self, now: datetime) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < now


ESCALATION_LEVELS = {"street": "街道党工委", "county": "区县"}
ESCALATION_ANSWERS = {"decide": "作出决定", "assign": "交办部门", "take_up": "上级牵头办理", "send_back": "退回继续协商"}


class Escalation(TenantOwned, Base):
    """提请: a topic sent up to the level its procedure names (the street's 党工委 or the county) with
    the reason, waiting in that level's queue until it answers: decides, assigns departments, takes
    it up itself, or sends it back. The row lives in the topic's street."""

    __tablename__ = "topic_escalations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_topic_escalations_queue", "tenant_id", "level", "state", "raised_at"),
        Index("ix_topic_escalations_topic", "tenant_id", "topic_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | answered
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer_kind: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Supervision(TenantOwned, Base):
    """督办: a county's or a street's supervision note on an overdue or escalated topic, with the
    new due time the responsible people are told of. Kept in the topic's street."""

    __tablename__ = "topic_supervisions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_topic_supervisions_topic", "tenant_id", "topic_id"),
        Index("ix_topic_supervisions_at", "tenant_id", "at"),  # benchmarking: a period's supervisions
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    level: Mapped[str] = mapped_column(String(16))  # county | street: who supervised
    note: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


NOTICE_COMMENT_STATES = {"pending": "待审核", "approved": "已公开", "rejected": "不予公开"}


class TopicNotice(TenantOwned, Base):
    """议题公示 / 公开征题: a topic put on public notice before it is consulted, at a step whose
    procedure says `notice: true`, with the public title and text staff wrote (no personal data).
    One per topic; topics/notice.py says how long it stays on the portal."""

    __tablename__ = "topic_notices"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        Index("ix_topic_notices_published", "tenant_id", "published_at"),  # the portal's list, newest first
    )

    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    step_key: Mapped[str] = mapped_column(String(40))  # the step it was published at
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")


class NoticeSupport(TenantOwned, Base):
    """A resident's support (支持) of a topic on notice. The person is kept only as a keyed hash of
    their mobile number, scoped to the street and the topic: once per person per topic, and the
    same number gives unrelated hashes on two topics."""

    __tablename__ = "topic_notice_supports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        UniqueConstraint("tenant_id", "topic_id", "person_hash", name="uq_topic_notice_supports_person"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeComment(TenantOwned, Base):
    """A resident's comment (留言) on a topic on notice: public only once staff approve it. One per
    person per topic (the same keyed hash as a support)."""

    __tablename__ = "topic_notice_comments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "topic_id"], ["topics.tenant_id", "topics.id"]),
        UniqueConstraint("tenant_id", "topic_id", "person_hash", name="uq_topic_notice_comments_person"),
        Index("ix_topic_notice_comments_state", "tenant_id", "state", "at"),  # the moderation queue
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    person_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
