"""What a service account sends and receives for a resident (api/residents.py): the portal's
点单 fields, a rating, and the resident's public view of their topic (what the portal's follow page
shows: no names, no phone numbers, no staff notes). Messages are the portal's, in Chinese."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..portal.operations import TEXT_MAX, TITLE_MAX
from ..topics import ratings
from .integers import Int32

LAST4 = r"^[0-9]{4}$"
CODE_PARAM = {"type": "string", "minLength": 1, "maxLength": 20, "example": "7K3QZ-M2P8X",
              "description": "the receipt code the resident got when the topic was raised (letters and digits, "
                             "the hyphen optional, any case)"}
LAST4_QUERY = {"name": "last4", "in": "query", "required": True,
               "schema": {"type": "string", "pattern": LAST4, "example": "5678"},
               "description": "the last four digits of the resident's mobile number"}


def _text(label: str, limit: int, *, required: bool = False, **kw) -> fields.String:
    """A text field with the portal's messages (its own checks follow: portal/operations.resident_fields)."""
    messages = {"required": f"请填写{label}", "invalid": f"{label}须为文字", "null": f"请填写{label}"}
    optional = {} if required else {"allow_none": True, "load_default": None}
    return fields.String(required=required, validate=validate.Length(max=limit, error=f"{label}最多 {limit} 个字"),
                         error_messages=messages, **optional, **kw)


class Strict(Schema):
    error_messages = {"unknown": "没有这个字段", "type": "请求体须为 JSON 对象"}


class ResidentRaiseSchema(Strict):
    title = _text("标题", TITLE_MAX, required=True, metadata={"example": "3号楼楼道灯坏了"})
    description = _text("具体情况", TEXT_MAX, required=True)
    community = _text("社区", 60, metadata={"description": "one of the street's communities (社区/村), if it keeps a "
                                                       "list; else free text"})
    place = _text("地点", 100)
    resident_name = _text("称呼", 30, metadata={"description": "how the resident would be addressed (optional)"})
    resident_phone = _text("手机号码", 20, required=True, metadata={
        "example": "13800005678", "description": "the resident's 11-digit mobile number: its last four digits and "
                                                 "the receipt code are how they follow the topic"})


class ResidentProofSchema(Strict):
    last4 = fields.String(required=True, validate=validate.Regexp(LAST4, error="请填写手机号码后四位"),
                          error_messages={"required": "请填写手机号码后四位", "invalid": "请填写手机号码后四位",
                                          "null": "请填写手机号码后四位"}, metadata={"example": "5678"})


class ResidentRatingSchema(ResidentProofSchema):
    level = fields.String(required=True, validate=validate.OneOf(
        ratings.LEVELS, error="满意程度须为 very_satisfied、satisfied、basic 或 unsatisfied 之一"),
        error_messages={"required": "请选择满意程度", "null": "请选择满意程度"})
    solved = fields.Boolean(required=True, error_messages={
        "required": "请选择问题是否已解决", "invalid": "请说明问题是否已解决（true 或 false）", "null": "请选择问题是否已解决"})
    score = Int32(load_default=None, allow_none=True, validate=validate.Range(1, 5, error="评分须为 1–5"),
                  error_messages={"invalid": "评分须为 1–5"}, metadata={"description": "overall, 1–5 (optional)"})
    comment = fields.String(load_default="", validate=validate.Length(max=500, error="意见最多 500 个字"),
                            error_messages={"invalid": "意见须为文字", "null": "意见须为文字"})
    scores = fields.Dict(keys=fields.String(), values=Int32(validate=validate.Range(1, 5, error="评分须为 1–5"),
                                                            error_messages={"invalid": "评分须为 1–5"}),
                         load_default=dict, metadata={
                             "description": "a score 1–5 for each dimension the step rates on, by its key (the "
                                            "procedure's `evaluation.dimensions`), where it has any"})


class PublicStepSchema(Schema):
    key = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    phase = fields.String()
    current = fields.Boolean()


class PublicEventSchema(Schema):
    at = fields.DateTime()
    step = fields.String(metadata={"description": "the step's name (another party's evaluation: the party's)"})
    action = fields.String(metadata={"example": "create"})


class PublicRatingSchema(Schema):
    level = fields.String(metadata={"enum": list(ratings.LEVELS)})
    solved = fields.Boolean()
    score = fields.Integer(allow_none=True)


class ResidentTopicSchema(Schema):
    number = Int32(metadata={"description": "the topic's number in the street (what staff call it)"})
    title = fields.String()
    status = fields.String(metadata={"enum": ["open", "closed"]})
    closed_as = fields.String(allow_none=True)
    channel = fields.String()
    created_at = fields.DateTime()
    step = fields.Nested(PublicStepSchema, metadata={"description": "where it stands (closed: its last step)"})
    steps = fields.List(fields.Nested(PublicStepSchema))
    outcome = fields.String(allow_none=True, metadata={"description": "what was done, once staff wrote it"})
    timeline = fields.List(fields.Nested(PublicEventSchema))
    can_rate = fields.Boolean(metadata={"description": "the resident may rate it now (POST …/rating)"})
    rating = fields.Nested(PublicRatingSchema, allow_none=True)
    plan = fields.String(allow_none=True, metadata={"description": "the agreed plan the resident is asked to "
                                                                   "confirm (商定即办), while it is"})
    can_confirm = fields.Boolean(metadata={"description": "the resident may confirm the plan now (POST …/confirm)"})
    confirmed = fields.Boolean()


class ResidentReceiptSchema(Schema):
    code = fields.String(metadata={"description": "the receipt code (回执码): give it to the resident, it is shown "
                                                  "only this once; with their phone's last four digits it follows, "
                                                  "rates and confirms the topic", "example": "7K3QZ-M2P8X"})
    topic = fields.Nested(ResidentTopicSchema)
