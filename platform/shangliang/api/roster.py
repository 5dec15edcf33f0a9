"""The roster through the API: people, roster imports, stations, the week's duty rota, and the
members suggested for a topic. Registered on the API blueprint (api/views.py imports it)."""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request
from marshmallow import Schema, fields, validate

from ..core.errors import Invalid
from ..core.pagination import paginate
from ..core.permissions import can, require
from ..roster import duty as duty_ops
from ..roster import imports
from ..roster import operations as ops
from ..roster.models import PERSON_KINDS, SHIFT_STATUSES, STATION_KINDS
from ..roster.suggestions import suggest_members
from ..topics.operations import mask_phone
from .base import answer, body, bp, found, operation, page_json, stop
from .schemas import Int64, page_schema
from .topics import find_topic

# ---------------------------------------------------------------- schemas

NOT_BLANK = r"\S"  # for the document: a name of spaces is refused as missing (in Chinese, by the roster)


class PersonSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"enum": list(PERSON_KINDS)})
    kind_label = fields.Function(lambda p: ops.KIND_LABELS.get(p.kind, p.kind))
    name = fields.String()
    phone = fields.Method("_phone", allow_none=True)
    user_id = Int64(allow_none=True, metadata={"description": "the person's login, if they have one"})
    sector = fields.String(allow_none=True, metadata={"description": "界别 (members)"})
    specialties = fields.List(fields.String())
    level = fields.String(allow_none=True, metadata={"enum": ["county", "street"]})
    community = fields.String(allow_none=True)
    grid = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True, metadata={"description": "department, unit or organisation"})
    title = fields.String(allow_none=True)
    note = fields.String()
    active = fields.Boolean()
    import_key = fields.String(allow_none=True, metadata={"description": "identity in import files (编号)"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _phone(self, p):
        return p.phone if can("roster.manage") or can("duty.manage") else mask_phone(p.phone)


class PersonInSchema(Schema):
    kind = fields.String(validate=validate.OneOf(PERSON_KINDS))
    name = fields.String(validate=validate.Length(max=60), metadata={"pattern": NOT_BLANK})
    phone = fields.String(allow_none=True)
    username = fields.String(allow_none=True, metadata={"description": "link a login of this tenant; \"\" unlinks"})
    sector = fields.String(allow_none=True)
    specialties = fields.List(fields.String(), metadata={"example": ["法律", "物业"]})
    level = fields.String(allow_none=True, validate=validate.OneOf(("county", "street", "")))
    community = fields.String(allow_none=True)
    grid = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    active = fields.Boolean(metadata={"description": "false takes the person off the roster (kept on record)"})


class RefusedRowSchema(Schema):
    row = Int64(allow_none=True, metadata={"description": "the row number in the file"})
    field = fields.String(allow_none=True)
    message = fields.String()
    value = fields.String()


class RosterImportSchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    filename = fields.String()
    percent = fields.Function(imports.percent)
    done_rows = Int64()
    total_rows = Int64()
    created = Int64(attribute="created_count")
    updated = Int64(attribute="updated_count")
    unchanged = Int64(attribute="unchanged_count")
    refused = fields.List(fields.Nested(RefusedRowSchema))
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class StationSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String(metadata={"enum": list(STATION_KINDS)})
    address = fields.String()
    hours = fields.String()
    community = fields.String(allow_none=True)
    active = fields.Boolean()


class StationInSchema(Schema):
    name = fields.String(required=True, metadata={"pattern": NOT_BLANK})
    kind = fields.String(required=True, validate=validate.OneOf(STATION_KINDS))
    address = fields.String(load_default="")
    hours = fields.String(load_default="")
    community = fields.String(load_default=None, allow_none=True)


class ShiftSchema(Schema):
    id = fields.UUID()
    day = fields.Date()
    station_id = fields.UUID()
    station = fields.String()
    person_id = fields.UUID()
    person = fields.String()
    status = fields.String(metadata={"enum": list(SHIFT_STATUSES)})
    swapped_from = fields.UUID(allow_none=True, metadata={"description": "the person it was swapped away from"})


class WeekSchema(Schema):
    week = fields.String(metadata={"example": "2025-W07"})
    monday = fields.Date()
    today = fields.Date(metadata={"description": "in the tenant's time zone"})
    shifts = fields.List(fields.Nested(ShiftSchema))


class AssignSchema(Schema):
    station_id = fields.UUID(required=True)
    person_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))
    days = fields.List(fields.Date(), required=True, validate=validate.Length(min=1, max=31))


class AssignedSchema(Schema):
    added = Int64()
    skipped = Int64(metadata={"description": "members already on duty somewhere that day"})


class SuggestionSchema(Schema):
    person_id = fields.Function(lambda s: s.person.id)
    name = fields.Function(lambda s: s.person.name)
    user_id = fields.Function(lambda s: s.person.user_id)
    score = fields.Float()
    load = Int64(metadata={"description": "open topics the member carries"})
    reasons = fields.List(fields.String(), metadata={"example": ["专长：物业", "本周轮值", "在办 2 件"]})


PersonPage = page_schema(PersonSchema, "PersonPage")
StationList = Schema.from_dict({"items": fields.List(fields.Nested(StationSchema))}, name="StationList")
SuggestionList = Schema.from_dict({"items": fields.List(fields.Nested(SuggestionSchema))}, name="SuggestionList")
PEOPLE_QUERY = [
    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": list(PERSON_KINDS)}},
    {"name": "community", "in": "query", "schema": {"type": "string"}},
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "part of a name, phone, organisation or sector (its first 60 characters)"},
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["inactive", "all"]},
     "description": "default: people on the roster"}]
UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": ".xlsx or .csv (UTF-8 or GBK), header row with 类别 and 姓名"}}}}}}


