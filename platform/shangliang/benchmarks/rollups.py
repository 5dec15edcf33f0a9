"""Rollups: each tenant's figures per period, computed in the database by set-based queries.

A street's months come from its topics, meetings and duty shifts (`compute_months`: one grouped
statement each, for any number of streets at once). Its quarters and years, and every county
row, are derived from month rows (`derive`), so that a new transition costs the month it belongs
to plus two sums, never a scan of the year. `refresh` brings one street up to date with what
changed since its last run; `rebuild` recomputes everything.

Topics belong to the month (in the tenant's time zone) in which they entered intake. Whether a
deadline is "due" is judged at `as_of`, which each row records; a deadline passing is a change
like any other, picked up by the next run.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, case, delete, func, or_, select, true, union_all

from ..core.db import db
from ..core.tenancy import cross_tenant, tenant_context
from ..meetings.models import Meeting, MeetingParticipant
from ..roster.models import DutyShift, Person
from ..tenants.models import Tenant
from ..topics.models import Topic, TopicEvent
from . import channels, oversight
from .changes import all_months, changed_months
from ..topics.ratings import (LEVELS, RATE, SATISFIED_LEVELS, UNSATISFIED, decides_sql, level_sql, solved_sql,
                              valid_sql)
from .models import Rollup, RollupState
from .periods import Period, month_range, of
from .sql import (count_where, hours_between, is_postgres, joined_values, local_time, month_number, within_month_days,
                  within_months)

# A run looks this far before its last one: a transaction still open then commits its rows with
# earlier time stamps, and must not be missed.
LAG = timedelta(minutes=15)
CLOSING = ("close", "close_out_of_scope")
LATER_PHASES = ("execution", "evaluation", "closure")
RATED = tuple(f"rated_{level}" for level in SATISFIED_LEVELS)  # a count per level; unsatisfied is the rest
COUNTS = ("collected", "response_due", "responded_on_time", "completion_due", "completed_on_time", "closed",
          "closed_rated", "closed_reopened", "rated", "rated_solved", *RATED, "consulted", "adopted", "meetings_held",
          *oversight.COUNTS)
EXCLUSIONS = {"response": ("no_time_limit", "not_yet_due"),
              "completion": ("out_of_scope", "no_time_limit", "not_yet_due"),
              "rating": ("invalid",)}
BATCH = 100  # streets per statement in a rebuild
PERCENTILES = {"response_p50_h": ("response", 0.5), "response_p90_h": ("response", 0.9),
               "close_p50_h": ("close", 0.5), "close_p90_h": ("close", 0.9)}


# ---------------------------------------------------------------- months, from the raw rows

def compute_months(tenant_ids: list[int], tz: str, months: list[Period], as_of: datetime) -> dict:
    """{(tenant_id, 'YYYY-MM'): figures} for the given streets (all in zone `tz`) and months.
    Runs in a scope that can read those streets."""
    keys = {m.year * 100 + m.n: m.key for m in months}
    out: dict = {(t, k): _empty() for t in tenant_ids for k in keys.values()}
    if not months:
        return out
    for (tid, month), fig in _topic_figures(tenant_ids, tz, months, as_of).items():
        if month in keys:
            out[(tid, keys[month])].update(fig)
    for (tid, month), counts in channels.per_month(tenant_ids, tz, months).items():
        if month in keys:
            out[(tid, keys[month])]["channels"] = counts
    for tid, month, held in _meetings_held(tenant_ids, tz, months):
        if month in keys:
            out[(tid, keys[month])]["meetings_held"] = held
    active = _active_members(tenant_ids, tz, months)
    totals = dict(db.execute(select(Person.tenant_id, func.count()).where(
        Person.tenant_id.in_(tenant_ids), Person.kind == "member", Person.active.is_(True))
        .group_by(Person.tenant_id)).all())
    for (tid, key), fig in out.items():
        month = int(key.replace("-", ""))
        fig["active_members"] = sorted(active.get((tid, month), ()))
        fig["members_active"], fig["members_total"] = len(fig["active_members"]), totals.get(tid, 0)
        fig.update(percentiles(fig["durations"]))
    return out


def _empty() -> dict:
    return {**{c: 0 for c in COUNTS}, "excluded": {}, "channels": {}, "durations": {"response": [], "close": []},
            "active_members": [], "members_active": 0, "members_total": 0}


class TopicFlags:
    """Per topic entered in the given months: every condition a measure counts, by name (the count
    columns of Rollup; `x_<measure>_<reason>` for exclusions), the hours measured, and the FROM
    clause they need. Summed per month for rollups; listed topic by topic for a drill-down."""

    def __init__(self, tenant_ids, tz, months, as_of):
        T, E = Topic, TopicEvent
        leaves_intake = and_(E.phase_from == "intake", or_(E.phase_to.is_(None), E.phase_to != "intake"))
        # The topic's last rating, in one pass over its log: each rating packed after its seq, so the
        # greatest is the last (a join back to the rating's row misleads planners under RLS).
        # The level's place in LEVELS takes two bits, solved and valid one each (topics/ratings.py reads them).
        level = level_sql(E.data)
        packed = (E.seq * 16 + case(*[(level == name, i * 4) for i, name in enumerate(LEVELS)],
                                    else_=LEVELS.index(UNSATISFIED) * 4)
                  + case((solved_sql(E.data, level), 2), else_=0) + case((valid_sql(E.data), 1), else_=0))
        per_topic = (
            select(T.tenant_id, T.id, T.created_at, T.response_due_at, T.deadline_at,
                   func.coalesce(T.closed_as, "").label("closed_as"),
                   func.min(case((leaves_intake, E.at))).label("responded_at"),
                   func.max(case((E.action.in_(CLOSING), E.at))).label("closed_at"),
                   func.max(case((E.action == "reopen", 1), else_=0)).label("reopened"),
                   func.min(case((E.action == "consult", E.seq))).label("consult_seq"),
                   func.max(case((and_(E.action == "advance", E.phase_to.in_(LATER_PHASES)), E.seq)))
                   .label("adopt_seq"),
                   # the deciding party's rating (the residents', unless the step names another)
                   func.max(case((and_(E.action == RATE, decides_sql(E.data)), packed))).label("rating"),
                   *oversight.per_topic(E, level))
            .join(E, and_(E.tenant_id == T.tenant_id, E.topic_id == T.id))
            .where(T.tenant_id.in_(tenant_ids), within_months(months, tz, T.created_at))
            .group_by(T.tenant_id, T.id, T.created_at, T.response_due_at, T.deadline_at, T.closed_as)
            .subquery())
        t = self.topic = per_topic.c
        self.from_ = per_topic
        bits = t.rating % 16
        self.level = case(*[(bits // 4 == i, name) for i, name in enumerate(LEVELS)], else_=UNSATISFIED)
        self.solved = (bits // 2) % 2 == 1
        has_rating = t.rating.is_not(None)
        valid = and_(has_rating, bits % 2 == 1)
        rated = {f"rated_{name}": and_(valid, bits // 4 == i) for i, name in enumerate(LEVELS)}
        done, out_of_scope = t.closed_as == "done", t.closed_as == "out_of_scope"
        responded = t.responded_at.is_not(None)
        response_due = and_(t.response_due_at.is_not(None), or_(responded, t.response_due_at <= as_of))
        completion_due = and_(t.deadline_at.is_not(None), ~out_of_scope, or_(done, t.deadline_at <= as_of))
        consulted = t.consult_seq.is_not(None)
        self.month = month_number(local_time(t.created_at, tz))
        self.flags = {
            "collected": true(),
            "response_due": response_due,
            "responded_on_time": and_(response_due, responded, t.responded_at <= t.response_due_at),
            "completion_due": completion_due,
            "completed_on_time": and_(completion_due, done, t.closed_at <= t.deadline_at),
            "closed": done, "closed_rated": and_(done, valid), "closed_reopened": and_(done, t.reopened == 1),
            "rated": valid, "rated_solved": and_(valid, self.solved),
            **{name: rated[name] for name in RATED},
            "consulted": consulted, "adopted": and_(consulted, t.adopt_seq > t.consult_seq),
            "x_response_no_time_limit": t.response_due_at.is_(None),
            "x_response_not_yet_due": and_(t.response_due_at.is_not(None), ~responded, t.response_due_at > as_of),
            "x_completion_out_of_scope": out_of_scope,
            "x_completion_no_time_limit": and_(t.deadline_at.is_(None), ~out_of_scope),
            "x_completion_not_yet_due": and_(t.deadline_at.is_not(None), ~out_of_scope, ~done,
                                             t.deadline_at > as_of),
            "x_rating_invalid": and_(has_rating, ~valid),
            **oversight.flags(t, done),
        }
        self.sums = oversight.sums(t)
        self.hours = {"response": case((responded, hours_between(t.created_at, t.responded_at))),
                      "close": case((done, hours_between(t.created_at, t.closed_at)))}


def _topic_figures(tenant_ids, tz, months, as_of) -> dict:
    q = TopicFlags(tenant_ids, tz, months, as_of)
    stmt = (select(q.topic.tenant_id, q.month.label("month"),
                   *[count_where(cond).label(name) for name, cond in q.flags.items()],
                   *[total.label(name) for name, total in q.sums.items()],
                   *[joined_values(h).label(f"d_{which}") for which, h in q.hours.items()])
            .select_from(q.from_).group_by(q.topic.tenant_id, q.month))
    out = {}
    for row in db.execute(stmt).mappings():
        fig = {c: int(row[c] or 0) for c in COUNTS if c != "meetings_held"}
        fig["excluded"] = {m: {r: int(row[f"x_{m}_{r}"]) for r in reasons if row[f"x_{m}_{r}"]}
                           for m, reasons in EXCLUSIONS.items()}
        fig["excluded"] = {m: v for m, v in fig["excluded"].items() if v}
        fig["durations"] = {w: _split(row[f"d_{w}"]) for w in q.hours}
        out[(row["tenant_id"], int(row["month"]))] = fig
    return out


def _split(text) -> list[float]:
    return sorted(float(x) for x in str(text).split(",")) if text else []


def _meetings_held(tenant_ids, tz, months):
    month = month_number(local_time(Meeting.starts_at, tz))
    return db.execute(select(Meeting.tenant_id, month, func.count())
                      .where(Meeting.tenant_id.in_(tenant_ids), Meeting.status == "held",
                             within_months(months, tz, Meeting.starts_at))
                      .group_by(Meeting.tenant_id, month)).all()


def _active_members(tenant_ids, tz, months) -> dict:
    """{(tenant_id, YYYYMM): {person ids}}: members on the roster who did something that month."""
    E, P, M, MP, D = TopicEvent, Person, Meeting, MeetingParticipant, DutyShift
    member = and_(P.kind == "member", P.active.is_(True))
    taker = case((E.action == "claim", E.actor_id), else_=E.data["user_id"].as_integer())
    # Who took topics up, one row per user and month, before meeting the roster: joined on the
    # CASE directly, the planner cannot estimate the events and loops over them row by row.
    takers = (select(E.tenant_id, taker.label("user_id"), month_number(local_time(E.at, tz)).label("month"))
              .where(E.tenant_id.in_(tenant_ids), E.action.in_(("claim", "invite")), within_months(months, tz, E.at))
              .distinct().subquery())
    claims = (select(P.tenant_id, P.id.label("person_id"), takers.c.month)
              .join(takers, and_(takers.c.tenant_id == P.tenant_id, takers.c.user_id == P.user_id))
              .where(P.tenant_id.in_(tenant_ids), member))
    meetings = (select(MP.tenant_id, MP.person_id, month_number(local_time(M.starts_at, tz)))
                .join(M, and_(M.tenant_id == MP.tenant_id, M.id == MP.meeting_id))
                .join(P, and_(P.tenant_id == MP.tenant_id, P.id == MP.person_id))
                .where(MP.tenant_id.in_(tenant_ids), M.status == "held",
                       or_(MP.attended.is_(True), MP.convener.is_(True)), member,
                       within_months(months, tz, M.starts_at)))
    duty = (select(D.tenant_id, D.person_id, month_number(D.day))
            .join(P, and_(P.tenant_id == D.tenant_id, P.id == D.person_id))
            .where(D.tenant_id.in_(tenant_ids), D.status == "kept", member, within_month_days(months, D.day)))
    every = union_all(claims, meetings, duty).subquery()
    out: dict = defaultdict(set)
    for tid, person, month in db.execute(select(every.c.tenant_id, every.c.person_id, every.c.month).distinct()):
        out[(tid, int(month))].add(str(person))
    return out


def percentiles(durations: dict) -> dict:
    """Nearest-rank percentiles (the value at rank ⌈p·n⌉), so every figure is one real topic's."""
    out = {}
    for name, (which, p) in PERCENTILES.items():
        values = durations.get(which) or []
        out[name] = values[math.ceil(p * len(values)) - 1] if values else None
    return out


