"""The 12345 platform's signed endpoints in the OpenAPI document. They are the hotline blueprint's
(integrations/hotline/inbound.py: no token, an HMAC signature with the county account's secret);
declared here, where the document is built from, with what their bodies hold and what they answer.
Their paths name the county; orders are named by the hotline's own numbers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..integrations.hotline.models import ORDER_STATES, QUEUE_REASONS
from ..integrations.hotline.orders import MAX_ATTACHMENTS
from ..topics import ratings
from .base import operation
from .integers import Int32, Int64

NUMBER = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$", "description": "the hotline's order number (工单编号)"}


class CallerSchema(Schema):
    name = fields.String(validate=validate.Length(max=60), metadata={"description": "personal data, kept masked"})
    phone = fields.String(metadata={"description": "mobile (11 digits) or a landline with its area code"})


class OrderAttachmentSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    url = fields.String(required=True, metadata={"pattern": r"^https?://\S{1,490}$",
                                                 "description": "a link into the hotline's own system"})


class HotlineOrderInSchema(Schema):
    number = fields.String(required=True, metadata={"pattern": NUMBER["pattern"], "description": "工单编号: the "
                                                    "order's identity; sent again, it updates the same order"})
    called_at = fields.String(required=True, metadata={
        "description": "来电时间, ISO 8601 (without an offset: the county's time)", "example": "2026-12-07T09:30:00+08:00"})
    caller = fields.Nested(CallerSchema)
    address = fields.String(required=True, validate=validate.Length(min=1, max=200),
                            metadata={"description": "where the problem is: which street gets it is read from it"})
    category = fields.String(validate=validate.Length(max=32))
    title = fields.String(validate=validate.Length(max=120), metadata={"description": "else the content's first words"})
    content = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    attachments = fields.List(fields.Nested(OrderAttachmentSchema), validate=validate.Length(max=MAX_ATTACHMENTS))
    due_at = fields.String(metadata={"description": "办理时限, ISO 8601"})
    revised_at = fields.String(metadata={"description": "when the hotline last changed it: an older version than the "
                                                        "one here is ignored (`stale`)"})


class HotlineVisitSchema(Schema):
    level = fields.String(required=True, validate=validate.OneOf(ratings.LEVELS))
    solved = fields.Boolean(required=True, metadata={"description": "问题是否已解决"})
    comment = fields.String(validate=validate.Length(max=500))
    score = Int64(allow_none=True, validate=validate.Range(1, 5))
    valid = fields.Boolean(metadata={"description": "false: an invalid visit (kept, not counted); default true"})
    invalid_reason = fields.String(metadata={"description": "required when `valid` is false"})


class OrderStreetSchema(Schema):
    slug = fields.String(metadata={"description": "the street's slug: its paths, /t/{slug}/…"})
    name = fields.String()


class OrderTopicSchema(Schema):
    number = Int32(metadata={"description": "the topic's number in its street: /t/{street}/topics/{number}"})


class HotlineOrderSchema(Schema):
    number = fields.String(metadata={"description": "what /hotline/orders/{number} takes"})
    state = fields.String(metadata={"enum": list(ORDER_STATES)})
    street = fields.Nested(OrderStreetSchema, allow_none=True, metadata={"description": "null while queued"})
    topic = fields.Nested(OrderTopicSchema, allow_none=True)
    queue_reason = fields.String(allow_none=True, metadata={"enum": [*QUEUE_REASONS, None]})
    updates = Int32(metadata={"description": "how many times the hotline changed the order"})
    result = fields.String(metadata={"enum": ["created", "queued", "updated", "unchanged", "stale", "rated"],
                                     "description": "what this request did (absent on a read)"})


PATH = "/t/{slug}/hotline/orders"
SIGNED = "Signed by the county's 12345 platform (no token): see the `hotline_signature` security scheme. "
operation(PATH, "post", "A 12345 work order, new or updated: it becomes a topic of the street its address names, or "
          "waits in the county's queue", signed=True, body=HotlineOrderInSchema, response=HotlineOrderSchema,
          status=201, also=((200, "An order already here: updated, unchanged (sent again) or stale (older)"),),
          description=SIGNED + "`slug`: the county. 201: new (`created` at a street, or `queued`).")
operation(PATH + "/{number}", "get", "Where a work order stands: its street and topic, or the queue", signed=True,
          response=HotlineOrderSchema, params={"number": NUMBER}, description=SIGNED + "`slug`: the county.")
operation(PATH + "/{number}/visit", "post", "The 回访 result: the resident's evaluation, recorded at the topic's "
          "evaluation step", signed=True, body=HotlineVisitSchema, response=HotlineOrderSchema,
          params={"number": NUMBER}, description=SIGNED + "`result`: `rated`, or `unchanged` when the same result came "
          "again. 409: the topic is not at its evaluation step, or already rated otherwise in this visit.")
