"""The token's tenant through the API: the tenant itself, its members and its audit log."""
from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from ..accounts import operations as account_ops
from ..accounts.models import Membership, User
from ..audit.models import AuditLog
from ..core.db import db
from ..core.errors import Invalid
from ..core.pagination import paginate
from ..core.permissions import require
from . import schemas
from .base import answer, body, bp, operation, page_json


@bp.get("/t/<slug>/tenant")
@operation("/t/{slug}/tenant", "get", "The token's tenant", response=schemas.TenantSchema)
@require("tenant.view")
def tenant():
    return answer(schemas.TenantSchema, g.tenant)


@bp.get("/t/<slug>/members")
@operation("/t/{slug}/members", "get", "Members of the tenant, 50 a page", response=schemas.MemberPage,
           paged=True)
@require("members.view")
def members():
    page = paginate(select(Membership).join(Membership.user).order_by(User.username, Membership.role))
    return jsonify(page_json(page, schemas.MemberSchema))


@bp.post("/t/<slug>/members")
@operation("/t/{slug}/members", "post", "Give an existing user a role in the tenant",
           body=schemas.MemberCreateSchema, response=schemas.MemberSchema, status=201, subject="role")
@require("members.manage")
def add_member():
    data = body(schemas.MemberCreateSchema)
    user = db.scalar(select(User).where(User.username == account_ops.normalise_username(data["username"])))
    if user is None:
        raise Invalid({"username": "no such user"})
    m = account_ops.add_membership(g.tenant, g.api_token.created_by, user, data["role"],
                                   via=f"api token {g.api_token.name}")
    return answer(schemas.MemberSchema, m, 201)


@bp.get("/t/<slug>/audit")
@operation("/t/{slug}/audit", "get", "The tenant's audit log, newest first", response=schemas.AuditPage,
           paged=True)
@require("audit.view")
def audit():
    page = paginate(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    return jsonify(page_json(page, schemas.AuditSchema))
