"""The token's tenant through the API: the token itself (who it acts as), the tenant, its members
and its audit log."""
from __future__ import annotations

from flask import g, jsonify
from sqlalchemy import select

from ..accounts import operations as account_ops
from ..accounts.models import SCOPES, Membership, User
from ..audit.models import AuditLog
from ..core.db import db
from ..core.errors import Invalid
from ..core.pagination import paginate
from ..core.permissions import require
from . import schemas
from .base import answer, body, bp, operation, page_json


@bp.get("/t/<slug>/token")
@operation("/t/{slug}/token", "get", "The token of this request: who it acts as (its owner, or none for a system's "
           "token), with which roles now and which scopes", response=schemas.TokenSchema)
@require("tenant.view")
def token():
    t = g.api_token
    return answer(schemas.TokenSchema, {
        "id": t.id, "name": t.name, "owner": t.owner, "roles": sorted(g.api_roles),
        "scopes": [s for s in SCOPES if s in t.scope_set], "expires_at": t.expires_at, "created_at": t.created_at,
        "last_used_at": t.last_used_at})


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
           body=schemas.MemberCreateSchema, response=schemas.MemberSchema, status=201, subject="role", scope="manage")
@require("members.manage")
def add_member():
    data = body(schemas.MemberCreateSchema)
    user = db.scalar(select(User).where(User.username == account_ops.normalise_username(data["username"])))
    if user is None:
        raise Invalid({"username": "no such user"})
    m = account_ops.add_membership(g.tenant, g.api_actor, user, data["role"])
    return answer(schemas.MemberSchema, m, 201)


@bp.get("/t/<slug>/audit")
@operation("/t/{slug}/audit", "get", "The tenant's audit log, newest first", response=schemas.AuditPage,
           paged=True)
@require("audit.view")
def audit():
    page = paginate(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    return jsonify(page_json(page, schemas.AuditSchema))
