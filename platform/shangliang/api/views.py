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
from ..core.web import error_body
from . import schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPERATIONS: list[dict] = []


def operation(path: str, method: str, summary: str, *, response=None, body=None, status: int = 200,
              paged: bool = False):
    OPERATIONS.append({"path": path, "method": method.lower(), "summary": summary, "response": response,
                       "body": body, "status": status, "paged": paged})
    return lambda view: view


def fail(status: int, code: str, message: str, fields: dict | None = None):
    return jsonify(error_body(code, message, fields)), status


def parse(schema_cls):
    """Validated JSON body, or the error response naming the failing fields."""
    data = request.get_json(silent=True)
    if data is None:
        return None, fail(400, "invalid_json", "request body must be a JSON object")
    try:
        return schema_cls().load(data), None
    except ValidationError as err:
        return None, fail(422, "validation_error", "some fields are invalid", err.messages)


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
    db.commit()  # last_used_at


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
    except account_ops.Refused as exc:
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
    except account_ops.Refused as exc:
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
           body=schemas.TopicActionSchema, response=schemas.TopicDetailSchema)
@require("topics.view")
def topic_action(number: int):
    from ..topics import operations as topic_ops

    row = _get_topic(number)
    if row is None:
        return fail(404, "not_found", "no such topic")
    data, error = parse(schemas.TopicActionSchema)
    if error:
        return error
    try:
        topic_ops.act(g.tenant, g.api_token.created_by, g.api_roles, row, data["action"],
                      expected_version=data["version"], to=data["to"], comment=data["comment"], data=data["data"])
    except account_ops.Refused as exc:
        db.rollback()
        status = {"conflict": 409, "forbidden": 403}.get(exc.code, 422)
        return fail(status, exc.code, exc.message, {exc.field or "action": [exc.message]})
    db.commit()
    return jsonify(_topic_json(row, schemas.TopicDetailSchema, detail=True))
