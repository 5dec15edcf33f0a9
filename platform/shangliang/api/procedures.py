"""The tenant's procedure (工作法) through the API: the version new topics enter now, the published
versions, and any of them by number (a topic names its own in `procedure_version`), each with every
step: its key (a topic's `step`, an action's `to`), names, phase, roles, evidence, time limit and
transitions. Versions never change once published."""
from __future__ import annotations

from flask import g, jsonify
from marshmallow import Schema, fields

from ..core.permissions import require
from ..procedures import operations as ops
from ..procedures.schema import ACTOR_ROLES, PHASES
from .base import answer, bp, found, operation
from .schemas import Int64


# ---------------------------------------------------------------- schemas

class NamesSchema(Schema):
    zh = fields.String()
    en = fields.String()


class TimeLimitSchema(Schema):
    hours = Int64(metadata={"description": "hours, counted round the clock"})
    working_days = Int64(metadata={"description": "working days in the tenant's time zone"})
    default = fields.Boolean(metadata={"description": "the template's default, not the practice's own figure"})


class TransitionSchema(Schema):
    kind = fields.String(metadata={"description": "the action that takes it (advance, reopen, escalate, "
                                                  "transfer, close_out_of_scope, …): `action` of POST …/actions"})
    to = fields.String(allow_none=True, metadata={"description": "the key of the step it leads to; an action's `to`"})
    level = fields.String(metadata={"enum": ["street", "county"], "description": "escalate only"})
    max_rounds = Int64(metadata={"description": "reopen only: at most this many rounds"})
    name = fields.Nested(NamesSchema, metadata={"description": "its own label, if not the action's"})


class PartySchema(Schema):
    key = fields.String()
    name = fields.Nested(NamesSchema)
    roles = fields.List(fields.String(metadata={"enum": list(ACTOR_ROLES)}))


class DimensionSchema(Schema):
    key = fields.String(metadata={"description": "rated as `score_<key>` in a `rate` action's data"})
    name = fields.Nested(NamesSchema)


class EvaluationSchema(Schema):
    parties = fields.List(fields.Nested(PartySchema))
    dimensions = fields.List(fields.Nested(DimensionSchema))
    decides = fields.String(metadata={"description": "the party whose level may send the topic back"})


class StepSchema(Schema):
    key = fields.String(metadata={"description": "a topic's `step`"})
    name = fields.Nested(NamesSchema)
    description = fields.String()
    phase = fields.String(metadata={"enum": list(PHASES)})
    roles = fields.List(fields.String(metadata={"enum": list(ACTOR_ROLES)}),
                        metadata={"description": "who acts here (resident: through the portal or a callback)"})
    evidence = fields.Dict(metadata={"description": "what a topic needs before it may leave the step: `fields` "
                                                    "(topic fields), `photos`, `attachments` (at least so many), "
                                                    "`consultation_record`, `signatures`, `rating`"})
    time_limit = fields.Nested(TimeLimitSchema, allow_none=True, metadata={"description": "null: none"})
    transitions = fields.List(fields.Nested(TransitionSchema))
    evaluation = fields.Nested(EvaluationSchema, allow_none=True,
                               metadata={"description": "who evaluates here and on what, where the step says"})
    notice = fields.Boolean(metadata={"description": "a topic here may be put on public notice (议题公示)"})


class ProcedureSummarySchema(Schema):
    id = fields.UUID()
    number = Int64(metadata={"description": "/procedure/versions/{number}; a topic's `procedure_version`"})
    current = fields.Boolean(metadata={"description": "the version new topics enter"})
    name = fields.Nested(NamesSchema)
    note = fields.String(metadata={"description": "what the publisher said of this version"})
    published_at = fields.DateTime()
    published_by = Int64(allow_none=True, metadata={"description": "the user id of whoever published it"})


class ProcedureSchema(ProcedureSummarySchema):
    key = fields.String(metadata={"description": "the practice it descends from (七步订单: qibu_dingdan, …)"})
    description = fields.String()
    source = fields.String()
    brand = fields.String()
    steps = fields.List(fields.Nested(StepSchema), metadata={"description": "in order; topics enter the first"})


ProcedureList = Schema.from_dict({"items": fields.List(fields.Nested(ProcedureSummarySchema))}, name="ProcedureList")


def _version_json(version, current_number: int | None) -> dict:
    d = version.definition
    return {"id": version.id, "number": version.number, "current": version.number == current_number,
            "name": d["name"], "note": version.note, "published_at": version.published_at,
            "published_by": version.published_by, "key": d["key"], "description": d.get("description", ""),
            "source": d.get("source", ""), "brand": d.get("brand", ""),
            "steps": [{**s, "time_limit": s.get("time_limit"), "evaluation": s.get("evaluation"),
                       "notice": bool(s.get("notice"))} for s in d["steps"]]}


def _current_number() -> int | None:
    current = ops.current_version(g.tenant)
    return current.number if current is not None else None


# ---------------------------------------------------------------- operations

@bp.get("/t/<slug>/procedure")
@operation("/t/{slug}/procedure", "get", "The procedure (工作法) new topics enter now, with every step",
           response=ProcedureSchema)
@require("procedure.view")
def procedure():
    current = found(ops.current_version(g.tenant), "published procedure")
    return answer(ProcedureSchema, _version_json(current, current.number))


@bp.get("/t/<slug>/procedure/versions")
@operation("/t/{slug}/procedure/versions", "get", "Every published version of the procedure, newest first "
           "(100 at most)", response=ProcedureList)
@require("procedure.view")
def procedure_versions():
    current = _current_number()
    return jsonify({"items": ProcedureSummarySchema(many=True).dump(
        [_version_json(v, current) for v in ops.versions(g.tenant)])})


@bp.get("/t/<slug>/procedure/versions/<int:number>")
@operation("/t/{slug}/procedure/versions/{number}", "get", "One published version of the procedure, as published "
           "(topics keep the version they entered on)", response=ProcedureSchema)
@require("procedure.view")
def procedure_version(number: int):
    version = found(ops.version(g.tenant, number), "procedure version")
    return answer(ProcedureSchema, _version_json(version, _current_number()))
