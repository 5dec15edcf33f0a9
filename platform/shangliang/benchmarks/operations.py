"""Benchmarking (对标) as people read it: a county's settings, the ranking of its streets (or the
platform's of its counties) for a period, a street's place in its county's distribution, trends
and published rankings.

Everything here reads rollup rows (`rollups.py`), never topics (the drill-down, drilldown.py,
does). Other tenants' rows are read only through `cross_tenant`, which writes the audit log."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from ..core.errors import Refused
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.tenancy import cross_tenant
from ..tenants.models import Tenant
from . import rollups
from .measures import BY_KEY, DEFAULT_POINTS, DEFAULT_SETTINGS, MEASURES, definitions, short_sample
from .models import BenchmarkSettings, PublishedRanking, Rollup
from .periods import Period, recent

MAX_WEIGHTED = 100


# ---------------------------------------------------------------- settings

def settings_of(tenant: Tenant) -> dict:
    """The comparing tenant's (a county's, or the platform's) settings, inside its scope."""
    row = db.get(BenchmarkSettings, tenant.id)
    if row is None:
        return {**DEFAULT_SETTINGS, "points": dict(DEFAULT_POINTS)}
    return {"weights": row.weights, "min_topics": row.min_topics, "min_denominator": row.min_denominator,
            "measures": row.measures,
            "basic_counts": row.basic_counts, "show_names": row.show_names,
            "points": {**DEFAULT_POINTS, **row.points}, "updated_at": row.updated_at}


def settings_for_street(street: Tenant, actor_id: int | None) -> dict:
    """A street reads its county's settings (how its figures are judged, its ledger's points)."""
    with cross_tenant([street.parent_id], reason="benchmark settings", actor_id=actor_id,
                      acting_tenant_id=street.id):
        return settings_of(db.get(Tenant, street.parent_id))


class SettingsInvalid(Refused):
    """Every problem of a settings form at once: field → message (a Chinese source string)."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field, "validation_error")
        self.errors = errors


def _int(form: dict, name: str, low: int, high: int, label: str) -> int:
    raw = str(form.get(name, "")).strip()
    try:
        value = int(raw)
    except ValueError:
        raise Refused(f"{label}须为整数", name, "validation_error") from None
    if not low <= value <= high:
        raise Refused(f"{label}须在 {low}–{high} 之间", name, "validation_error")
    return value


def _checked(errors: dict, read):
    """`read()`, or None with its refusal noted under its field: a form is judged as a whole."""
    try:
        return read()
    except Refused as exc:
        errors.setdefault(exc.field, exc.message)
        return None


def save_settings(tenant: Tenant, actor_id: int | None, form: dict) -> dict:
    """From the settings form (or the API): `weight_<measure>` percents summing to 100,
    `min_topics`, `measures` (a list), `basic_counts`, `show_names`, `points_<activity>`.
    Refused with every wrong field named at once (`SettingsInvalid.errors`)."""
    errors: dict[str, str] = {}
    weights = {}
    for m in MEASURES:
        if m.weighable and str(form.get(f"weight_{m.key}", "")).strip() not in ("", "0"):
            weights[m.key] = _checked(errors, lambda m=m: _int(form, f"weight_{m.key}", 0, 100, f"{m.name}的权重"))
    if not errors and sum(weights.values()) != 100:
        errors["weights"] = f"各项权重之和须为 100%，现在是 {sum(weights.values())}%"
    shown = [k for k in form.get("measures") or [] if k in BY_KEY]
    missing = [BY_KEY[k].name for k in weights if k not in shown]
    if not shown:
        errors["measures"] = "请至少选择一项要显示的指标"
    elif missing:
        errors["measures"] = "计入综合得分的指标须显示：" + "、".join(missing)
    min_topics = _checked(errors, lambda: _int(form, "min_topics", 0, 100_000, "参与排名的最少议题数"))
    if "min_denominator" not in form:  # a form from before the field: it keeps its value
        form = {**form, "min_denominator": settings_of(tenant)["min_denominator"]}
    min_denominator = _checked(errors, lambda: _int(form, "min_denominator", 0, 1000, "每项指标的最少样本数"))
    points = {k: _checked(errors, lambda k=k: _int(form, f"points_{k}", -100, 100, "分值")) for k in DEFAULT_POINTS}
    if errors:
        raise SettingsInvalid(errors)
    values = {"weights": weights, "min_topics": min_topics, "min_denominator": min_denominator,
              "measures": [m.key for m in MEASURES if m.key in shown],
              "basic_counts": str(form.get("basic_counts", "")).lower() in ("1", "true", "on", "yes"),
              "show_names": str(form.get("show_names", "")).lower() in ("1", "true", "on", "yes"),
              "points": points}
    row = db.get(BenchmarkSettings, tenant.id)
    if row is None:
        row = BenchmarkSettings(tenant_id=tenant.id, **values)
        db.add(row)
    else:
        for k, v in values.items():
            setattr(row, k, v)
    row.updated_at, row.updated_by = utcnow(), actor_id
    record(tenant.id, actor_id, "benchmark.settings", None, values)
    db.flush()
    return settings_of(tenant)


# ---------------------------------------------------------------- rankings

@dataclass
class Line:
    """One compared tenant in a ranking."""

    tenant_id: int
    slug: str
    name: str
    households: int | None
    figures: dict
    values: dict = field(default_factory=dict)  # measure key → value (None: nothing to divide by)
    score: float | None = None
    rank: int | None = None
    reason: str | None = None  # why not ranked
    thin: dict = field(default_factory=dict)  # measure key → its sample, below the county's minimum
    previous_rank: int | None = None
    previous_score: float | None = None

    @property
    def change(self) -> int | None:
        """Places gained since the last period (negative: lost)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass
