from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ..accounts.models import ROLES, SCOPES
from ..topics import ratings
from ..topics.actions import ACTIONS
from ..topics.channels import CHANNELS
from ..topics.people import mask_phone
from .integers import Int32, Int64  # noqa: F401  (every area's schemas take them from here)
from .transfer_schemas import TransferSchema


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "where each problem is → its messages. A path: `title`; `topics[0]`, an item of a list; "
                       "`participants[1].name`, a field of an item; `weights.x.key` (`.value`), a key of a map "
                       "(its value)", "example": {"title": ["Missing data for required field."],
                                                  "topics[0]": ["Not a valid integer."]}})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class TenantSchema(Schema):
    id = Int64()
    slug = fields.String(metadata={"description": "what every path names the tenant by"})
    name = fields.String()
    kind = fields.String(metadata={"enum": ["platform", "county", "street"]})
    status = fields.String(metadata={"enum": ["active", "suspended", "archived"]})
    households = Int64(allow_none=True)
    timezone = fields.String()
    parent = fields.Function(lambda t: t.parent.slug if t.parent else None, allow_none=True)
    parent_id = Int64(allow_none=True)


class MemberSchema(Schema):
    user_id = Int64(metadata={"description": "the person: the `actor_id` of events and audit rows, a roster "
                                             "person's `user_id`"})
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
    actor_id = Int64(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True)
    detail = fields.Dict()
    ip = fields.String(allow_none=True)


class TokenOwnerSchema(Schema):
    user_id = Int64(attribute="id")
    username = fields.String()
    display_name = fields.String()


class TokenSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    owner = fields.Nested(TokenOwnerSchema, allow_none=True, metadata={
        "description": "the person it acts as; null: a system's token, whose actions are logged as the token's"})
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), metadata={
        "description": "what it acts with now: its owner's roles in this tenant (a system token's own role)"})
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), metadata={
        "description": "what it may be used for; each operation names the scope it needs"})
    expires_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "page": Int64(),
                             "per_page": Int64(), "has_next": fields.Boolean()}, name=name)


MemberPage = page_schema(MemberSchema, "MemberPage")
AuditPage = page_schema(AuditSchema, "AuditPage")


class TopicCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    channel = fields.String(required=True, metadata={"enum": list(CHANNELS)})  # checked at intake, in Chinese
    # the lengths intake refuses past (topics.intake, its messages in Chinese), for the document
    description = fields.String(load_default="", metadata={"maxLength": 5000})
    category = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 32})
    urgency = fields.String(load_default="normal", validate=validate.OneOf(("normal", "urgent")))
    community = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 60})
    grid = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 60})
    place = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 200})
    resident_name = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 60})
    resident_phone = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 20})


class TopicSchema(Schema):
    id = fields.UUID(metadata={"description": "the `owner_id` of its photos and attachments (files)"})
    number = Int32(metadata={"description": "what the topic's paths take: /topics/{number}"})
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
    round = Int32()
    status = fields.String()
    closed_as = fields.String(allow_none=True)
    escalated = fields.Boolean()
    overdue = fields.Boolean()
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    created_by = Int64(allow_none=True, metadata={"description": "the user id of whoever recorded it"})
    version = Int32(metadata={"description": "send it back with an action: a stale version is refused (409)"})
    procedure_version = fields.Function(lambda t: t.procedure.number, metadata={
        "type": "integer", "description": "the number of the procedure version it runs on: "
                                          "/procedure/versions/{number}"})
    details = fields.Dict()

    def _name(self, t):
        return t.resident_name if self.context_handles(t) else (t.resident_name[0] + "**" if t.resident_name else None)

    def _phone(self, t):
        return t.resident_phone if self.context_handles(t) else mask_phone(t.resident_phone)

    def context_handles(self, t) -> bool:
        return bool(getattr(self, "handles", False))


_LEVEL_NOTES = {ratings.BASIC: " (does not send the topic back)",
                ratings.UNSATISFIED: " (offers `reopen`, 复盘, where the procedure has it)"}


