"""The member ledger (履职档案) through the API: the street's members with their counts and points
for a period, and one member's dated activities. Registered on the API blueprint (api/views.py imports it)."""
from __future__ import annotations

from datetime import timedelta

from flask import g, request
from marshmallow import Schema, fields

from ..ledger import operations as ops
from ..benchmarks import periods
from ..benchmarks.periods import of, parse
from ..core.permissions import require
from ..roster.duty import local_today
from .base import answer, bp, found, operation
from ..topics import ratings
from .roster import street_api
from .schemas import Int64

PERIOD_QUERY = [{"name": "period", "in": "query", "schema": {"type": "string", "example": "2026-Q4",
                                                             "pattern": periods.PATTERN},
                 "description": "a month (2026-11), a quarter (2026-Q4) or a year (2026); default: the current year"}]
SORT_QUERY = [{"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(ops.SORTS)},
               "description": "most first (points, the default, or a count); `name` alphabetically"}]


COUNTED = (*ops.KINDS, "invited", "rated", "rated_basic")


class PeriodSchema(Schema):
    key = fields.String(metadata={"example": "2026-Q4"})
    kind = fields.String(metadata={"enum": ["month", "quarter", "year"]})
    label = fields.String(metadata={"example": "2026年第四季度"})
    first_day = fields.Date()
    last_day = fields.Date()


class RuleSchema(Schema):
    kind = fields.String(metadata={"enum": list(ops.KINDS)})
    label = fields.String()
    points = Int64(metadata={"description": "points per activity, set by the county"})
    unit = fields.String()
    rule = fields.String(metadata={"description": "what is counted"})
    note = fields.String(allow_none=True)


class CountsSchema(Schema):
    claim = Int64(metadata={"description": "topics claimed or invited to in the period"})
    invited = Int64(metadata={"description": "of those, invitations"})
    close = Int64(metadata={"description": "topics the member claimed, closed as done in the period"})
    attend = Int64(metadata={"description": "held meetings attended"})
    convene = Int64(metadata={"description": "held meetings convened"})
    duty_kept = Int64()
    duty_missed = Int64()
    rated = Int64(metadata={"description": "claimed topics whose final valid rating fell in the period"})
    rated_satisfied = Int64()
    rated_unsatisfied = Int64()
    rated_basic = Int64(metadata={"description": "基本满意 where the county does not count it as satisfied"})


class EntrySchema(Schema):
    person_id = fields.UUID(metadata={"description": "the member on the roster: /ledger/{person_id}, "
                                                     "/people/{person_id}"})
    user_id = Int64(allow_none=True, metadata={"description": "the member's login, if they have one"})
    name = fields.String()
    sector = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    community = fields.String(allow_none=True)
    on_roster = fields.Boolean(metadata={"description": "false: deactivated, listed for what they did"})
    active = fields.Boolean(metadata={"description": "did something the participation measure counts"})
    counts = fields.Nested(CountsSchema)
    score_avg = fields.Float(allow_none=True, metadata={"description": "mean 1–5 score of those ratings"})
    points = Int64()


class LedgerSchema(Schema):
    period = fields.Nested(PeriodSchema)
    rules = fields.List(fields.Nested(RuleSchema))
    basic_counts = fields.Boolean()
    members_total = Int64()
    members_active = Int64()
    items = fields.List(fields.Nested(EntrySchema))


class ActivitySchema(Schema):
    kind = fields.String(metadata={"enum": [*ops.KINDS, "rated_basic"]})
    day = fields.Date(metadata={"description": "in the street's time zone"})
    at = fields.DateTime(allow_none=True, metadata={"description": "UTC; shifts have a day only"})
    points = Int64()
    topic_number = Int64(allow_none=True)
    topic_title = fields.String(allow_none=True)
    invited = fields.Boolean()
    level = fields.String(allow_none=True, metadata={"enum": list(ratings.LEVELS)})
    score = Int64(allow_none=True)
    meeting_number = Int64(allow_none=True)
    meeting_title = fields.String(allow_none=True)
    station = fields.String(allow_none=True)


class MemberLedgerSchema(Schema):
    period = fields.Nested(PeriodSchema)
    rules = fields.List(fields.Nested(RuleSchema))
    basic_counts = fields.Boolean()
    entry = fields.Nested(EntrySchema)
    activities = fields.List(fields.Nested(ActivitySchema))


def _period():
    raw = request.args.get("period")
    return parse(raw) if raw else of(local_today(g.tenant), g.tenant.timezone, "year")


def _period_json(p):
    return {"key": p.key, "kind": p.kind, "label": p.label, "first_day": p.start_day(),
            "last_day": p.end_day() - timedelta(days=1)}


def _entry_json(e: ops.Entry) -> dict:
    p = e.person
    return {"person_id": p.id, "user_id": p.user_id, "name": p.name, "sector": p.sector, "level": p.level,
            "community": p.community, "on_roster": p.active, "active": e.active,
            "counts": {k: e.counts[k] for k in COUNTED},
            "score_avg": e.score_avg, "points": e.points}


@bp.get("/t/<slug>/ledger")
@operation("/t/{slug}/ledger", "get", "The member ledger (履职档案): every member's counts and points for a period, "
           "most points first", response=LedgerSchema, query=PERIOD_QUERY + SORT_QUERY, subject="period",
           answers=(422,))
@require("ledger.view")
@street_api
def ledger():
    period = _period()
    book = ops.ledger(g.tenant, period, g.api_actor)
    sort = request.args.get("sort") if request.args.get("sort") in ops.SORTS else "points"
    return answer(LedgerSchema, {
        "period": _period_json(period), "rules": ops.scale_words(book.scale, book.basic_counts),
        "basic_counts": book.basic_counts, "members_total": book.members_total,
        "members_active": book.members_active,
        "items": [_entry_json(e) for e in ops.sorted_entries(book.entries, sort)]})


@bp.get("/t/<slug>/ledger/<uuid:person_id>")
@operation("/t/{slug}/ledger/{person_id}", "get", "One member's ledger: the counts and points, and every activity "
           "of the period with its date and points", response=MemberLedgerSchema, query=PERIOD_QUERY,
           subject="period", answers=(422,))
@require("ledger.view")
@street_api
def member_ledger(person_id):
    person = found(ops.find_member(person_id), "member")
    period = _period()
    points, basic = scale = ops.scale_of(g.tenant, g.api_actor)
    activities = ops.member_activities(g.tenant, person, period, scale=scale)
    entry = ops.summary(person, activities)
    return answer(MemberLedgerSchema, {
        "period": _period_json(period), "rules": ops.scale_words(points, basic), "basic_counts": basic,
        "entry": _entry_json(entry), "activities": activities})