class Ranking:
    period: Period
    settings: dict
    lines: list[Line]
    as_of: datetime | None

    @property
    def measures(self):
        return [BY_KEY[k] for k in self.settings["measures"] if k in BY_KEY]


def score(fig: dict, settings: dict, households=None) -> tuple[float | None, str | None]:
    """The composite score (0–100): the weighted mean of the weighted measures, a lower-is-better
    one counting as 1 − its value. A measure short of its sample (`short_sample`) is left out and
    the others are weighed among themselves. None, with the reason, when a counted measure has no
    value or none has its sample."""
    total = weight = 0.0
    for key, w in settings["weights"].items():
        m = BY_KEY[key]
        if short_sample(m, fig, settings) is not None:
            continue
        v = m.value(fig, settings, households)
        if v is None:
            return None, f"缺少{m.name}数据"
        total += w * (v if m.higher_is_better else 1 - v)
        weight += w
    if not settings["weights"]:
        return None, "未设置权重"
    if not weight:
        return None, "各计入指标样本均不足，不参与排名"
    return round(100 * total / weight, 1), None


def rank(lines: list[Line], settings: dict) -> None:
    """Scores and ranks in place. Too few topics: shown, not ranked. Equal scores (to 0.1) share
    a rank and the next rank is skipped (1, 1, 3)."""
    for line in lines:
        line.values = {m.key: m.value(line.figures, settings, line.households) for m in MEASURES}
        # marked where there is a sample, if too small; no sample at all reads — (no value) already
        line.thin = {m.key: n for m in MEASURES if (n := short_sample(m, line.figures, settings))}
        line.score, line.reason = score(line.figures, settings, line.households)
        if line.figures.get("collected", 0) < settings["min_topics"]:
            line.reason = f"议题少于 {settings['min_topics']} 件，不参与排名"
        if line.reason:
            line.rank = None
    ranked = sorted((ln for ln in lines if not ln.reason), key=lambda ln: -ln.score)
    for i, line in enumerate(ranked):
        line.rank = ranked[i - 1].rank if i and line.score == ranked[i - 1].score else i + 1
    lines.sort(key=lambda ln: (ln.rank is None, ln.rank or 0, -(ln.figures.get("collected") or 0), ln.name))


def _rows_of(tenants: list[Tenant], keys: list[str], *, reason: str, actor_id, acting: Tenant) -> dict:
    """{(tenant_id, period): figures} of other tenants, through the audited path."""
    if not tenants:
        return {}
    with cross_tenant([t.id for t in tenants], reason=reason, actor_id=actor_id, acting_tenant_id=acting.id):
        light = select(Rollup).options(defer(Rollup.durations), defer(Rollup.active_members))
        return {(r.tenant_id, r.period): {**rollups.figures(r, summary=True), "as_of": r.as_of}
                for r in db.scalars(light.where(Rollup.period.in_(keys)))}


