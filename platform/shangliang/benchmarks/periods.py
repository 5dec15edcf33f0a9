"""Periods of benchmarking: a month `2026-11`, a quarter `2026-Q4` or a year `2026`, cut at
midnight in the tenant's time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..core.errors import Refused

KINDS = ("month", "quarter", "year")
KIND_LABELS = {"month": "月", "quarter": "季度", "year": "年"}
_FORMS = ((re.compile(r"^(\d{4})-(\d{2})$"), "month"), (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
          (re.compile(r"^(\d{4})$"), "year"))
QUARTER_NAMES = ("一", "二", "三", "四")
# What `parse` takes, for documents (the OpenAPI one): a year 2000–2100, its months or quarters
PATTERN = r"^(20\d\d|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str
    n: int = 0  # the month (1–12) or quarter (1–4); 0 for a year

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.n:02d}"
        return f"{self.year}-Q{self.n}" if self.kind == "quarter" else str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.n}月"
        return f"{self.year}年第{QUARTER_NAMES[self.n - 1]}季度" if self.kind == "quarter" else f"{self.year}年"

    def first_month(self) -> tuple[int, int]:
        return self.year, {"month": self.n, "quarter": 3 * self.n - 2, "year": 1}[self.kind]

    def months(self) -> list[Period]:
        count = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        y, m = self.first_month()
        return [Period(y, "month", m + i) for i in range(count)]

    def start_day(self) -> date:
        return date(*self.first_month(), 1)

    def end_day(self) -> date:
        """The first day after the period."""
        last = self.months()[-1]
        return date(last.year + 1, 1, 1) if last.n == 12 else date(last.year, last.n + 1, 1)

    def bounds(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        zone = ZoneInfo(tz)
        return tuple(datetime.combine(d, datetime.min.time(), zone).astimezone(ZoneInfo("UTC"))
                     for d in (self.start_day(), self.end_day()))

    def previous(self) -> Period:
        if self.kind == "year":
            return Period(self.year - 1, "year")
        size = 12 if self.kind == "month" else 4
        return Period(self.year, self.kind, self.n - 1) if self.n > 1 else Period(self.year - 1, self.kind, size)

    def containing(self) -> list[Period]:
        """A month's quarter and year (itself first)."""
        if self.kind != "month":
            return [self]
        return [self, Period(self.year, "quarter", (self.n + 2) // 3), Period(self.year, "year")]

    def __str__(self) -> str:
        return self.key


def parse(text: str | None, field: str = "period") -> Period:
    text = (text or "").strip()
    for pattern, kind in _FORMS:
        m = pattern.match(text)
        if m:
            year, n = int(m.group(1)), int(m.group(2)) if kind != "year" else 0
            if 2000 <= year <= 2100 and (kind != "month" or 1 <= n <= 12):
                return Period(year, kind, n)
    raise Refused("统计期须为 2026-11（月）、2026-Q4（季度）或 2026（年）", field, "validation_error")


def of(moment: datetime | date, tz: str, kind: str = "month") -> Period:
    local = moment.astimezone(ZoneInfo(tz)) if isinstance(moment, datetime) else moment
    return {"month": Period(local.year, "month", local.month),
            "quarter": Period(local.year, "quarter", (local.month + 2) // 3),
            "year": Period(local.year, "year")}[kind]


def recent(period: Period, count: int) -> list[Period]:
    """`count` periods of the same kind ending with `period`, oldest first."""
    out = [period]
    while len(out) < count:
        out.append(out[-1].previous())
    return out[::-1]


def month_range(first: Period, last: Period) -> list[Period]:
    out, p = [], last
    while p >= first:
        out.append(p)
        p = p.previous()
    return out[::-1]
