"""What the benchmarking pages, files and API show, gathered in one call per page.

A ranking is shown the same way live and as published: a `Table` of frozen rows, definitions
and settings. A live table is made from `operations.ranking`; a published one from the
`PublishedRanking` row alone, so that nothing about it is recomputed."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.db import db, utcnow
from ..i18n import _
from ..tenants.models import Tenant
from . import drilldown as drill
from . import operations as ops
from . import periods, rollups
from .measures import BY_KEY, MEASURES, definitions
from .models import PublishedRanking
from .periods import Period

CHART_PERIODS = 12
# The counts a rollup row holds, as the 明细数据 sheet names them.
COUNT_LABELS = {
    "collected": "收集议题", "response_due": "应响应", "responded_on_time": "按时响应",
    "completion_due": "应办结", "completed_on_time": "按期办结", "closed": "已办结",
    "closed_rated": "已办结且有有效评价", "closed_reopened": "已办结且复盘过", "rated": "有效评价",
    "rated_solved": "评价为已解决", "rated_very_satisfied": "非常满意", "rated_satisfied": "满意",
    "rated_basic": "基本满意", "consulted": "有协商记录", "adopted": "协商成果采纳", "meetings_held": "召开议事会",
    "members_active": "有履职的委员", "members_total": "在册委员",
    "supervised": "被督办", "supervised_closed": "被督办且已办结", "officials_rated": "有党政点评",
    "officials_satisfied": "党政点评满意", "members_rated": "有委员评议", "members_satisfied": "委员评议满意",
    "scored": "维度评分次数", "score_points": "维度评分合计（百分之一分）",
}


# ---------------------------------------------------------------- periods as the pages move through them

def default_period(tenant: Tenant) -> Period:
    """The last whole month: counties review the month just ended (the current one is a click on,
    and early in a month it holds only a few days)."""
    return periods.of(utcnow(), tenant.timezone).previous()


def today(tenant: Tenant) -> date:
    return utcnow().astimezone(ZoneInfo(tenant.timezone)).date()


def following(period: Period, tenant: Tenant) -> Period | None:
    """The next period of the same kind, unless it has not begun yet."""
    nxt = periods.of(period.end_day(), tenant.timezone, period.kind)
    return nxt if nxt.start_day() <= today(tenant) else None


def switched(period: Period, kind: str, tenant: Tenant) -> Period:
    """The period of another kind holding the last day of `period` seen so far (not the future)."""
    last = min(date.fromordinal(period.end_day().toordinal() - 1), today(tenant))
    return periods.of(max(last, period.start_day()), tenant.timezone, kind)


# ---------------------------------------------------------------- tables

@dataclass
class Table:
    """A ranking as pages and files show it: live (`number` None) or as published."""

    parent: str  # the comparing tenant's name
    compared: str  # street | county
    period: Period
    title: str
    settings: dict
    definitions: list[dict]  # of the measures shown, in order
    rows: list[dict]  # `operations._frozen` rows, ranked first
    as_of: datetime | None
    number: int | None = None
    published_at: datetime | None = None
    publisher: str | None = None

    def __post_init__(self):
        ranks = Counter(r["rank"] for r in self.rows if r["rank"] is not None)
        for r in self.rows:
            r["tied"] = ranks[r["rank"]] > 1

    @property
    def ranked(self) -> list[dict]:
        return [r for r in self.rows if r["rank"] is not None]

    @property
    def unranked(self) -> list[dict]:
        return [r for r in self.rows if r["rank"] is None]

    @property
    def weighted(self) -> list[dict]:
        return [d for d in self.definitions if d["key"] in self.settings["weights"]]

    @property
    def others(self) -> list[dict]:
        return [d for d in self.definitions if d["key"] not in self.settings["weights"]]

    @property
    def empty(self) -> bool:
        """No topic at all in the period (or nothing to compare)."""
        return not any(r["figures"].get("collected") for r in self.rows)


def live_table(parent: Tenant, ranking: ops.Ranking) -> Table:
    settings = {k: v for k, v in ranking.settings.items() if k != "updated_at"}
    return Table(parent.name, _compared_kind(parent), ranking.period,
                 f"{parent.name}{ranking.period.label}对标排名", settings, definitions(settings),
                 [ops._frozen(ln) for ln in ranking.lines], ranking.as_of)


def published_table(parent: Tenant, published: PublishedRanking) -> Table:
    return Table(parent.name, _compared_kind(parent), periods.parse(published.period), published.title,
                 published.settings, published.definitions, [dict(r) for r in published.rows], published.as_of,
                 published.number, published.published_at,
                 published.publisher.display_name if published.publisher else None)


def _compared_kind(parent: Tenant) -> str:
    return "street" if parent.kind == "county" else "county"


def parts(defn: dict, figures: dict, settings: dict) -> tuple[int, int] | None:
    """A rate's numerator and denominator, for showing beside it (the value itself is frozen)."""
    m = BY_KEY.get(defn["key"])
    if m is None or defn["unit"] != "rate":
        return None
    return m.parts(figures, settings)


