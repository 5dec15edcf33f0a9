"""JSON API for integrations (12345 hotline systems, WeChat mini-programs).

Token authentication, one tenant per token. Every operation is declared with
`operation(...)`, which is also what the OpenAPI document is built from.
"""
from __future__ import annotations


from flask import Blueprint, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select

from ..accounts import operations as account_ops
from ..accounts.models import Membership, User
from ..audit.models import AuditLog
from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import public, require
from ..core.errors import Invalid, Refused, error_body
from . import schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPERATIONS: list[dict] = []


def operation(path: str, method: str, summary: str, *, response=None, body=None, status: int = 200,
              paged: bool = False, query: list | None = None, subject: str = "form"):
    """Declares an API operation (the OpenAPI document is built from these). `subject`: the field a
    refusal that names none is reported under."""
    OPERATIONS.append({"path": path, "method": method.lower(), "summary": summary, "response": response,
                       "body": body, "status": status, "paged": paged, "query": query or []})

    def declare(view):
        view.refusal_field = subject
        return view

    return declare


def fail(status: int, code: str, message: str, fields: dict | None = None):
    return jsonify(error_body(code, message, fields)), status


def body(schema_cls) -> dict:
    """The validated JSON body; else refused (the lifecycle answers 400/422 naming the fields)."""
    data = request.get_json(silent=True)
    if data is None:
        raise Refused("request body must be a JSON object", None, "invalid_json")
    try:
        return schema_cls().load(data)
    except ValidationError as err:
        raise Invalid(err.messages) from None


def parse(schema_cls):
    """(body, None), or (None, the error response): for views not yet moved to `body`."""
    try:
        return body(schema_cls), None
    except Invalid as exc:
        return None, fail(422, exc.code, exc.message, exc.errors)
    except Refused as exc:
        return None, fail(400, exc.code, exc.message)


@bp.before_request
def authenticate_token():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer " + account_ops.TOKEN_PREFIX):
        return fail(401, "unauthorized", "send 'Authorization: Bearer slt_…' with an API token")
    if g.get("tenant") is None:
        return fail(404, "not_found", "no such tenant")
    token = account_ops.token_from_header(header)
    if token is None:
        # Not this tenant's token: answer as if the tenant did not exist.
        return fail(404, "not_found", "no such tenant for this token")
    g.api_roles, g.api_token = {token.role}, token


def page_json(page, schema):
    return {"items": schema(many=True).dump(page.items), "page": page.page, "per_page": page.per_page,
            "has_next": page.has_next}


@bp.get("/openapi.json")
@public
def openapi():
    from .openapi import build_spec

    return jsonify(build_spec())


@bp.get("/t/<slug>/tenant")
@operation("/t/{slug}/tenant", "get", "The token's tenant", response=schemas.TenantSchema)
@require("tenant.view")
def tenant():
    return jsonify(schemas.TenantSchema().dump(g.tenant))


@bp.get("/t/<slug>/members")
@operation("/t/{slug}/members", "get", "Members of the tenant, 50 a page", response=schemas.MemberPage,
           paged=True)
@require("members.view")
def members():
    page = paginate(select(Membership).join(Membership.user).order_by(User.username, Membership.role))
    return jsonify(page_json(page, schemas.MemberSchema))


@bp.post("/t/<slug>/members")
@operation("/t/{slug}/members", "post", "Give an existing user a role in the tenant",
           body=schemas.MemberCreateSchema, response=schemas.MemberSchema, status=201)
@require("members.manage")
def add_member():
    data, error = parse(schemas.MemberCreateSchema)
    if error:
        return error
    user = db.scalar(select(User).where(User.username == account_ops.normalise_username(data["username"])))
    if user is None:
        return fail(422, "validation_error", "some fields are invalid", {"username": ["no such user"]})
    try:
        m = account_ops.add_membership(g.tenant, g.api_token.created_by, user, data["role"],
                                       via=f"api token {g.api_token.name}")
    except Refused as exc:
        db.rollback()
        status = 409 if exc.code == "conflict" else 422
        return fail(status, exc.code if exc.code == "conflict" else "validation_error", exc.message,
                    {exc.field or "role": [exc.message]})
    db.commit()
    return jsonify(schemas.MemberSchema().dump(m)), 201


