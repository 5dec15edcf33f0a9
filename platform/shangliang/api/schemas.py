from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..accounts.models import ROLES


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "field name → problems with it"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class TenantSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["platform", "county", "street"]})
    status = fields.String(metadata={"enum": ["active", "suspended", "archived"]})
    households = fields.Integer(allow_none=True)
    timezone = fields.String()
    parent = fields.Function(lambda t: t.parent.slug if t.parent else None, allow_none=True)


class MemberSchema(Schema):
    user_id = fields.Integer()
    username = fields.Function(lambda m: m.user.username)
    display_name = fields.Function(lambda m: m.user.display_name)
    role = fields.String()
    created_at = fields.DateTime()


class MemberCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AuditSchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True)
    detail = fields.Dict()
    ip = fields.String(allow_none=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": fields.Integer(),
                             "per_page": fields.Integer(), "has_next": fields.Boolean()}, name=name)


MemberPage = page_schema(MemberSchema, "MemberPage")
AuditPage = page_schema(AuditSchema, "AuditPage")


class TopicCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    channel = fields.String(required=True)
    description = fields.String(load_default="")
    category = fields.String(load_default=None, allow_none=True)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(("normal", "urgent")))
    community = fields.String(load_default=None, allow_none=True)
    grid = fields.String(load_default=None, allow_none=True)
    place = fields.String(load_default=None, allow_none=True)
    resident_name = fields.String(load_default=None, allow_none=True)
    resident_phone = fields.String(load_default=None, allow_none=True)


class TopicSchema(Schema):
    number = fields.Integer()
    title = fields.String()
    description = fields.String()
    channel = fields.String()
    category = fields.String(allow_none=True)
    urgency = fields.String()
    community = fields.String(allow_none=True)
    grid = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    resident_name = fields.Method("_name", allow_none=True)
    resident_phone = fields.Method("_phone", allow_none=True)
    step = fields.String(attribute="step_key")
    step_name = fields.Function(lambda t: t.step["name"]["zh"])
    phase = fields.Function(lambda t: t.step["phase"])
    round = fields.Integer()
    status = fields.String()
    closed_as = fields.String(allow_none=True)
    escalated = fields.Boolean()
    overdue = fields.Boolean()
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer(metadata={"description": "send it back with an action: a stale version is refused (409)"})
    procedure_version = fields.Function(lambda t: t.procedure.number)
    details = fields.Dict()

    def _name(self, t):
        return t.resident_name if self.context_handles(t) else (t.resident_name[0] + "**" if t.resident_name else None)

    def _phone(self, t):
        from ..topics.operations import mask_phone

        return t.resident_phone if self.context_handles(t) else mask_phone(t.resident_phone)

    def context_handles(self, t) -> bool:
        return bool(getattr(self, "handles", False))


class EventSchema(Schema):
    seq = fields.Integer()
    action = fields.String()
    from_step = fields.String(allow_none=True)
    to_step = fields.String(allow_none=True)
    phase_from = fields.String(allow_none=True)
    phase_to = fields.String(allow_none=True)
    round = fields.Integer()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String(allow_none=True)
    at = fields.DateTime()
    comment = fields.String()
    data = fields.Dict()


class ActionSchema(Schema):
    kind = fields.String()
    to = fields.String(allow_none=True)
    ready = fields.Boolean()
    missing = fields.List(fields.String())


class TopicDetailSchema(TopicSchema):
    events = fields.List(fields.Nested(EventSchema))
    actions = fields.List(fields.Nested(ActionSchema), metadata={"description": "what this token may do now"})


class TopicActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(
        ("record", "attach", "consult", "sign", "rate", "claim", "invite", "comment", "advance", "reopen", "escalate",
         "transfer", "close_out_of_scope", "close")))
    version = fields.Integer(required=True)
    to = fields.String(load_default=None, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=2000))
    data = fields.Dict(load_default=dict, metadata={"description": "the action's own fields, e.g. {\"reason\": …}"})


TopicPage = page_schema(TopicSchema, "TopicPage")