# ---------------------------------------------------------------- helpers

def street_api(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not g.tenant.is_street:
            stop(403, "forbidden", "rosters belong to streets")
        return view(*args, **kwargs)
    return wrapped


# ---------------------------------------------------------------- people

@bp.get("/t/<slug>/people")
@operation("/t/{slug}/people", "get", "The roster, 50 a page; ?kind=member&community=…&q=…&status=inactive|all",
           response=PersonPage, paged=True, query=PEOPLE_QUERY)
@require("roster.view")
@street_api
def people():
    kind = request.args.get("kind")
    status = request.args.get("status")
    page = paginate(ops.people_query(kind if kind in PERSON_KINDS else None, request.args.get("community") or None,
                                     (request.args.get("q") or "")[:60] or None,
                                     {"inactive": False, "all": None}.get(status, True)))
    return jsonify(page_json(page, PersonSchema))


@bp.post("/t/<slug>/people")
@operation("/t/{slug}/people", "post", "Add a person to the roster (kind and name required)", body=PersonInSchema,
           response=PersonSchema, status=201, scope="manage")
@require("roster.manage")
@street_api
def add_person():
    return answer(PersonSchema, ops.create_person(g.tenant, g.api_actor, body(PersonInSchema)), 201)


@bp.get("/t/<slug>/people/<uuid:person_id>")
@operation("/t/{slug}/people/{person_id}", "get", "One person of the roster", response=PersonSchema)
@require("roster.view")
@street_api
def person(person_id):
    return answer(PersonSchema, found(ops.find_person(person_id), "person"))


@bp.post("/t/<slug>/people/<uuid:person_id>")
@operation("/t/{slug}/people/{person_id}", "post", "Change a person: only the fields sent change",
           body=PersonInSchema, response=PersonSchema, scope="manage")
@require("roster.manage")
@street_api
def update_person(person_id):
    row = found(ops.find_person(person_id), "person")
    data = body(PersonInSchema)
    active = data.pop("active", None)
    merged = {**ops.person_form(row, ops.usernames([row.user_id]).get(row.user_id)), **data}
    ops.update_person(g.tenant, g.api_actor, row, merged)
    if active is not None:
        ops.set_active(g.tenant, g.api_actor, row, active)
    return answer(PersonSchema, row)


# ---------------------------------------------------------------- imports

@bp.post("/t/<slug>/roster/imports")
@operation("/t/{slug}/roster/imports", "post", "Start importing a roster file in the background; poll its status",
           body=UPLOAD, response=RosterImportSchema, status=202, scope="manage", answers=(503,))
@require("roster.manage")
@street_api
def start_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid({"file": "required"}, "send the file as multipart field `file`")
    return answer(RosterImportSchema, imports.start_import(g.tenant, g.api_actor, upload.filename,
                                                          upload.stream), 202)


@bp.get("/t/<slug>/roster/imports/<uuid:import_id>")
@operation("/t/{slug}/roster/imports/{import_id}", "get",
           "An import's progress, counts and every refused row (row number, field, why)",
           response=RosterImportSchema)
@require("roster.manage")
@street_api
def roster_import(import_id):
    return answer(RosterImportSchema, found(imports.find_import(import_id), "import"))


# ---------------------------------------------------------------- stations and the rota

@bp.get("/t/<slug>/stations")
@operation("/t/{slug}/stations", "get", "Stations (庭院网格e站, 委员工作室, 议事室)", response=StationList)
@require("roster.view")
@street_api
def stations():
    return jsonify({"items": StationSchema(many=True).dump(ops.stations())})


@bp.post("/t/<slug>/stations")
@operation("/t/{slug}/stations", "post", "Add a station", body=StationInSchema, response=StationSchema, status=201,
           scope="manage")
@require("roster.manage")
@street_api
def add_station():
    return answer(StationSchema, ops.save_station(g.tenant, g.api_actor, body(StationInSchema)), 201)


@bp.get("/t/<slug>/duty")
@operation("/t/{slug}/duty", "get", "The duty rota (轮值) of a week; ?week=2025-W07 (default: this week)",
           response=WeekSchema, query=[{"name": "week", "in": "query", "schema": {"type": "string", "example": "2025-W07"},
                                        "description": "an ISO week (anything else: this week)"}])
@require("roster.view")
@street_api
def duty_week():
    today = duty_ops.local_today(g.tenant)
    week = duty_ops.week(g.tenant, duty_ops.parse_week(request.args.get("week"), today))
    shifts = [{"id": s.id, "day": s.day, "station_id": st.id, "station": st.name, "person_id": p.id,
               "person": p.name, "status": s.status, "swapped_from": s.swapped_from} for s, p, st in week.shifts]
    return answer(WeekSchema, {"week": week.param, "monday": week.monday, "today": today, "shifts": shifts})


@bp.post("/t/<slug>/duty")
@operation("/t/{slug}/duty", "post", "Put members on duty at a station on some days", body=AssignSchema,
           response=AssignedSchema, status=201, scope="manage")
@require("duty.manage")
@street_api
def assign_duty():
    data = body(AssignSchema)
    added, skipped = duty_ops.assign(g.tenant, g.api_actor, data["station_id"], data["person_ids"],
                                     data["days"])
    return jsonify({"added": added, "skipped": skipped}), 201


@bp.get("/t/<slug>/topics/<int:number>/suggestions")
@operation("/t/{slug}/topics/{number}/suggestions", "get",
           "Members suggested to claim the topic, best first, each with its reasons", response=SuggestionList)
@require("roster.view")
@street_api
def topic_suggestions(number: int):
    topic = found(find_topic(number), "topic")
    return jsonify({"items": SuggestionSchema(many=True).dump(suggest_members(g.tenant, topic))})