@bp.get("/t/<slug>/audit")
@operation("/t/{slug}/audit", "get", "The tenant's audit log, newest first", response=schemas.AuditPage,
           paged=True)
@require("audit.view")
def audit():
    page = paginate(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    return jsonify(page_json(page, schemas.AuditSchema))


# ---------------------------------------------------------------- topics

def _topic_json(topic, schema_cls=schemas.TopicSchema, **extra):
    from ..topics import operations as topic_ops

    log = topic_ops.events(topic) if extra.get("detail") else None  # lists read no logs: one query a page
    schema = schema_cls()
    schema.handles = topic_ops.handles(topic, g.api_roles, None, log)
    out = schema.dump(topic)
    if log is not None:
        out["events"] = schemas.EventSchema(many=True).dump(log)
        out["actions"] = schemas.ActionSchema(many=True).dump(topic_ops.available_actions(topic, g.api_roles, None, log))
    return out


def _get_topic(number):
    from ..topics.models import Topic

    return db.scalar(select(Topic).where(Topic.number == number))


@bp.get("/t/<slug>/topics")
@operation("/t/{slug}/topics", "get", "Topics, newest first, 50 a page", response=schemas.TopicPage, paged=True)
@require("topics.view")
def topics():
    from ..topics.models import Topic

    stmt = select(Topic).order_by(Topic.number.desc())
    status = request.args.get("status")
    if status in ("open", "closed"):
        stmt = stmt.where(Topic.status == status)
    page = paginate(stmt)
    return jsonify({"items": [_topic_json(t) for t in page.items], "page": page.page, "per_page": page.per_page,
                    "has_next": page.has_next})


@bp.post("/t/<slug>/topics")
@operation("/t/{slug}/topics", "post", "Record a topic from any channel (it enters the first step)",
           body=schemas.TopicCreateSchema, response=schemas.TopicSchema, status=201)
@require("topics.create")
def create_topic():
    from ..topics import operations as topic_ops

    data, error = parse(schemas.TopicCreateSchema)
    if error:
        return error
    try:
        topic = topic_ops.create_topic(g.tenant, g.api_token.created_by, data, actor_role=next(iter(g.api_roles)))
    except Refused as exc:
        db.rollback()
        return fail(422, exc.code, exc.message, {exc.field or "topic": [exc.message]})
    db.commit()
    return jsonify(_topic_json(topic)), 201


@bp.get("/t/<slug>/topics/<int:number>")
@operation("/t/{slug}/topics/{number}", "get", "A topic with its whole log and the actions this token may take",
           response=schemas.TopicDetailSchema)
@require("topics.view")
def topic(number: int):
    row = _get_topic(number)
    if row is None:
        return fail(404, "not_found", "no such topic")
    return jsonify(_topic_json(row, schemas.TopicDetailSchema, detail=True))


@bp.post("/t/<slug>/topics/<int:number>/actions")
@operation("/t/{slug}/topics/{number}/actions", "post", "Act on a topic at its current step",
           body=schemas.TopicActionSchema, response=schemas.TopicDetailSchema, subject="action")
@require("topics.view")
def topic_action(number: int):
    from ..topics import operations as topic_ops

    row = _get_topic(number)
    if row is None:
        return fail(404, "not_found", "no such topic")
    data = body(schemas.TopicActionSchema)
    topic_ops.act(g.tenant, g.api_token.created_by, g.api_roles, row, data["action"],
                  expected_version=data["version"], to=data["to"], comment=data["comment"], data=data["data"])
    return jsonify(_topic_json(row, schemas.TopicDetailSchema, detail=True))


# ---------------------------------------------------------------- meetings (议事会)

def _refused(exc: Refused):
    """A refused meeting operation: every field it names, with the status its code calls for."""
    from ..meetings.operations import MeetingInvalid

    fields = {k: [v] for k, v in exc.errors.items()} if isinstance(exc, MeetingInvalid) else \
        {exc.field or "meeting": [exc.message]}
    status = {"conflict": 409, "forbidden": 403, "not_found": 404}.get(exc.code, 422)
    return fail(status, exc.code, exc.message, fields)


def _work_json(items):
    from ..meetings import operations as meeting_ops
    from ..topics.models import Topic

    today = meeting_ops.local_today(g.tenant)
    ids = {i.topic_id for i in items if i.topic_id}
    numbers = dict(db.execute(select(Topic.id, Topic.number).where(Topic.id.in_(ids))).all()) if ids else {}
    out = schemas.WorkItemSchema(many=True).dump(items)
    for row, item in zip(out, items):
        row["topic_number"] = numbers.get(item.topic_id)
        row["overdue"] = meeting_ops.is_overdue(item, today)
    return out


def _meeting_json(meeting):
    from ..meetings import operations as meeting_ops

    out = schemas.MeetingSchema().dump(meeting)
    revisions = meeting_ops.minutes(meeting)
    out["participants"] = schemas.ParticipantSchema(many=True).dump(meeting_ops.participants(meeting))
    out["revisions"] = schemas.MinutesSchema(many=True).dump(revisions)
    out["minutes"] = out["revisions"][0] if revisions else None
    out["topics"] = schemas.MeetingTopicSchema(many=True).dump(
        [{"number": t.number, "title": t.title, "step": t.step_key, "agreement": mt.agreement,
          "recorded_at": mt.recorded_at} for mt, t in meeting_ops.linked_topics(meeting)])
    out["work_items"] = _work_json(meeting_ops.work_items(meeting))
    return out


def _get_meeting(number):
    from ..meetings.operations import get_meeting

    return get_meeting(number)


def _meeting_change(number, schema_cls, change, status=200):
    """Find the meeting (404 first: nothing of another tenant's is parsed), read the body, change, commit."""
    meeting = _get_meeting(number)
    if meeting is None:
        return fail(404, "not_found", "no such meeting")
    data, error = parse(schema_cls)
    if error:
        return error
    try:
        change(meeting, data)
    except Refused as exc:
        db.rollback()
        return _refused(exc)
    db.commit()
    return jsonify(_meeting_json(_get_meeting(number))), status


@bp.get("/t/<slug>/meetings")
@operation("/t/{slug}/meetings", "get", "Meetings (议事会), latest first, 50 a page; ?status=planned|held|cancelled",
           response=schemas.MeetingPage, paged=True)
@require("meetings.view")
def meetings():
    from ..meetings.models import Meeting

    stmt = select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.number.desc())
    if request.args.get("status") in ("planned", "held", "cancelled"):
        stmt = stmt.where(Meeting.status == request.args["status"])
    return jsonify(page_json(paginate(stmt), schemas.MeetingSchema))


