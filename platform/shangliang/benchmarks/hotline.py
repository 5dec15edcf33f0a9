"""12345 hotline orders per street per month, and their trend: what 燕山 reports ("街道12345热线投诉
量同比下降30%"), read off the county's page. A topic that came in by the 12345 channel is one order,
whether the hotline platform sent it (integrations/hotline) or staff typed a call in; the counts are
the rollups' own (channels.py: topics by intake channel, per street and month), so this adds no
count of its own: it lays twelve months side by side and compares the period with the same period a
year before (同比) and with the one before it (环比)."""
from __future__ import annotations

from dataclasses import dataclass

from ..tenants.models import Tenant
from . import operations as ops
from .periods import Period

CHANNEL = "hotline_12345"  # topics/channels.py
MONTHS_SHOWN = 12


@dataclass
class HotlineLine:
    name: str
    slug: str
    months: list[int]  # the MONTHS_SHOWN months up to the period's last, oldest first
    now: int  # in the period
    year_before: int  # in the same period a year before
    before: int  # in the period before

    @staticmethod
    def _change(now: int, then: int) -> int | None:
        return round(100 * (now - then) / then) if then else None

    @property
    def year_on_year(self) -> int | None:
        """Per cent up (+) or down (−) on the same period a year before; None with nothing then."""
        return self._change(self.now, self.year_before)

    @property
    def on_previous(self) -> int | None:
        return self._change(self.now, self.before)


@dataclass
class HotlineTable:
    months: list[Period]
    lines: list[HotlineLine]
    total: HotlineLine

    @property
    def any(self) -> bool:
        return any(self.total.months) or bool(self.total.year_before or self.total.before)


def year_before(period: Period) -> Period:
    return Period(period.year - 1, period.kind, period.n)


def shown_months(period: Period) -> list[Period]:
    last, out = period.months()[-1], []
    for _ in range(MONTHS_SHOWN):
        out.append(last)
        last = last.previous()
    return out[::-1]


def orders(parent: Tenant, period: Period, actor_id: int | None) -> HotlineTable:
    """Per compared tenant (a county's streets, the platform's counties): its 12345 orders month by
    month, in the period, a year before and in the period before. One audited read of the rollups."""
    months = shown_months(period)
    wanted = {p.key for p in months} | {period.key, year_before(period).key, period.previous().key}
    tenants = ops.compared(parent)
    rows = ops._rows_of(tenants, sorted(wanted), reason=f"benchmark 12345 {period.key}", actor_id=actor_id,
                        acting=parent)

    def n(tenant_id: int, key: str) -> int:
        return int(((rows.get((tenant_id, key)) or {}).get("channels") or {}).get(CHANNEL, 0))

    lines = [HotlineLine(t.name, t.slug, [n(t.id, p.key) for p in months], n(t.id, period.key),
                         n(t.id, year_before(period).key), n(t.id, period.previous().key)) for t in tenants]
    total = HotlineLine("合计", "", [sum(col) for col in zip(*(ln.months for ln in lines))] or [0] * len(months),
                        sum(ln.now for ln in lines), sum(ln.year_before for ln in lines), sum(ln.before for ln in lines))
    return HotlineTable(months, lines, total)