# ---------------------------------------------------------------- quarters, years and counties

def derive(parts: list[dict], *, distinct_members: bool) -> dict:
    """One row's figures from the rows it is made of: months into a quarter or year (the same
    roster: members are counted once), or streets into their county (members add up)."""
    fig = _empty()
    for p in parts:
        for c in COUNTS:
            fig[c] += p[c]
        for m, reasons in (p["excluded"] or {}).items():
            for r, n in reasons.items():
                fig["excluded"].setdefault(m, {})[r] = fig["excluded"].get(m, {}).get(r, 0) + n
        for which in ("response", "close"):
            fig["durations"][which] += p["durations"].get(which, [])
    for which in ("response", "close"):
        fig["durations"][which].sort()
    fig["channels"] = channels.added(p.get("channels") for p in parts)
    if distinct_members:
        fig["active_members"] = sorted(set().union(*[p["active_members"] for p in parts]) if parts else set())
        fig["members_active"] = len(fig["active_members"])
        fig["members_total"] = max((p["members_total"] for p in parts), default=0)
    else:
        fig["members_active"] = sum(p["members_active"] for p in parts)
        fig["members_total"] = sum(p["members_total"] for p in parts)
    fig.update(percentiles(fig["durations"]))
    return fig


FIGURES = (*COUNTS, "excluded", "channels", "durations", "active_members", "members_active", "members_total",
           *PERCENTILES)