@bp.post("/t/<slug>/meetings")
@operation("/t/{slug}/meetings", "post", "Call a meeting: one or two conveners, participants by 4+X group, topics",
           body=schemas.MeetingCreateSchema, response=schemas.MeetingDetailSchema, status=201)
@require("meetings.manage")
def create_meeting():
    from ..meetings import operations as meeting_ops

    data, error = parse(schemas.MeetingCreateSchema)
    if error:
        return error
    try:
        meeting = meeting_ops.create_meeting(g.tenant, g.api_token.created_by, data)
    except Refused as exc:
        db.rollback()
        return _refused(exc)
    db.commit()
    return jsonify(_meeting_json(meeting)), 201


@bp.get("/t/<slug>/meetings/<int:number>")
@operation("/t/{slug}/meetings/{number}", "get", "A meeting with participants, minutes (every revision), topics "
           "and work list", response=schemas.MeetingDetailSchema)
@require("meetings.view")
def meeting(number: int):
    row = _get_meeting(number)
    if row is None:
        return fail(404, "not_found", "no such meeting")
    return jsonify(_meeting_json(row))


@bp.post("/t/<slug>/meetings/<int:number>/minutes")
@operation("/t/{slug}/meetings/{number}/minutes", "post", "Save a new revision of the minutes (earlier ones are kept)",
           body=schemas.MinutesCreateSchema, response=schemas.MeetingDetailSchema, status=201)
@require("meetings.manage")
def meeting_minutes(number: int):
    from ..meetings import operations as meeting_ops

    return _meeting_change(number, schemas.MinutesCreateSchema, lambda m, d: meeting_ops.add_minutes(
        g.tenant, g.api_token.created_by, m, d["text"], note=d["note"], base_revision=d["base_revision"]), 201)


