"""Topics through the API: the list, recording a topic from any channel, one topic with its log and
the actions the token may take, and acting on it."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import require
from ..topics import operations as topic_ops
from ..topics.models import Topic
from . import schemas
from .base import body, bp, found, operation, page_json


def find_topic(number: int) -> Topic | None:
    return db.scalar(select(Topic).where(Topic.number == number))


def topic_json(topic, schema_cls=schemas.TopicSchema, *, detail: bool = False) -> dict:
    log = topic_ops.events(topic) if detail else None  # lists read no logs: one query a page
    schema = schema_cls()
    schema.handles = topic_ops.handles(topic, g.api_roles, None, log)
    out = schema.dump(topic)
    if log is not None:
        out["events"] = schemas.EventSchema(many=True).dump(log)
        actions = topic_ops.available_actions(topic, g.api_roles, None, log)
        out["actions"] = schemas.ActionSchema(many=True).dump(actions)
    return out


def _detail(topic):
    return jsonify(topic_json(topic, schemas.TopicDetailSchema, detail=True))


@bp.get("/t/<slug>/topics")
@operation("/t/{slug}/topics", "get", "Topics, newest first, 50 a page", response=schemas.TopicPage, paged=True,
           query=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]},
                   "description": "only open or only closed topics (any other value: all)"}])
@require("topics.view")
def topics():
    stmt = select(Topic).order_by(Topic.number.desc())
    status = request.args.get("status")
    if status in ("open", "closed"):
        stmt = stmt.where(Topic.status == status)
    page = paginate(stmt)
    return jsonify(page_json(page, [topic_json(t) for t in page.items]))


@bp.post("/t/<slug>/topics")
@operation("/t/{slug}/topics", "post", "Record a topic from any channel (it enters the first step)",
           body=schemas.TopicCreateSchema, response=schemas.TopicSchema, status=201, subject="topic")
@require("topics.create")
def create_topic():
    data = body(schemas.TopicCreateSchema)
    topic = topic_ops.create_topic(g.tenant, g.api_token.created_by, data, actor_role=next(iter(g.api_roles)))
    return jsonify(topic_json(topic)), 201


@bp.get("/t/<slug>/topics/<int:number>")
@operation("/t/{slug}/topics/{number}", "get", "A topic with its whole log and the actions this token may take",
           response=schemas.TopicDetailSchema)
@require("topics.view")
def topic(number: int):
    return _detail(found(find_topic(number), "topic"))


@bp.post("/t/<slug>/topics/<int:number>/actions")
@operation("/t/{slug}/topics/{number}/actions", "post", "Act on a topic at its current step",
           body=schemas.TopicActionSchema, response=schemas.TopicDetailSchema, subject="action")
@require("topics.view")
def topic_action(number: int):
    row = found(find_topic(number), "topic")
    data = body(schemas.TopicActionSchema)
    topic_ops.act(g.tenant, g.api_token.created_by, g.api_roles, row, data["action"],
                  expected_version=data["version"], to=data["to"], comment=data["comment"], data=data["data"])
    return _detail(row)
