from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_login import current_user

from ..core.pagination import paginate
from ..core.permissions import public, require, roles_in
from ..notifications.operations import unread_count
from . import operations as ops

bp = Blueprint("tenants", __name__, url_prefix="/t/<slug>")


@bp.get("/")
@public
def portal():
    """The tenant's public front page; the street portal (issue 4) grows from here."""
    streets = ops.children(g.tenant) if g.tenant.is_county else []
    return render_template("tenants/portal.html", streets=streets)


@bp.get("/manage/")
@require("tenant.view")
def dashboard():
    return render_template("tenants/dashboard.html", roles=sorted(roles_in(current_user, g.tenant)),
                           unread=unread_count(current_user.id),
                           children=ops.children(g.tenant, limit=20) if g.tenant.kind != "street" else [])


@bp.get("/manage/tenants")
@require("tenants.view")
def tenant_list():
    page = paginate(ops.listed_tenants_query(g.tenant))
    counts = ops.member_counts(g.tenant, current_user.id, page.items)
    return render_template("tenants/list.html", page=page, counts=counts)