@bp.post("/t/<slug>/meetings/<int:number>/status")
@operation("/t/{slug}/meetings/{number}/status", "post", "Mark a planned meeting held (needs minutes) or cancelled "
           "(needs a reason)", body=schemas.MeetingStatusSchema, response=schemas.MeetingDetailSchema)
@require("meetings.manage")
def meeting_status(number: int):
    from ..meetings import operations as meeting_ops

    return _meeting_change(number, schemas.MeetingStatusSchema, lambda m, d: meeting_ops.set_status(
        g.tenant, g.api_token.created_by, m, d["status"], expected_version=d["version"], reason=d["reason"]))


@bp.post("/t/<slug>/meetings/<int:number>/attendance")
@operation("/t/{slug}/meetings/{number}/attendance", "post", "Record who attended (everyone else did not)",
           body=schemas.AttendanceSchema, response=schemas.MeetingDetailSchema)
@require("meetings.manage")
def meeting_attendance(number: int):
    from ..meetings import operations as meeting_ops

    return _meeting_change(number, schemas.AttendanceSchema, lambda m, d: meeting_ops.set_attendance(
        g.tenant, g.api_token.created_by, m, d["attended"], expected_version=d["version"]))


@bp.post("/t/<slug>/meetings/<int:number>/topics")
@operation("/t/{slug}/meetings/{number}/topics", "post", "Link a topic with what was agreed on it; with `record`, log "
           "it on the topic as its consultation record", body=schemas.MeetingTopicLinkSchema,
           response=schemas.MeetingDetailSchema)
@require("meetings.manage")
def meeting_topic(number: int):
    from ..meetings import operations as meeting_ops

    def change(m, d):
        topic = _get_topic(d["topic_number"])
        if topic is None:
            raise Refused("本街道没有这个议题", "topic_number", "validation_error")
        meeting_ops.set_agreement(g.tenant, g.api_token.created_by, m, topic, d["agreement"], link=True)
        if d["record"]:
            meeting_ops.record_consultation(g.tenant, g.api_token.created_by, g.api_roles, m, topic)

    return _meeting_change(number, schemas.MeetingTopicLinkSchema, change)


@bp.post("/t/<slug>/meetings/<int:number>/work")
@operation("/t/{slug}/meetings/{number}/work", "post", "Add an agreed action to the meeting's work list (工作清单)",
           body=schemas.WorkItemCreateSchema, response=schemas.MeetingDetailSchema, status=201)
@require("meetings.manage")
def meeting_work(number: int):
    from ..meetings import operations as meeting_ops

    return _meeting_change(number, schemas.WorkItemCreateSchema, lambda m, d: meeting_ops.add_work_item(
        g.tenant, g.api_token.created_by, m, d), 201)


@bp.post("/t/<slug>/meetings/<int:number>/work/<uuid:item_id>")
@operation("/t/{slug}/meetings/{number}/work/{item_id}", "post", "Update a work item: status (done records when), "
           "note, due date", body=schemas.WorkItemUpdateSchema, response=schemas.MeetingDetailSchema)
@require("meetings.view")
def meeting_work_item(number: int, item_id):
    from ..core.permissions import can
    from ..meetings import operations as meeting_ops

    meeting = _get_meeting(number)
    item = meeting_ops.get_work_item(meeting, item_id) if meeting else None
    if item is None:
        return fail(404, "not_found", "no such work item")
    return _meeting_change(number, schemas.WorkItemUpdateSchema, lambda m, d: meeting_ops.update_work_item(
        g.tenant, g.api_token.created_by, item, status=d["status"], note=d["note"], due_on=d["due_on"],
        may_manage=can("meetings.manage")))


@bp.get("/t/<slug>/work-items")
@operation("/t/{slug}/work-items", "get", "Open work items across meetings, earliest due first, 50 a page",
           response=schemas.WorkItemPage, paged=True)
@require("meetings.view")
def work_items():
    from ..meetings import operations as meeting_ops

    page = paginate(meeting_ops.open_work_stmt(), scalars=False)
    return jsonify({"items": _work_json([row[0] for row in page.items]), "page": page.page,
                    "per_page": page.per_page, "has_next": page.has_next})


# ---------------------------------------------------------------- files (photos and attachments)

FILE_ERRORS = {"not_found": 404, "forbidden": 403, "too_large": 413, "quota_exceeded": 413, "conflict": 409,
               "storage_unavailable": 503}