# ---------------------------------------------------------------- pages

@dataclass
class CountyReport:
    """A county's (or the platform's) benchmarking page."""

    table: Table
    trends: dict  # measure → [(period, q1, median, q3)]
    published: list[PublishedRanking]  # newest first
    compared: int  # how many streets (or counties) there are to compare
    lines: dict = field(default_factory=dict)  # measure → [(slug, name, [(period, value)])]

    @property
    def charted(self) -> bool:
        """Whether any period of the trend has a figure (else the charts would all say 暂无数据)."""
        return charted(self.trends)


def county_report(parent: Tenant, period: Period, actor_id: int | None) -> CountyReport:
    ranking = ops.ranking(parent, period, actor_id)
    trends, lines = ops.trend_lines(parent, period, actor_id, CHART_PERIODS, ranking.settings) if ranking.lines \
        else ({}, {})
    return CountyReport(live_table(parent, ranking), trends, ops.published_rankings(parent), len(ranking.lines), lines)


@dataclass
class StreetReport:
    """A street's own figures against its county's distribution."""

    standing: ops.Standing
    definitions: list[dict]
    trends: dict  # the county's quartiles per measure
    own: dict  # the street's own values per measure: [(period, value)]
    others: Table | None  # the county's ranking with names, if the county shows them
    as_of: datetime | None = None
    positions: dict = field(default_factory=dict)  # measure → where the street stands (words)
    lines: dict = field(default_factory=dict)  # the other streets' values, if the county shows them

    @property
    def empty(self) -> bool:
        return not self.standing.own.figures.get("collected")

    @property
    def charted(self) -> bool:
        return charted(self.trends) or any(v is not None for series in self.own.values() for _p, v in series)


def charted(trends: dict) -> bool:
    return any(q is not None for series in trends.values() for _p, *qs in series for q in qs)


def street_report(street: Tenant, period: Period, actor_id: int | None) -> StreetReport:
    standing = ops.standing(street, period, actor_id)
    settings = {k: v for k, v in standing.settings.items() if k != "updated_at"}
    trends, lines = ops.trend_lines(street.parent, period, actor_id, CHART_PERIODS, standing.settings, street)
    own = ops.own_trend(street, period, standing.settings, CHART_PERIODS)
    others = None
    if standing.others is not None:
        others = Table(street.parent.name, "street", period, f"{street.parent.name}{period.label}对标排名", settings,
                       definitions(settings), [ops._frozen(ln) for ln in standing.others], None)
    report = StreetReport(standing, definitions(settings), trends, own, others,
                          standing.own.figures.get("as_of"), lines=lines if others is not None else {})
    # A measure short of its sample is not compared: it has no position (the page says why).
    report.positions = {m.key: position(m.key, standing.own.values.get(m.key), standing.distribution[m.key])
                        for m in MEASURES if m.key not in standing.own.thin}
    return report


POSITIONS = {"top": "位于前 25%", "better": "优于中位数", "equal": "等于中位数", "worse": "不及中位数",
             "bottom": "位于后 25%"}