def compared(parent: Tenant) -> list[Tenant]:
    """What a county compares (its streets) or the platform (the counties)."""
    kind = "street" if parent.kind == "county" else "county"
    q = select(Tenant).where(Tenant.kind == kind, Tenant.status != "archived")
    if parent.kind == "county":
        q = q.where(Tenant.parent_id == parent.id)
    return list(db.scalars(q.order_by(Tenant.name)))


def households_of(tenants: list[Tenant]) -> dict[int, int | None]:
    """A street's own figure; a county's is the sum of its streets' (None if none has one)."""
    out = {t.id: t.households for t in tenants if t.kind == "street"}
    counties = [t.id for t in tenants if t.kind == "county"]
    if counties:
        sums = dict(db.execute(select(Tenant.parent_id, func.sum(Tenant.households)).where(
            Tenant.parent_id.in_(counties), Tenant.kind == "street", Tenant.status != "archived")
            .group_by(Tenant.parent_id)).all())
        out.update({c: sums.get(c) for c in counties})
    return out


def ranking(parent: Tenant, period: Period, actor_id: int | None, settings: dict | None = None) -> Ranking:
    """The ranking table of `parent`'s streets (or counties) for `period`, with the change since
    the period before, judged by the same settings."""
    settings = settings or settings_of(parent)
    tenants = compared(parent)
    previous = period.previous()
    rows = _rows_of(tenants, [period.key, previous.key], reason=f"benchmarking {period.key}", actor_id=actor_id,
                    acting=parent)
    households = households_of(tenants)

    def lines(key):
        return [Line(t.id, t.slug, t.name, households.get(t.id), rows.get((t.id, key)) or rollups._empty())
                for t in tenants]

    now, before = lines(period.key), lines(previous.key)
    rank(now, settings)
    rank(before, settings)
    earlier = {ln.tenant_id: ln for ln in before}
    for line in now:
        line.previous_rank, line.previous_score = earlier[line.tenant_id].rank, earlier[line.tenant_id].score
    as_of = max((f["as_of"] for (_t, k), f in rows.items() if k == period.key), default=None)
    return Ranking(period, settings, now, as_of)


def trend(parent: Tenant, period: Period, actor_id: int | None, count: int = 12,
          settings: dict | None = None, acting: Tenant | None = None) -> dict:
    """Per measure, over the `count` periods up to `period`: the quartiles of the compared
    tenants' values, for the trend charts. {measure: [(period, q1, median, q3), ...]}
    A street reading its county's distribution passes itself as `acting` (the read is audited
    there) and its county's settings (which it cannot read from its own scope)."""
    return trend_lines(parent, period, actor_id, count, settings, acting)[0]


def trend_lines(parent: Tenant, period: Period, actor_id: int | None, count: int = 12,
                settings: dict | None = None, acting: Tenant | None = None) -> tuple[dict, dict]:
    """`trend`, and each compared tenant's own values from the same read:
    {measure: [(slug, name, [(period, value), ...]), ...]}. A value short of its sample is
    neither in the quartiles nor on its tenant's line."""
    settings = settings or settings_of(parent)
    periods = recent(period, count)
    tenants = compared(parent)
    rows = _rows_of(tenants, [p.key for p in periods], reason=f"benchmark trend {period.key}",
                    actor_id=actor_id, acting=acting or parent)
    households = households_of(tenants)

    def value(m, t, p):
        fig = rows.get((t.id, p.key))
        if fig is None or short_sample(m, fig, settings) is not None:
            return None
        return m.value(fig, settings, households.get(t.id))

    bands, lines = {}, {}
    for m in MEASURES:
        lines[m.key] = [(t.slug, t.name, [(p, value(m, t, p)) for p in periods]) for t in tenants]
        bands[m.key] = [(p, *quartiles([s[i][1] for _slug, _name, s in lines[m.key] if s[i][1] is not None]))
                        for i, p in enumerate(periods)]
    return bands, lines