class RatingInputSchema(Schema):
    """The `data` of a `rate` action (评单), for the document: `topics.ratings.check` checks it."""

    class Meta:
        unknown = EXCLUDE  # the document's own check; `ratings.check` refuses an unknown key by name

    party = fields.String(metadata={
        "description": "where the step names its evaluating parties (the procedure's `evaluation.parties`, e.g. "
                       "四环八步's dangzheng 党政点评, weiyuan 委员评议, residents 群众评议): the one this evaluation "
                       "speaks for; taken from the caller's roles when only one fits"})
    level = fields.String(validate=validate.OneOf(ratings.LEVELS), metadata={
        "description": ", ".join(f"{level} {ratings.LABELS[level]}{_LEVEL_NOTES.get(level, '')}"
                                 for level in ratings.LEVELS) + "; required unless `satisfied` is sent"})
    satisfied = fields.Boolean(metadata={"deprecated": True,
                                         "description": "the old two-way rating: true is `satisfied`, false "
                                                        "`unsatisfied`; read only when `level` is absent"})
    solved = fields.Boolean(metadata={"description": "问题是否已解决; by default true unless the level is unsatisfied"})
    valid = fields.Boolean(metadata={
        "description": "false marks a rating that says nothing about the work (恶意评价, 与办理事项无关): it is kept "
                       "but left out of satisfaction figures"})
    invalid_reason = fields.String(validate=validate.Length(max=200),
                                   metadata={"description": "required when `valid` is false"})
    score = Int64(allow_none=True, validate=validate.Range(1, 5))
    via = fields.String(validate=validate.Length(max=32), metadata={"example": "12345",
                                                                    "description": "the channel it came through"})
    score_duration = Int64(validate=validate.Range(1, 5), metadata={
        "description": "one `score_<key>` (1–5) per dimension the step declares (`evaluation.dimensions`, e.g. "
                       "提议办评's duration 时长, kind 类型, effect 成效); each is required there, refused elsewhere"})


class RatingSchema(Schema):
    """A logged rating with every field, also for one logged before levels existed."""

    level = fields.String(metadata={"enum": list(ratings.LEVELS)})
    satisfied = fields.Boolean(metadata={"description": "every level but unsatisfied"})
    party = fields.String(metadata={"description": "the evaluating party, where the step names parties"})
    decides = fields.Boolean(metadata={"description": "this party's rating decides a reopen and counts in "
                                                      "satisfaction figures (true where the step names no parties)"})
    scores = fields.Dict(keys=fields.String(), values=Int64(),
                         metadata={"description": "each declared dimension's 1–5 score"})
    solved = fields.Boolean()
    valid = fields.Boolean()
    invalid_reason = fields.String(metadata={"description": "present when `valid` is false"})
    score = Int64(allow_none=True)
    via = fields.String()


class EventSchema(Schema):
    id = fields.UUID()
    seq = Int32()
    action = fields.String()
    from_step = fields.String(allow_none=True)
    to_step = fields.String(allow_none=True)
    phase_from = fields.String(allow_none=True)
    phase_to = fields.String(allow_none=True)
    round = Int32()
    actor_id = Int64(allow_none=True, metadata={"description": "the user id of who acted: a personal token's "
                                                                "owner; null for a system's token"})
    actor_role = fields.String(allow_none=True)
    at = fields.DateTime()
    comment = fields.String()
    data = fields.Dict(metadata={"description": "what the action recorded, as it was logged"})
    rating = fields.Method("_rating", allow_none=True, metadata={
        "allOf": [{"$ref": "#/components/schemas/Rating"}],
        "description": "for a `rate` event, its rating with every field (older ratings have no level logged)"})

    def _rating(self, event):
        return RatingSchema().dump(ratings.rating_of(event.data)) if event.action == ratings.RATE else None


class ActionSchema(Schema):
    kind = fields.String()
    to = fields.String(allow_none=True)
    ready = fields.Boolean()
    missing = fields.List(fields.String())


class TopicDetailSchema(TopicSchema):
    events = fields.List(fields.Nested(EventSchema))
    actions = fields.List(fields.Nested(ActionSchema), metadata={"description": "what this token may do now"})
    transfers = fields.List(fields.Nested(TransferSchema), metadata={
        "description": "its transfers to departments (转办), first sent first: their ids are what /transfers/"
                       "{transfer_id} takes"})


class TopicActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(tuple(ACTIONS)))  # the registry's kinds
    version = Int32(required=True)
    to = fields.String(load_default=None, allow_none=True)
    comment = fields.String(load_default="", validate=validate.Length(max=2000))
    data = fields.Dict(load_default=dict, metadata={
        "description": "the action's own fields, e.g. {\"reason\": …}; for `rate`, a RatingInput",
        "anyOf": [{"$ref": "#/components/schemas/RatingInput"}, {"type": "object"}],
        "example": {"level": ratings.BASIC, "solved": True, "score": 4, "via": "12345"}})


TopicPage = page_schema(TopicSchema, "TopicPage")


# ---------------------------------------------------------------- meetings (议事会)

MEETING_FORMS = ("on_site", "meeting_room", "written", "online")
MEETING_GROUPS = ("member", "cadre", "department", "resident", "stakeholder")


class ParticipantInSchema(Schema):
    person_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "someone on the roster"})
    name = fields.String(load_default="", validate=validate.Length(max=60),
                         metadata={"description": "someone not on the roster"})
    group = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(MEETING_GROUPS),
                          metadata={"description": "4+X group; from the roster kind when omitted"})
    convener = fields.Boolean(load_default=False, metadata={"description": "one or two per meeting (双召集人)"})


class MeetingCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    form = fields.String(required=True, validate=validate.OneOf(MEETING_FORMS))
    starts_at = fields.String(required=True, metadata={
        "description": "ISO 8601; without an offset it is local time in the tenant's time zone",
        "example": "2025-05-20T14:30"})
    place = fields.String(load_default="", validate=validate.Length(max=200))
    station_id = fields.UUID(load_default=None, allow_none=True)
    agenda = fields.String(load_default="", validate=validate.Length(max=5000))
    participants = fields.List(fields.Nested(ParticipantInSchema), required=True)
    topics = fields.List(Int32(), load_default=list, metadata={"description": "topic numbers consulted"})


class ParticipantSchema(Schema):
    id = fields.UUID()
    person_id = fields.UUID(allow_none=True)
    name = fields.String()
    group = fields.String()
    convener = fields.Boolean()
    attended = fields.Boolean(allow_none=True)


class MinutesSchema(Schema):
    revision = Int32()
    text = fields.String()
    note = fields.String()
    created_by = Int64(allow_none=True)
    created_at = fields.DateTime()


class WorkItemSchema(Schema):
    id = fields.UUID(metadata={"description": "/meetings/{meeting_number}/work/{id}; the `owner_id` of its files"})
    meeting_id = fields.UUID()
    meeting_number = Int32(metadata={"description": "the meeting whose work list it is on"})
    title = fields.String()
    owner_person_id = fields.UUID(allow_none=True)
    owner_name = fields.String()
    due_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": ["open", "in_progress", "done"]})
    note = fields.String()
    done_at = fields.DateTime(allow_none=True)
    topic_id = fields.UUID(allow_none=True)
    topic_number = Int32(allow_none=True)
    overdue = fields.Boolean()


class MeetingTopicSchema(Schema):
    id = fields.UUID(metadata={"description": "the topic's id"})
    number = Int32(metadata={"description": "the topic's number"})
    title = fields.String()
    step = fields.String()
    agreement = fields.String()
    recorded_at = fields.DateTime(allow_none=True, metadata={"description": "when logged on the topic"})


class MeetingSchema(Schema):
    id = fields.UUID(metadata={"description": "the `owner_id` of its photos and attachments (files)"})
    number = Int32(metadata={"description": "what the meeting's paths take: /meetings/{number}"})
    title = fields.String()
    form = fields.String(metadata={"enum": list(MEETING_FORMS)})
    starts_at = fields.DateTime()
    place = fields.String()
    station_id = fields.UUID(allow_none=True)
    agenda = fields.String()
    status = fields.String(metadata={"enum": ["planned", "held", "cancelled"]})
    version = Int32(metadata={"description": "send it back with a change: a stale version is refused (409)"})
    created_by = Int64(allow_none=True, metadata={"description": "the user id of whoever called it"})
    created_at = fields.DateTime()


class MeetingDetailSchema(MeetingSchema):
    participants = fields.List(fields.Nested(ParticipantSchema))
    minutes = fields.Nested(MinutesSchema, allow_none=True, metadata={"description": "the current revision"})
    revisions = fields.List(fields.Nested(MinutesSchema), metadata={"description": "every revision, newest first"})
    topics = fields.List(fields.Nested(MeetingTopicSchema))
    work_items = fields.List(fields.Nested(WorkItemSchema))


class MinutesCreateSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=50_000))
    note = fields.String(load_default="", validate=validate.Length(max=200))
    base_revision = Int32(required=True, metadata={
        "description": "the revision this text was edited from (0 for the first); a stale one is refused (409)"})


class MeetingStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("held", "cancelled")))
    version = Int32(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class AttendanceSchema(Schema):
    attended = fields.List(fields.UUID(), required=True, metadata={"description": "participant ids present"})
    version = Int32(required=True)


class MeetingTopicLinkSchema(Schema):
    topic_number = Int32(required=True)
    agreement = fields.String(load_default="", validate=validate.Length(max=5000))
    record = fields.Boolean(load_default=False, metadata={
        "description": "also log the agreement on the topic as its consultation record (协商记录)"})


class WorkItemCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    owner_person_id = fields.UUID(load_default=None, allow_none=True)
    owner_name = fields.String(load_default="", validate=validate.Length(max=100))
    due_on = fields.Date(required=True)
    topic_number = Int32(load_default=None, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class WorkItemUpdateSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "in_progress", "done")))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    due_on = fields.Date(load_default=None, allow_none=True)


MeetingPage = page_schema(MeetingSchema, "MeetingPage")
WorkItemPage = page_schema(WorkItemSchema, "WorkItemPage")
