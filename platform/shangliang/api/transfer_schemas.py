"""A transfer (转办) as the API shows it, in a department's inbox, on its own and in its topic's
detail, and what a department's contact sends to reply or to return it."""
from __future__ import annotations

from flask import g
from marshmallow import Schema, fields

from ..departments.operations import answered_by
from ..tenants.models import Tenant
from ..topics import transfers as ops
from ..topics.log import clock
from ..topics.models import TRANSFER_STATES, Topic, Transfer
from .integers import Int32, Int64


class TransferSchema(Schema):
    """Dumped from `transfer_json`: the transfer's row with its topic and street."""

    id = fields.UUID(metadata={"description": "what /transfers/{transfer_id} takes (at the street's slug, or at the "
                                              "county's for a county department's contact)"})
    topic_id = fields.UUID(metadata={"description": "the topic's `id` (the `owner_id` of its files)"})
    topic_number = Int32(metadata={"description": "the topic's number in its street: /t/{street_slug}/topics/{number}"})
    topic_title = fields.String()
    street_slug = fields.String(metadata={"description": "the street the topic is in, which sent the transfer"})
    street_name = fields.String()
    department_tenant_id = Int64(metadata={"description": "the tenant whose list the department is on (the street, "
                                                          "or its county)"})
    department_id = fields.UUID()
    department_name = fields.String(metadata={"description": "as it was named when sent"})
    state = fields.String(metadata={"enum": list(TRANSFER_STATES), "description": "sent 待接收, accepted 办理中, "
                                                                                  "replied 已答复, returned 已退回"})
    asked = fields.String(metadata={"description": "what the street asks the department to do"})
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(metadata={"description": "still open past its due time"})
    sent_by = Int64(allow_none=True, metadata={"description": "the user id of whoever sent it"})
    sent_at = fields.DateTime()
    accepted_by = Int64(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    answered_by = Int64(allow_none=True, metadata={"description": "the contact who replied or returned it"})
    answered_at = fields.DateTime(allow_none=True)
    answer = fields.String(allow_none=True, metadata={
        "description": "the reply (replied) or the reason it was given back (returned); null while open"})
    on_time = fields.Boolean(allow_none=True, metadata={"description": "answered by the due time (12345's rule)"})
    may_answer = fields.Boolean(metadata={
        "description": "whether this token's person is a contact of its department: may accept, reply, return"})


class TransferReplySchema(Schema):
    answer = fields.String(required=True, metadata={
        "maxLength": 5000, "description": "what was done and how it turned out; the photos and documents already "
                                          "added to the transfer (on its page) go with it as evidence"})


class TransferReturnSchema(Schema):
    reason = fields.String(required=True, metadata={
        "maxLength": 1000, "description": "why it is given back, e.g. not this department's duty"})


class TransferPageSchema(Schema):
    items = fields.List(fields.Nested(TransferSchema))
    page = Int64()
    per_page = Int64()
    has_next = fields.Boolean()


STATE_QUERY = {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "answered", "all"]},
               "description": "open (sent or accepted, soonest due first; the default), answered (replied or returned, "
                              "latest first) or all"}
VIEW_QUERY = {"name": "view", "in": "query", "schema": {"type": "string", "enum": ["mine", "sent"]},
              "description": "mine: the transfers to the departments this token's person answers for (the default "
                             "for a contact); sent: those the street sent (its staff, the default for them)"}


def transfer_json(t: Transfer, number: int, title: str, street: Tenant | None = None, *, street_slug=None,
                  street_name=None, answering: bool = False, now=None) -> dict:
    now = now or clock()
    return TransferSchema().dump({
        **{c: getattr(t, c) for c in ("id", "topic_id", "department_tenant_id", "department_id", "department_name",
                                      "state", "asked", "due_at", "sent_by", "sent_at", "accepted_by", "accepted_at",
                                      "answered_by", "answered_at", "on_time")},
        "answer": t.answer if not t.is_open else None, "overdue": t.is_open and t.due_at is not None and t.due_at < now,
        "topic_number": number, "topic_title": title, "street_slug": street.slug if street else street_slug,
        "street_name": street.name if street else street_name, "may_answer": answering})


def of_topic(topic: Topic) -> list[dict]:
    """A topic's transfers, for its detail (in its street)."""
    mine = set(answered_by(g.api_actor)) if g.api_actor is not None else set()
    now = clock()
    return [transfer_json(t, topic.number, topic.title, g.tenant, now=now,
                          answering=(t.department_tenant_id, t.department_id) in mine) for t in ops.of_topic(topic)]