def own_trend(tenant: Tenant, period: Period, settings: dict, count: int = 12) -> dict:
    """The tenant's own values over the `count` periods up to `period`, read in its own scope.
    {measure: [(period, value), ...]}"""
    periods = recent(period, count)
    rows = {r.period: rollups.figures(r) for r in db.scalars(select(Rollup).where(
        Rollup.period.in_([p.key for p in periods])))}
    return {m.key: [(p, m.value(rows[p.key], settings, tenant.households) if p.key in rows else None)
                    for p in periods] for m in MEASURES}


def quartiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, med, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, med, q3


@dataclass
class Standing:
    """A street's figures against its county's distribution."""

    period: Period
    own: Line
    settings: dict
    distribution: dict  # measure → (q1, median, q3)
    others: list[Line] | None  # with names, if the county shows them; else None
    streets: int
    ranked: int = 0  # of them, how many are ranked


def standing(street: Tenant, period: Period, actor_id: int | None) -> Standing:
    """The street's own row and, from the county's streets, only the quartiles per measure (and
    the other streets' names and figures only if the county chose to show them)."""
    county = street.parent
    settings = settings_for_street(street, actor_id)
    tenants = compared(county)
    rows = _rows_of(tenants, [period.key], reason=f"benchmark standing {period.key}", actor_id=actor_id,
                    acting=street)
    households = households_of(tenants)
    lines = [Line(t.id, t.slug, t.name, households.get(t.id), rows.get((t.id, period.key)) or rollups._empty())
             for t in tenants]
    rank(lines, settings)
    own = next(ln for ln in lines if ln.tenant_id == street.id)
    dist = {m.key: quartiles([ln.values[m.key] for ln in lines if ln.values[m.key] is not None
                              and m.key not in ln.thin]) for m in MEASURES}
    return Standing(period, own, settings, dist, lines if settings["show_names"] else None, len(lines),
                    sum(1 for ln in lines if ln.rank is not None))


# ---------------------------------------------------------------- publishing

def publish(parent: Tenant, actor_id: int | None, period: Period, title: str = "") -> PublishedRanking:
    """Freeze the ranking as it reads now, with the settings and the words of every measure."""
    title = (title or "").strip() or f"{parent.name}{period.label}对标排名"
    if len(title) > 120:
        raise Refused("标题最多 120 个字符", "title", "validation_error")
    table = ranking(parent, period, actor_id)
    if not any(ln.figures.get("collected") for ln in table.lines):
        raise Refused(f"{period.label}还没有任何议题数据，不能发布", "period", "validation_error")
    settings = {k: v for k, v in table.settings.items() if k != "updated_at"}
    # Publishing twice at once (a double click): the parent's row queues the second on PostgreSQL,
    # and the unique number refuses it anywhere else.
    db.execute(select(Tenant.id).where(Tenant.id == parent.id).with_for_update())
    number = (db.scalar(select(func.max(PublishedRanking.number))) or 0) + 1
    published = PublishedRanking(tenant_id=parent.id, number=number, period=period.key, title=title, settings=settings,
                      definitions=definitions(settings), rows=[_frozen(ln) for ln in table.lines],
                      as_of=table.as_of or utcnow(), published_by=actor_id)
    try:
        with db.begin_nested():
            db.add(published)
    except IntegrityError:
        raise Refused("刚有人同时发布了排名，请刷新后查看", "period", "conflict") from None
    record(parent.id, actor_id, "benchmark.publish", period.key, {"number": number, "title": title})
    db.flush()
    return published


def _frozen(line: Line) -> dict:
    fig = {k: v for k, v in line.figures.items() if k not in ("durations", "active_members", "as_of")}
    return {"tenant_id": line.tenant_id, "slug": line.slug, "name": line.name, "households": line.households,
            "figures": fig, "values": line.values, "score": line.score, "rank": line.rank, "reason": line.reason,
            "thin": line.thin, "previous_rank": line.previous_rank, "change": line.change}


def published_rankings(parent: Tenant) -> list[PublishedRanking]:
    return list(db.scalars(select(PublishedRanking).order_by(PublishedRanking.number.desc())))


def find_published_ranking(number: int) -> PublishedRanking | None:
    """One of the current tenant's published rankings, by its number."""
    return db.scalar(select(PublishedRanking).where(PublishedRanking.number == number))


# TEMPORARY (issue 11): the old names, until api/benchmarks.py calls the new ones.
