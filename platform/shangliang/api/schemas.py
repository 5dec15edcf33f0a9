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
