from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text,
                        UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.storage import STORAGE_KEY
from ..core.tenancy import TenantOwned

# 政协委员, 网格员, 社区书记, 楼院长, 部门联络人, 居民代表, 合伙人
PERSON_KINDS = ("member", "grid_worker", "community_secretary", "building_head", "department_contact",
                "resident_rep", "partner")
STATION_KINDS = ("grid_station", "member_studio", "meeting_room")  # 庭院网格e站, 委员工作室, 议事室
SHIFT_STATUSES = ("planned", "kept", "missed")


class Person(TenantOwned, Base):
    """Someone on the street's roster. May have a login (`user_id`) or not."""

    __tablename__ = "roster_people"
    __table_args__ = (
        UniqueConstraint("tenant_id", "import_key", name="uq_roster_people_import_key"),
        Index("ix_roster_people_tenant_kind_name", "tenant_id", "kind", "name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sector: Mapped[str | None] = mapped_column(String(40))  # 界别, for CPPCC members
    specialties: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["法律", "物业"]
    level: Mapped[str | None] = mapped_column(String(16))  # county | street (members)
    community: Mapped[str | None] = mapped_column(String(60))
    grid: Mapped[str | None] = mapped_column(String(60))
    organisation: Mapped[str | None] = mapped_column(String(100))  # department, unit or partner organisation
    title: Mapped[str | None] = mapped_column(String(60))  # 职务
    note: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A stable identity from the import file (its ID column, or kind+name+phone): importing the
    # same file twice finds the same people instead of adding them again.
    import_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterImport(TenantOwned, Base):
    """One uploaded roster file, imported by a job that reports progress and every refused row."""

    __tablename__ = "roster_imports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    file_key: Mapped[str] = mapped_column(String(200), info=STORAGE_KEY)
    filename: Mapped[str] = mapped_column(String(200), default="")  # metadata only
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[list] = mapped_column(JSON, default=list)  # [{row, field, message}]
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Station(TenantOwned, Base):
    """A place where 商量 happens: 庭院网格e站, 委员工作室, 议事室."""

    __tablename__ = "stations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(100), default="")
    community: Mapped[str | None] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyShift(TenantOwned, Base):
    """A member on duty (轮值) at a station on a day."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "station_id", "day", "person_id", name="uq_duty_shifts_station_day_person"),
        ForeignKeyConstraint(["tenant_id", "station_id"], ["stations.tenant_id", "stations.id"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["roster_people.tenant_id", "roster_people.id"]),
        Index("ix_duty_shifts_tenant_day", "tenant_id", "day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    station_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    day: Mapped[date] = mapped_column(Date)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    swapped_from: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the person this shift was swapped away from
    note: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # benchmarking reads changes


class MemberGridPair(TenantOwned, Base):
    """结对: a CPPCC member paired with a grid of the street (一对一 or 一对多; a grid may have several
    members), so that the member keeps up with the grid and its 网格员 (燕山's 委员-网格员结对).
    The grid is named by community and grid as the street's own lists (社区与网格) spell them."""

    __tablename__ = "member_grid_pairs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "person_id", "community", "grid", name="uq_member_grid_pairs_person_grid"),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["roster_people.tenant_id", "roster_people.id"],
                             ondelete="CASCADE"),
        Index("ix_member_grid_pairs_grid", "tenant_id", "community", "grid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    community: Mapped[str] = mapped_column(String(60))
    grid: Mapped[str] = mapped_column(String(60))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