SUMMARY = tuple(c for c in FIGURES if c not in ("durations", "active_members"))


def figures(row: Rollup, summary: bool = False) -> dict:
    """A row's figures; `summary`: without the durations and member ids, which only deriving
    needs (pages load rows with those columns deferred)."""
    return {c: getattr(row, c) for c in (SUMMARY if summary else FIGURES)}


def _write(tenant_id: int, rows: dict[Period, dict], as_of: datetime) -> None:
    """Replace the tenant's rows of these periods (inside the tenant's scope)."""
    if not rows:
        return
    db.execute(delete(Rollup).where(Rollup.period.in_([p.key for p in rows])))
    db.add_all([Rollup(tenant_id=tenant_id, period=p.key, kind=p.kind, as_of=as_of, **fig) for p, fig in rows.items()])
    db.flush()


def _derive_containing(tenant_id: int, months: list[Period], as_of: datetime) -> list[Period]:
    """Rewrite the quarters and years holding `months` from the tenant's month rows."""
    wanted = sorted({p for m in months for p in m.containing()[1:]})
    all_months = sorted({m for p in wanted for m in p.months()})
    have = {r.period: figures(r) for r in db.scalars(select(Rollup).where(
        Rollup.period.in_([m.key for m in all_months])))}
    _write(tenant_id, {p: derive([have[m.key] for m in p.months() if m.key in have], distinct_members=True)
                       for p in wanted}, as_of)
    return wanted



