"""Benchmarking (对标) through the API: a county's (or the platform's) ranking and a street's
standing for a period, published rankings (read and publish), and the county's settings.
Registered on the API blueprint (api/views.py imports it)."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from ..benchmarks import operations as ops
from ..benchmarks import periods, reports
from ..benchmarks.measures import DEFAULT_POINTS, MEASURES
from ..core.permissions import can, require
from .base import answer, body, bp, found, operation, stop
from .schemas import Int32, Int64

PERIOD_QUERY = [{"name": "period", "in": "query", "schema": {"type": "string", "example": "2026-11",
                                                             "pattern": periods.PATTERN},
                 "description": "a month (2026-11), a quarter (2026-Q4) or a year (2026); default: the current month"}]
WEIGHABLE = [m.key for m in MEASURES if m.weighable]


# ---------------------------------------------------------------- schemas

class BenchmarkPeriodSchema(Schema):
    key = fields.String(metadata={"example": "2026-Q4"})
    kind = fields.String(metadata={"enum": list(periods.KINDS)})
    label = fields.String(metadata={"example": "2026年第四季度"})


class MeasureDefinitionSchema(Schema):
    key = fields.String(metadata={"enum": [m.key for m in MEASURES]})
    name = fields.String(metadata={"example": "响应率"})
    en = fields.String(metadata={"example": "Response rate"})
    unit = fields.String(metadata={"enum": ["rate", "count", "hours", "per_10k", "score"]})
    formula = fields.String(metadata={"description": "the definition in words, as the ranking used it"})
    higher_is_better = fields.Boolean()
    weighable = fields.Boolean(metadata={"description": "may carry a weight in the composite score"})


class BenchmarkSettingsSchema(Schema):
    weights = fields.Dict(keys=fields.String(validate=validate.OneOf(WEIGHABLE)),
                          values=Int64(validate=validate.Range(0, 100)),
                          metadata={"description": "measure → percent of the composite score; the percents sum "
                                                   "to 100", "example": {"response_rate": 30, "resolution_rate": 35,
                                                                         "satisfaction_rate": 35}})
    min_topics = Int64(validate=validate.Range(0, 100_000),
                                metadata={"description": "fewer topics in the period: shown, not ranked"})
    min_denominator = Int64(validate=validate.Range(0, 1000),
                            metadata={"description": "a rate or mean score with a smaller denominator is shown, "
                                                     "marked, and neither compared nor counted in the score"})
    measures = fields.List(fields.String(validate=validate.OneOf([m.key for m in MEASURES])),
                           metadata={"description": "the measures shown (every weighted one among them)"})
    basic_counts = fields.Boolean(metadata={"description": "基本满意 counts as satisfied"})
    show_names = fields.Boolean(metadata={"description": "streets see each other's names and figures"})
    points = fields.Dict(keys=fields.String(validate=validate.OneOf(list(DEFAULT_POINTS))),
                         values=Int64(validate=validate.Range(-100, 100)),
                         metadata={"description": "member ledger: points per activity"})


class BenchmarkLineSchema(Schema):
    slug = fields.String()
    name = fields.String()
    households = Int64(allow_none=True)
    rank = Int64(allow_none=True, metadata={"description": "null: not ranked (see `reason`)"})
    tied = fields.Boolean(metadata={"description": "another line has the same rank (equal scores)"})
    score = fields.Float(allow_none=True, metadata={"description": "composite score, 0–100"})
    reason = fields.String(allow_none=True, metadata={"description": "why the line is not ranked"})
    previous_rank = Int64(allow_none=True)
    change = Int64(allow_none=True, metadata={"description": "places gained since the period before"})
    values = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                         metadata={"description": "measure → value (rates as fractions, durations in hours)"})
    figures = fields.Dict(keys=fields.String(), metadata={"description": "the counts the values are made of"})


class BenchmarkRankingSchema(Schema):
    view = fields.Constant("ranking")
    title = fields.String()
    period = fields.Nested(BenchmarkPeriodSchema)
    as_of = fields.DateTime(allow_none=True, metadata={"description": "the figures are as of this time"})
    settings = fields.Nested(BenchmarkSettingsSchema)
    definitions = fields.List(fields.Nested(MeasureDefinitionSchema))
    lines = fields.List(fields.Nested(BenchmarkLineSchema), attribute="rows",
                        metadata={"description": "ranked first, then those not ranked"})


class QuartilesSchema(Schema):
    q1 = fields.Float(allow_none=True)
    median = fields.Float(allow_none=True)
    q3 = fields.Float(allow_none=True)


class BenchmarkStandingSchema(Schema):
    view = fields.Constant("standing")
    period = fields.Nested(BenchmarkPeriodSchema)
    as_of = fields.DateTime(allow_none=True)
    streets = Int64(metadata={"description": "streets in the county"})
    ranked = Int64(metadata={"description": "of them, ranked"})
    own = fields.Nested(BenchmarkLineSchema)
    distribution = fields.Dict(keys=fields.String(), values=fields.Nested(QuartilesSchema),
                               metadata={"description": "measure → the county's streets' quartiles"})
    positions = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                            metadata={"description": "measure → top | better | equal | worse | bottom"})
    settings = fields.Nested(BenchmarkSettingsSchema)
    definitions = fields.List(fields.Nested(MeasureDefinitionSchema))
    others = fields.List(fields.Nested(BenchmarkLineSchema), allow_none=True,
                         metadata={"description": "every street of the county, only if the county shows names"})


class PublicationSummarySchema(Schema):
    number = Int32()
    title = fields.String()
    period = fields.String(metadata={"example": "2026-11"})
    as_of = fields.DateTime()
    published_at = fields.DateTime()
    published_by = fields.Function(lambda p: p.publisher.display_name if p.publisher else None, allow_none=True)
    published_by_id = Int64(attribute="published_by", allow_none=True,
                            metadata={"description": "the user id of whoever published it"})


class PublicationSchema(PublicationSummarySchema):
    settings = fields.Nested(BenchmarkSettingsSchema, metadata={"description": "as they were when published"})
    definitions = fields.List(fields.Nested(MeasureDefinitionSchema),
                              metadata={"description": "the words of each measure when published"})
    rows = fields.List(fields.Nested(BenchmarkLineSchema))


class PublishSchema(Schema):
    period = fields.String(required=True, metadata={"example": "2026-11"})
    title = fields.String(load_default="", validate=validate.Length(max=120))


PublicationList = Schema.from_dict({"items": fields.List(fields.Nested(PublicationSummarySchema))},
                                   name="PublicationList")


# ---------------------------------------------------------------- helpers

def _period():
    raw = request.args.get("period")
    return periods.parse(raw) if raw else reports.default_period(g.tenant)


def _standing_json(report: reports.StreetReport) -> dict:
    s = report.standing
    line = ops._frozen(s.own)
    return BenchmarkStandingSchema().dump({
        "period": s.period, "as_of": report.as_of, "streets": s.streets, "ranked": s.ranked,
        "own": {**line, "tied": False}, "settings": s.settings, "definitions": report.definitions,
        "distribution": {k: dict(zip(("q1", "median", "q3"), q)) for k, q in s.distribution.items()},
        "positions": report.positions, "others": report.others.rows if report.others else None})


def _comparing() -> None:
    """Rankings, publications and settings belong to counties and the platform."""
    if g.tenant.is_street:
        stop(403, "forbidden", "a street has its standing in its county; rankings belong to counties")


# ---------------------------------------------------------------- rankings and standings

@bp.get("/t/<slug>/benchmarks")
@operation("/t/{slug}/benchmarks", "get", "Benchmarking (对标) for a period: a county's (or the platform's) ranking "
           "of its streets (counties); for a street, its own figures against its county's quartiles",
           response={"oneOf": [BenchmarkRankingSchema, BenchmarkStandingSchema]}, query=PERIOD_QUERY,
           subject="benchmarks", answers=(422,))
@require("benchmarks.view")
def benchmarks():
    period = _period()
    actor = g.api_actor
    if g.tenant.is_street:
        return jsonify(_standing_json(reports.street_report(g.tenant, period, actor)))
    return answer(BenchmarkRankingSchema, reports.county_report(g.tenant, period, actor).table)


# ---------------------------------------------------------------- publications

@bp.get("/t/<slug>/benchmarks/publications")
@operation("/t/{slug}/benchmarks/publications", "get", "Published rankings, newest first", response=PublicationList)
@require("benchmarks.view")
def benchmark_publications():
    _comparing()
    return jsonify({"items": PublicationSummarySchema(many=True).dump(ops.published_rankings(g.tenant))})


@bp.post("/t/<slug>/benchmarks/publications")
@operation("/t/{slug}/benchmarks/publications", "post", "Publish the ranking of a period as it reads now: its rows, "
           "definitions and weights are kept and never recomputed", body=PublishSchema, response=PublicationSchema,
           status=201, subject="benchmarks", scope="manage")
@require("benchmarks.manage")
def benchmark_publish():
    _comparing()
    data = body(PublishSchema)
    pub = ops.publish(g.tenant, g.api_actor, periods.parse(data["period"]), data["title"])
    return answer(PublicationSchema, pub, 201)


@bp.get("/t/<slug>/benchmarks/publications/<int:number>")
@operation("/t/{slug}/benchmarks/publications/{number}", "get", "One published ranking, exactly as published",
           response=PublicationSchema)
@require("benchmarks.view")
def benchmark_publication(number: int):
    return answer(PublicationSchema, found(ops.find_published_ranking(number), "publication"))


# ---------------------------------------------------------------- settings

@bp.route("/t/<slug>/benchmarks/settings", methods=["GET", "PUT"])
@operation("/t/{slug}/benchmarks/settings", "get", "The settings rankings are made with (a street: its county's)",
           response=BenchmarkSettingsSchema)
@operation("/t/{slug}/benchmarks/settings", "put", "Change the settings; fields not sent keep their value. "
           "Refused with every wrong field named", body=BenchmarkSettingsSchema, response=BenchmarkSettingsSchema,
           subject="benchmarks", scope="manage")
@require("benchmarks.view")
def benchmark_settings():
    # One rule for both methods, so that a PUT is authorised like the GET before it is read.
    if request.method == "GET":
        settings = ops.settings_for_street(g.tenant, g.api_actor) if g.tenant.is_street else \
            ops.settings_of(g.tenant)
        return answer(BenchmarkSettingsSchema, settings)
    if not can("benchmarks.manage"):
        stop(403, "forbidden", "this token's role may not change the settings")
    _comparing()
    data = body(BenchmarkSettingsSchema)
    current = ops.settings_of(g.tenant)
    form = reports.settings_form({**current, **data, "points": {**current["points"], **data.get("points", {})}})
    return answer(BenchmarkSettingsSchema, ops.save_settings(g.tenant, g.api_actor, form))