def position(key: str, value: float | None, dist: tuple) -> str | None:
    """Where a value stands in the county's distribution (a key of POSITIONS), better or worse as
    the measure reads: for a lower-is-better measure a low value is the better one."""
    q1, median, q3 = dist
    if value is None or median is None:
        return None
    sign = 1 if BY_KEY[key].higher_is_better else -1
    v, a, mid, b = (sign * x for x in (value, q1, median, q3))
    lo, hi = min(a, b), max(a, b)
    if v == mid:
        return "equal"
    # Beyond a quartile strictly: streets level with one are only better or worse than the median.
    if v > mid:
        return "top" if v > hi else "better"
    return "bottom" if v < lo else "worse"


def chart_series(tenant: Tenant, period: Period, key: str, actor_id: int | None,
                 selected: str | None = None) -> tuple[dict, list, list | None, list, str | None]:
    """One measure's chart as the page draws it: (definition, the quartiles, the highlighted
    line, the other lines [(slug, name, series)], the highlighted one's name). A street's own line
    is highlighted on its page; a county highlights the street `selected` (a slug), if any."""
    if tenant.is_street:
        report = street_report(tenant, period, actor_id)
        others = [ln for ln in report.lines.get(key, []) if ln[0] != tenant.slug]
        return BY_KEY[key].describe(report.standing.settings), report.trends[key], report.own[key], others, None
    settings = ops.settings_of(tenant)
    bands, lines = ops.trend_lines(tenant, period, actor_id, CHART_PERIODS, settings)
    chosen = next((ln for ln in lines[key] if ln[0] == selected), None)
    others = [ln for ln in lines[key] if ln[0] != selected]
    return (BY_KEY[key].describe(settings), bands[key], chosen[2] if chosen else None, others,
            chosen[1] if chosen else None)


def compared_street(parent: Tenant, slug: str) -> Tenant | None:
    """One of the county's own streets, by slug (for a drill-down); None for anything else."""
    if not parent.is_county:
        return None
    return db.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.parent_id == parent.id,
                                          Tenant.kind == "street", Tenant.status != "archived"))


@dataclass
class Drilldown:
    street: Tenant
    period: Period
    definition: dict
    value: float | None
    parts: tuple[int, int] | None
    topics: list[dict]
    limit: int


def drilldown(parent: Tenant, street: Tenant, period: Period, measure: str, actor_id: int | None,
              limit: int = 500) -> Drilldown:
    """The topics behind one street's figure, and the figure itself from the street's rollup."""
    settings = ops.settings_of(parent)
    topics = drill.topics_behind(parent, street, period, measure, actor_id, limit=limit)
    rows = ops._rows_of([street], [period.key], reason=f"benchmark drill-down {period.key} {measure}",
                        actor_id=actor_id, acting=parent)
    figures = rows.get((street.id, period.key)) or rollups._empty()
    defn = BY_KEY[measure].describe(settings)
    return Drilldown(street, period, defn, BY_KEY[measure].value(figures, settings, street.households),
                     parts(defn, figures, settings), topics, limit)


# ---------------------------------------------------------------- numbers as people read them

def shown(unit: str, value) -> str:
    """A measure's value in words: 87.5%, 12.3 小时, 42."""
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "hours":
        return _("{h} 小时", h=f"{value:.1f}")
    if unit == "score":
        return f"{value:.2f}"
    if unit == "per_10k" or not float(value).is_integer():
        return f"{value:.1f}"
    return str(int(value))


def change_text(change: int | None) -> str:
    """Places gained (↑2) or lost (↓1) since the period before; — when the same or not comparable."""
    if not change:
        return "—"
    return f"↑{change}" if change > 0 else f"↓{-change}"


def settings_form(settings: dict) -> dict:
    """The settings as the form holds them (what a refused form sends back has the same shape)."""
    form = {f"weight_{k}": str(v) for k, v in settings["weights"].items()}
    form.update(min_topics=str(settings["min_topics"]),
                min_denominator=str(settings.get("min_denominator", 0)), measures=list(settings["measures"]),
                basic_counts="on" if settings["basic_counts"] else "",
                show_names="on" if settings["show_names"] else "")
    form.update({f"points_{k}": str(v) for k, v in settings["points"].items()})
    return form
