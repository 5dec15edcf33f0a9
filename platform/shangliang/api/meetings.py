"""Meetings (议事会) through the API: calling one, its minutes, status, attendance, topics and work
list (工作清单), and the open work items across meetings."""
from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from ..core.db import db
from ..core.errors import Refused
from ..core.pagination import paginate
from ..core.permissions import can, require
from ..meetings import operations as meeting_ops
from ..meetings.models import Meeting
from ..topics.models import Topic
from . import schemas
from .base import body, bp, found, operation, page_json
from .topics import find_topic

MEETING_STATUSES = ("planned", "held", "cancelled")


def _work_json(items) -> list[dict]:
    """Work items with the numbers their paths take: the meeting's, and the topic's they serve."""
    today = meeting_ops.local_today(g.tenant)
    ids = {i.topic_id for i in items if i.topic_id}
    numbers = dict(db.execute(select(Topic.id, Topic.number).where(Topic.id.in_(ids))).all()) if ids else {}
    meeting_ids = {i.meeting_id for i in items}
    meetings = dict(db.execute(select(Meeting.id, Meeting.number).where(Meeting.id.in_(meeting_ids))).all()) \
        if meeting_ids else {}
    out = schemas.WorkItemSchema(many=True).dump(items)
    for row, item in zip(out, items):
        row["topic_number"] = numbers.get(item.topic_id)
        row["meeting_number"] = meetings.get(item.meeting_id)
        row["overdue"] = meeting_ops.is_overdue(item, today)
    return out


def _meeting_json(meeting) -> dict:
    out = schemas.MeetingSchema().dump(meeting)
    revisions = meeting_ops.minutes(meeting)
    out["participants"] = schemas.ParticipantSchema(many=True).dump(meeting_ops.participants(meeting))
    out["revisions"] = schemas.MinutesSchema(many=True).dump(revisions)
    out["minutes"] = out["revisions"][0] if revisions else None
    out["topics"] = schemas.MeetingTopicSchema(many=True).dump(
        [{"id": t.id, "number": t.number, "title": t.title, "step": t.step_key, "agreement": mt.agreement,
          "recorded_at": mt.recorded_at} for mt, t in meeting_ops.linked_topics(meeting)])
    out["work_items"] = _work_json(meeting_ops.work_items(meeting))
    return out


def _meeting_change(number: int, schema_cls, change, status: int = 200):
    """Find the meeting (404 first: nothing of another tenant's is parsed), read the body, change it."""
    meeting = found(meeting_ops.get_meeting(number), "meeting")
    change(meeting, body(schema_cls))
    return jsonify(_meeting_json(meeting_ops.get_meeting(number))), status


@bp.get("/t/<slug>/meetings")
@operation("/t/{slug}/meetings", "get", "Meetings (议事会), latest first, 50 a page; ?status=planned|held|cancelled",
           response=schemas.MeetingPage, paged=True,
           query=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": list(MEETING_STATUSES)},
                   "description": "only meetings of this status (any other value: all)"}])
@require("meetings.view")
def meetings():
    stmt = select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.number.desc())
    if request.args.get("status") in MEETING_STATUSES:
        stmt = stmt.where(Meeting.status == request.args["status"])
    return jsonify(page_json(paginate(stmt), schemas.MeetingSchema))


@bp.post("/t/<slug>/meetings")
@operation("/t/{slug}/meetings", "post", "Call a meeting: one or two conveners, participants by 4+X group, topics",
           body=schemas.MeetingCreateSchema, response=schemas.MeetingDetailSchema, status=201, subject="meeting",
           scope="manage")
@require("meetings.manage")
def create_meeting():
    meeting = meeting_ops.create_meeting(g.tenant, g.api_actor, body(schemas.MeetingCreateSchema))
    return jsonify(_meeting_json(meeting)), 201


@bp.get("/t/<slug>/meetings/<int:number>")
@operation("/t/{slug}/meetings/{number}", "get", "A meeting with participants, minutes (every revision), topics "
           "and work list", response=schemas.MeetingDetailSchema)
@require("meetings.view")
def meeting(number: int):
    return jsonify(_meeting_json(found(meeting_ops.get_meeting(number), "meeting")))


@bp.post("/t/<slug>/meetings/<int:number>/minutes")
@operation("/t/{slug}/meetings/{number}/minutes", "post", "Save a new revision of the minutes (earlier ones are kept)",
           body=schemas.MinutesCreateSchema, response=schemas.MeetingDetailSchema, status=201, subject="meeting",
           scope="manage")
