"""Topics through the API: the list, recording a topic from any channel, one topic with its log and
the actions the token may take, and acting on it. A token acts as its owner: a grid worker's sees
the topics of their grids and those they raised, as on their own pages (topics/people.py)."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import require
from ..topics import operations as topic_ops
from ..topics.models import Topic
from ..topics.people import reaches, within_reach
from . import schemas
from .base import body, bp, found, operation, page_json
from .transfer_schemas import of_topic as transfers_of


def find_topic(number: int) -> Topic | None:
    """The topic of that number, if this token's person may follow it (else None: a 404)."""
    topic = db.scalar(select(Topic).where(Topic.number == number))
    return topic if topic is not None and reaches(topic, g.api_roles, g.api_actor) else None


def topic_json(topic, schema_cls=schemas.TopicSchema, *, detail: bool = False) -> dict:
    log = topic_ops.events(topic) if detail else None  # lists read no logs: one query a page
    schema = schema_cls()
    schema.handles = topic_ops.handles(topic, g.api_roles, g.api_actor, log)
    out = schema.dump(topic)
    if log is not None:
        out["events"] = schemas.EventSchema(many=True).dump(log)
        # what the token may do: its owner's offers, none without the scope that acts on topics
        actions = topic_ops.available_actions(topic, g.api_roles, g.api_actor, log) \
            if "topics" in g.api_token.scope_set else []
        out["actions"] = schemas.ActionSchema(many=True).dump(actions)
        out["transfers"] = transfers_of(topic)
    return out


def _detail(topic):
    return jsonify(topic_json(topic, schemas.TopicDetailSchema, detail=True))


@bp.get("/t/<slug>/topics")
@operation("/t/{slug}/topics", "get", "Topics, newest first, 50 a page", response=schemas.TopicPage, paged=True,
           query=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]},
                   "description": "only open or only closed topics (any other value: all)"}])
@require("topics.view")
def topics():
    stmt = within_reach(select(Topic), g.api_roles, g.api_actor).order_by(Topic.number.desc())
    status = request.args.get("status")
    if status in ("open", "closed"):
        stmt = stmt.where(Topic.status == status)
    page = paginate(stmt)
    return jsonify(page_json(page, [topic_json(t) for t in page.items]))


@bp.post("/t/<slug>/topics")
@operation("/t/{slug}/topics", "post", "Record a topic from any channel (it enters the first step)",
           body=schemas.TopicCreateSchema, response=schemas.TopicSchema, status=201, subject="topic", scope="topics")
@require("topics.create")
def create_topic():
    data = body(schemas.TopicCreateSchema)
    topic = topic_ops.create_topic(g.tenant, g.api_actor, data, actor_role=next(iter(sorted(g.api_roles)), None))
    return jsonify(topic_json(topic)), 201


@bp.get("/t/<slug>/topics/<int:number>")
@operation("/t/{slug}/topics/{number}", "get", "A topic with its whole log and the actions this token may take",
           response=schemas.TopicDetailSchema)
@require("topics.view")
def topic(number: int):
    return _detail(found(find_topic(number), "topic"))


@bp.post("/t/<slug>/topics/<int:number>/actions")
@operation("/t/{slug}/topics/{number}/actions", "post", "Act on a topic at its current step",
           body=schemas.TopicActionSchema, response=schemas.TopicDetailSchema, subject="action", scope="topics")
@require("topics.view")
def topic_action(number: int):
    row = found(find_topic(number), "topic")
    data = body(schemas.TopicActionSchema)
    topic_ops.act(g.tenant, g.api_actor, g.api_roles, row, data["action"],
                  expected_version=data["version"], to=data["to"], comment=data["comment"], data=data["data"])
    return _detail(row)