def refresh(tenant: Tenant, as_of: datetime) -> list[Period]:
    """Bring one street's rows up to `as_of` (inside its scope). Returns the periods rewritten."""
    q = select(RollupState)
    state = db.scalar(q.with_for_update() if is_postgres() else q)  # one run per street at a time
    tz = tenant.timezone
    # With no rows yet (a first run, or the street's first activity), every month is computed.
    if state is None or db.scalar(select(Rollup.period).limit(1)) is None:
        months = None
    else:
        months = changed_months(tenant, state.refreshed_at - LAG, as_of)
    if months is None:
        months = all_months(tenant, as_of)
    elif (last := of(state.refreshed_at, tz)) < (now := of(as_of, tz)):
        months = sorted(set(months) | set(month_range(last, now)))  # a month began: it gets its row too
    rows = compute_months([tenant.id], tz, months, as_of)
    _write(tenant.id, {Period(int(k[:4]), "month", int(k[5:])): fig for (_t, k), fig in rows.items()}, as_of)
    derived = _derive_containing(tenant.id, months, as_of) if months else []
    if state is None:
        db.add(RollupState(tenant_id=tenant.id, refreshed_at=as_of))
    else:
        state.refreshed_at = as_of
    db.flush()
    return months + derived


def derive_county(county: Tenant, periods: list[Period], as_of: datetime, *, replace_all: bool = False) -> None:
    """A county's rows from its streets' rows of the same periods (inside the county's scope):
    aggregate rows are all that cross the boundary, through the audited path. `replace_all`:
    these periods are all the county has; other rows go."""
    streets = list(db.scalars(select(Tenant.id).where(Tenant.parent_id == county.id, Tenant.kind == "street",
                                                      Tenant.status != "archived")))
    keys = sorted({p.key for p in periods})
    parts: dict = defaultdict(list)
    if streets and keys:  # read before writing: the audit row of the read commits on its own
        with cross_tenant(streets, reason="benchmark rollup", actor_id=None, acting_tenant_id=county.id):
            for row in db.scalars(select(Rollup).where(Rollup.period.in_(keys))):
                parts[row.period].append(figures(row))
    if replace_all:
        db.execute(delete(Rollup).where(Rollup.period.not_in(keys)))
    _write(county.id, {p: derive(parts.get(p.key, []), distinct_members=False) for p in periods}, as_of)


