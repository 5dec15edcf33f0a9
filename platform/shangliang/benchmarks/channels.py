"""Topics collected by intake channel (渠道): how many came through the 12345 hotline, the portal, a
station's or a grid's QR code…, per street and month, added up into quarters, years and counties
like every other count of the rollups. Kept as {channel key: topics} on each rollup row, so a
channel registered later (topics/channels.py) needs no new column."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable

from sqlalchemy import func, select

from ..core.db import db
from ..topics.channels import CHANNELS
from ..topics.models import Topic
from .periods import Period
from .sql import local_time, month_number, within_months


def per_month(tenant_ids: list[int], tz: str, months: list[Period]) -> dict[tuple[int, int], dict[str, int]]:
    """{(tenant_id, YYYYMM): {channel: topics}} of the topics that entered intake in those months
    (the month a topic belongs to, as for `collected`)."""
    month = month_number(local_time(Topic.created_at, tz))
    rows = db.execute(select(Topic.tenant_id, month.label("month"), Topic.channel, func.count())
                      .where(Topic.tenant_id.in_(tenant_ids), within_months(months, tz, Topic.created_at))
                      .group_by(Topic.tenant_id, month, Topic.channel))
    out: dict = defaultdict(dict)
    for tenant_id, m, channel, n in rows:
        out[(tenant_id, int(m))][channel] = int(n)
    return out


def added(parts: Iterable[dict | None]) -> dict[str, int]:
    """The channel counts of several rows (months into a quarter, streets into their county)."""
    total: Counter = Counter()
    for part in parts:
        total.update(part or {})
    return dict(sorted(total.items()))


def columns(figures: Iterable[dict]) -> list[tuple[str, str, str]]:
    """(key, Chinese, English) of the channels any of these figures counts, in the registry's order
    (a channel no longer registered last, under its key)."""
    seen = {k for fig in figures for k, n in (fig.get("channels") or {}).items() if n}
    known = [(c.key, c.zh, c.en) for c in CHANNELS.values() if c.key in seen]
    return known + [(k, k, k) for k in sorted(seen - set(CHANNELS))]