@require("meetings.manage")
def meeting_minutes(number: int):
    return _meeting_change(number, schemas.MinutesCreateSchema, lambda m, d: meeting_ops.add_minutes(
        g.tenant, g.api_actor, m, d["text"], note=d["note"], base_revision=d["base_revision"]), 201)


@bp.post("/t/<slug>/meetings/<int:number>/status")
@operation("/t/{slug}/meetings/{number}/status", "post", "Mark a planned meeting held (needs minutes) or cancelled "
           "(needs a reason)", body=schemas.MeetingStatusSchema, response=schemas.MeetingDetailSchema,
           subject="meeting", scope="manage")
@require("meetings.manage")
def meeting_status(number: int):
    return _meeting_change(number, schemas.MeetingStatusSchema, lambda m, d: meeting_ops.set_status(
        g.tenant, g.api_actor, m, d["status"], expected_version=d["version"], reason=d["reason"]))


@bp.post("/t/<slug>/meetings/<int:number>/attendance")
@operation("/t/{slug}/meetings/{number}/attendance", "post", "Record who attended (everyone else did not)",
           body=schemas.AttendanceSchema, response=schemas.MeetingDetailSchema, subject="meeting", scope="manage")
@require("meetings.manage")
def meeting_attendance(number: int):
    return _meeting_change(number, schemas.AttendanceSchema, lambda m, d: meeting_ops.set_attendance(
        g.tenant, g.api_actor, m, d["attended"], expected_version=d["version"]))


@bp.post("/t/<slug>/meetings/<int:number>/topics")
@operation("/t/{slug}/meetings/{number}/topics", "post", "Link a topic with what was agreed on it; with `record`, log "
           "it on the topic as its consultation record", body=schemas.MeetingTopicLinkSchema,
           response=schemas.MeetingDetailSchema, subject="meeting", scope="manage")
@require("meetings.manage")
def meeting_topic(number: int):
    def change(m, d):
        topic = find_topic(d["topic_number"])
        if topic is None:
            raise Refused("本街道没有这个议题", "topic_number", "validation_error")
        meeting_ops.set_agreement(g.tenant, g.api_actor, m, topic, d["agreement"], link=True)
        if d["record"]:
            meeting_ops.record_consultation(g.tenant, g.api_actor, g.api_roles, m, topic)

    return _meeting_change(number, schemas.MeetingTopicLinkSchema, change)


@bp.post("/t/<slug>/meetings/<int:number>/work")
@operation("/t/{slug}/meetings/{number}/work", "post", "Add an agreed action to the meeting's work list (工作清单)",
           body=schemas.WorkItemCreateSchema, response=schemas.MeetingDetailSchema, status=201, subject="meeting",
           scope="manage")
@require("meetings.manage")
def meeting_work(number: int):
    return _meeting_change(number, schemas.WorkItemCreateSchema, lambda m, d: meeting_ops.add_work_item(
        g.tenant, g.api_actor, m, d), 201)


@bp.post("/t/<slug>/meetings/<int:number>/work/<uuid:item_id>")
@operation("/t/{slug}/meetings/{number}/work/{item_id}", "post", "Update a work item: status (done records when), "
           "note, due date", body=schemas.WorkItemUpdateSchema, response=schemas.MeetingDetailSchema,
           subject="meeting", scope="manage")
@require("meetings.view")
def meeting_work_item(number: int, item_id):
    meeting = meeting_ops.get_meeting(number)
    item = found(meeting_ops.get_work_item(meeting, item_id) if meeting else None, "work item")
    return _meeting_change(number, schemas.WorkItemUpdateSchema, lambda m, d: meeting_ops.update_work_item(
        g.tenant, g.api_actor, item, status=d["status"], note=d["note"], due_on=d["due_on"],
        may_manage=can("meetings.manage")))


@bp.get("/t/<slug>/work-items")
@operation("/t/{slug}/work-items", "get", "Open work items across meetings, earliest due first, 50 a page",
           response=schemas.WorkItemPage, paged=True)
@require("meetings.view")
def work_items():
    page = paginate(meeting_ops.open_work_stmt(), scalars=False)
    return jsonify(page_json(page, _work_json([row[0] for row in page.items])))