OWNER_QUERY = [{"name": "owner_kind", "in": "query", "required": True,
                "schema": {"type": "string", "enum": ["topic", "meeting", "work_item"]}},
               {"name": "owner_id", "in": "query", "required": True, "schema": {"type": "string", "format": "uuid"}}]


def _file_refused(exc):
    db.rollback()
    return fail(FILE_ERRORS.get(exc.code, 422), exc.code, exc.message, {exc.field or "file": [exc.message]})


def _file_json(att) -> dict:
    """The attachment; once it passed its check, signed links (five minutes) to it and its images."""
    from ..files import operations as file_ops

    out = schemas.AttachmentSchema().dump(att)
    out.update(url=file_ops.signed_url(att), thumb_url=file_ops.signed_url(att, "thumb"),
               web_url=file_ops.signed_url(att, "web"), expires_in=300 if att.status == "ready" else None)
    return out


@bp.post("/t/<slug>/files/uploads")
@operation("/t/{slug}/files/uploads", "post", "Start an upload: a signed form to POST the file to storage directly "
           "(multipart, fields first, then `file`); storage takes this key and at most `size` bytes",
           body=schemas.UploadRequestSchema, response=schemas.UploadSchema, status=201)
@require("files.upload")
def file_upload():
    from ..files import operations as file_ops

    data, error = parse(schemas.UploadRequestSchema)
    if error:
        return error
    try:
        att, form = file_ops.request_upload(g.tenant, g.api_token.created_by, data["owner_kind"], data["owner_id"],
                                            data["filename"], data["size"], data["content_type"], roles=g.api_roles)
    except Refused as exc:
        return _file_refused(exc)
    db.commit()
    return jsonify({**_file_json(att), "form": form, "form_expires_in": file_ops.UPLOAD_EXPIRY}), 201


@bp.post("/t/<slug>/files/<uuid:attachment_id>/complete")
@operation("/t/{slug}/files/{attachment_id}/complete", "post", "The file is in storage: check it in the background "
           "(status `checking`, then `ready` or `refused` with `error`)", response=schemas.AttachmentSchema,
           status=202)
@require("files.upload")
def file_complete(attachment_id):
    from ..files import operations as file_ops

    try:
        att = file_ops.complete_upload(g.tenant, g.api_token.created_by, attachment_id)
    except Refused as exc:
        return _file_refused(exc)
    db.commit()
    return jsonify(_file_json(att)), 202


@bp.get("/t/<slug>/files/<uuid:attachment_id>")
@operation("/t/{slug}/files/{attachment_id}", "get", "An attachment: its status, sizes and, once checked, signed "
           "links valid for five minutes", response=schemas.AttachmentSchema)
@require("tenant.view")
def file_get(attachment_id):
    from ..files import operations as file_ops

    att = file_ops.visible(attachment_id, g.api_roles)
    if att is None:
        return fail(404, "not_found", "no such file")
    return jsonify(_file_json(att))


@bp.get("/t/<slug>/files")
@operation("/t/{slug}/files", "get", "The attachments of a topic, meeting or work item, oldest first (200 at most)",
           response=schemas.AttachmentList, query=OWNER_QUERY)
@require("tenant.view")
def file_list():
    from ..files import operations as file_ops

    kind = request.args.get("owner_kind", "")
    try:
        owner = file_ops.find_owner(kind, request.args.get("owner_id", ""))
    except Refused as exc:
        return fail(404, "not_found", exc.message, {exc.field: [exc.message]})
    if not file_ops.may_see(kind, g.api_roles):
        return fail(404, "not_found", "no such owner")
    return jsonify({"items": [_file_json(a) for a in file_ops.attachments_of(kind, owner.id)]})


@bp.delete("/t/<slug>/files/<uuid:attachment_id>")
@operation("/t/{slug}/files/{attachment_id}", "delete", "Delete an attachment (its uploader or an administrator); "
           "its objects are removed in the background unless another attachment shares them",
           response=schemas.AttachmentSchema)
@require("files.upload")
def file_delete(attachment_id):
    from ..files import operations as file_ops

    try:
        att = file_ops.delete_attachment(g.tenant, g.api_token.created_by, g.api_roles, attachment_id)
    except Refused as exc:
        return _file_refused(exc)
    db.commit()
    return jsonify(_file_json(att))