# ---------------------------------------------------------------- everything

def rebuild(as_of: datetime, *, tenant_ids: list[int] | None = None, acting_tenant_id: int,
            commit: Callable[[], object]) -> dict:
    """Recompute every street's rows, then every county's. Set-based: one statement per part for a
    county's streets at a time (of one zone), not one per street; not all streets at once either,
    since PostgreSQL checks each row against the scope's list of tenants, which would then be
    every street. Returns counts of what was written.

    `commit` is the caller's commit point (the CLI's, the demo loader's), called once each
    street's and each county's rows are written: the next audited read writes its audit row in a
    transaction beside ours, which SQLite (one writer at a time) makes wait for ours to end."""
    streets = list(db.scalars(select(Tenant).where(Tenant.kind == "street", Tenant.status != "archived",
                                                   *([Tenant.id.in_(tenant_ids)] if tenant_ids else []))
                              .order_by(Tenant.parent_id, Tenant.id)))
    batches: dict[tuple, list[Tenant]] = defaultdict(list)
    seen: Counter = Counter()
    for s in streets:
        batches[(s.timezone, s.parent_id, seen[(s.timezone, s.parent_id)] // BATCH)].append(s)
        seen[(s.timezone, s.parent_id)] += 1
    written = {"streets": 0, "rows": 0, "counties": 0}
    periods_of_county: dict[int, set] = defaultdict(set)
    for (tz, _county, _n), group in batches.items():
        ids = [s.id for s in group]
        with cross_tenant(ids, reason="benchmark rebuild", actor_id=None, acting_tenant_id=acting_tenant_id):
            first = _first_months(ids, tz)
            span = month_range(min(first.values()), of(as_of, tz)) if first else []
            rows = compute_months(ids, tz, span, as_of)
        for street in group:
            if street.id not in first:
                continue
            months = month_range(first[street.id], of(as_of, tz))
            with tenant_context(street.id):
                db.execute(delete(Rollup))
                _write(street.id, {m: rows[(street.id, m.key)] for m in months}, as_of)
                derived = _derive_containing(street.id, months, as_of)
                db.execute(delete(RollupState))
                db.add(RollupState(tenant_id=street.id, refreshed_at=as_of))
                commit()
            written["streets"] += 1
            written["rows"] += len(months) + len(derived)
            periods_of_county[street.parent_id] |= set(months) | set(derived)
    for county_id, periods in periods_of_county.items():
        with tenant_context(county_id):
            derive_county(db.get(Tenant, county_id), sorted(periods), as_of, replace_all=True)
            commit()
        written["counties"] += 1
    return written


def _first_months(ids: list[int], tz: str) -> dict[int, Period]:
    """Each street's first month with a topic, a meeting or a kept shift."""
    firsts: dict[int, list[int]] = defaultdict(list)
    for model, col in ((Topic, Topic.created_at), (Meeting, Meeting.starts_at)):
        for tid, first in db.execute(select(model.tenant_id, func.min(month_number(local_time(col, tz))))
                                     .where(model.tenant_id.in_(ids)).group_by(model.tenant_id)):
            firsts[tid].append(int(first))
    for tid, first in db.execute(select(DutyShift.tenant_id, func.min(month_number(DutyShift.day)))
                                 .where(DutyShift.tenant_id.in_(ids)).group_by(DutyShift.tenant_id)):
        firsts[tid].append(int(first))
    return {tid: Period(min(v) // 100, "month", min(v) % 100) for tid, v in firsts.items()}
