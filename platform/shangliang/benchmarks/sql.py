"""SQL pieces the rollups are built from, the same on PostgreSQL and SQLite."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Numeric, Text, and_, case, cast, func, or_

from ..core.db import db
from .periods import Period


def is_postgres() -> bool:
    return db.get_bind().dialect.name == "postgresql"


def local_time(col, tz: str):
    """A UTC time stamp as wall-clock time in `tz`. SQLite has no zone data: the zone's offset
    now stands for the whole year, which is exact for zones without summer time (all of China)."""
    if is_postgres():
        return func.timezone(tz, col)
    offset = int(ZoneInfo(tz).utcoffset(datetime.now()).total_seconds() // 60)
    return func.datetime(col, f"{offset:+d} minutes")


def month_number(expr):
    """YYYYMM of a local time or a date, as an integer. (Not extract(): it drops the ORM's
    annotations, and with them the tenant filter.)"""
    if is_postgres():
        return cast(func.to_char(expr, "YYYYMM"), Integer)
    return cast(func.strftime("%Y%m", expr), Integer)


def hours_between(start, end):
    if is_postgres():
        return func.date_part("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def joined_values(values):
    """The non-null values of a group as one text, to be split and sorted in Python."""
    if is_postgres():
        return func.string_agg(cast(func.round(cast(values, Numeric), 3), Text), ",")
    return func.group_concat(func.round(values, 3))


def count_where(cond):
    return func.sum(case((cond, 1), else_=0))


def within_months(months: list[Period], tz: str, column):
    """`column` inside any of the months, with neighbouring months joined into one range."""
    spans: list[list] = []
    for m in sorted(months):
        start, end = m.bounds(tz)
        if spans and spans[-1][1] == start:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return or_(*[and_(column >= s, column < e) for s, e in spans])


def within_month_days(months: list[Period], column):
    return or_(*[and_(column >= m.start_day(), column < m.end_day()) for m in months])
