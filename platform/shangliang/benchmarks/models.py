from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned


class Rollup(TenantOwned, Base):
    """A tenant's figures for one period (a month `2026-11`, a quarter `2026-Q4` or a year `2026`).

    Counts, not rates: a rate is read as numerator / denominator, so a county's figures are sums
    and a setting such as "basically satisfied counts" applies when the page is read, not here.
    Topics belong to the period in which they entered intake. A street's months are computed
    from its topics; its quarters and years, and every county row, are derived from month rows
    (which is why a month keeps its sorted durations and its active members: medians and distinct
    counts do not add up). `rollups.py` writes these; nothing else does."""

    __tablename__ = "benchmark_rollups"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # month | quarter | year
    collected: Mapped[int] = mapped_column(Integer, default=0)
    response_due: Mapped[int] = mapped_column(Integer, default=0)
    responded_on_time: Mapped[int] = mapped_column(Integer, default=0)
    completion_due: Mapped[int] = mapped_column(Integer, default=0)
    completed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)  # closed as done (not 不予受理)
    closed_rated: Mapped[int] = mapped_column(Integer, default=0)  # of those, with a valid rating
    closed_reopened: Mapped[int] = mapped_column(Integer, default=0)  # of those, sent back at least once
    rated: Mapped[int] = mapped_column(Integer, default=0)  # topics whose last rating is valid
    rated_solved: Mapped[int] = mapped_column(Integer, default=0)
    rated_very_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    rated_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    rated_basic: Mapped[int] = mapped_column(Integer, default=0)  # 基本满意
    consulted: Mapped[int] = mapped_column(Integer, default=0)
    adopted: Mapped[int] = mapped_column(Integer, default=0)
    meetings_held: Mapped[int] = mapped_column(Integer, default=0)
    members_active: Mapped[int] = mapped_column(Integer, default=0)
    members_total: Mapped[int] = mapped_column(Integer, default=0)
    # 督办 and the evaluating parties besides the residents (oversight.py)
    supervised: Mapped[int] = mapped_column(Integer, default=0)
    supervised_closed: Mapped[int] = mapped_column(Integer, default=0)
    officials_rated: Mapped[int] = mapped_column(Integer, default=0)
    officials_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    members_rated: Mapped[int] = mapped_column(Integer, default=0)
    members_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    score_points: Mapped[int] = mapped_column(Integer, default=0)  # topics' mean scores, in hundredths
    response_p50_h: Mapped[float | None] = mapped_column(Float)
    response_p90_h: Mapped[float | None] = mapped_column(Float)
    close_p50_h: Mapped[float | None] = mapped_column(Float)
    close_p90_h: Mapped[float | None] = mapped_column(Float)
    # Topics left out of a measure, by measure and reason: {"response": {"no_time_limit": 2}, …}
    excluded: Mapped[dict] = mapped_column(JSON, default=dict)
    # Topics collected by intake channel: {"portal": 3, "station_qr": 2} (channels.py)
    channels: Mapped[dict] = mapped_column(JSON, default=dict)
    # Hours to first response and to close, sorted: {"response": [...], "close": [...]}
    durations: Mapped[dict] = mapped_column(JSON, default=dict)
    active_members: Mapped[list] = mapped_column(JSON, default=list)  # roster ids (streets only)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # "due" is judged at this time


class RollupState(TenantOwned, Base):
    """When the tenant's rollups were last brought up to date: the next run looks at what changed
    since then (with a margin for transactions still open at that moment)."""

    __tablename__ = "benchmark_state"

    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BenchmarkSettings(TenantOwned, Base):
    """A county's choices for comparing its streets (对标) and for the member ledger's points.
    Missing: the defaults in `measures.DEFAULT_SETTINGS`."""

    __tablename__ = "benchmark_settings"

    weights: Mapped[dict] = mapped_column(JSON)  # measure key → percent
    min_topics: Mapped[int] = mapped_column(Integer)
    # A rate (or mean score) resting on fewer topics than this is shown but not compared.
    min_denominator: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    measures: Mapped[list] = mapped_column(JSON)  # the measures shown, in order
    basic_counts: Mapped[bool] = mapped_column(default=False)  # 基本满意 counts as satisfied
    show_names: Mapped[bool] = mapped_column(default=False)  # streets see each other's names
    points: Mapped[dict] = mapped_column(JSON)  # member ledger: activity kind → points
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PublishedRanking(TenantOwned, Base):
    """A ranking as published: its rows, and the definitions and weights it was made with, frozen,
    so that a later change of settings or data never rewrites it."""

    # The table keeps its first name: a tenant export names its tables, and one made before the
    # model was renamed must still import.
    __tablename__ = "benchmark_publications"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_benchmark_publications_tenant_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(120))
    settings: Mapped[dict] = mapped_column(JSON)  # weights, min_topics, measures, basic_counts
    definitions: Mapped[list] = mapped_column(JSON)  # [{key, name, formula, …}] as they read then
    rows: Mapped[list] = mapped_column(JSON)  # the ranking table, figures included
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    publisher = relationship("User", lazy="joined")
