"""The console pages: a tenant's staff home, and a county's (or the platform's) list of the tenants
below it, with onboarding and suspension."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..core import menu
from ..core.errors import Refused
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import can, permissions_for, require, roles_in
from ..i18n import _
from ..notifications.operations import unread_count
from ..tenants import operations as tenant_ops
from ..tenants.slugs import suggest_slug
from . import operations as ops

bp = Blueprint("console", __name__, url_prefix="/t/<slug>/manage")
menu.entry("console.dashboard", "概览", 10, "home")
menu.entry("console.tenant_list", {"county": "下辖单位", "platform": "全部单位"}, 20, "settings", "tenants.view",
           kinds={"county", "platform"})
STATUS_DONE = {"suspend": "已暂停 {name}", "reactivate": "已恢复 {name}", "archive": "已归档 {name}"}


@bp.get("/")
@require("tenant.view")
def dashboard():
    roles = roles_in(current_user, g.tenant)
    steps = ops.first_steps(g.tenant, can) if g.tenant.is_street and can("tenant.manage") else []
    return render_template("console/dashboard.html", roles=sorted(roles), unread=unread_count(current_user.id),
                           first_steps=steps,
                           communities=tenant_ops.communities(g.tenant), work=ops.my_work(g.tenant, current_user.id, roles),
                           children=tenant_ops.children(g.tenant, limit=20)
                           if g.tenant.kind != "street" and can("tenants.view") else [])


@bp.get("/tenants")
@require("tenants.view")
def tenant_list():
    page = paginate(tenant_ops.listed_tenants_query(g.tenant))
    counts = tenant_ops.member_counts(g.tenant, current_user.id, page.items)
    return render_template("console/list.html", page=page, counts=counts,
                           activity=ops.activity(g.tenant, current_user.id, page.items))


@bp.route("/tenants/new", methods=["GET", "POST"])
@require("streets.manage")
def new_tenant():
    """The county's console creates a street; the platform's creates a county."""
    if g.tenant.is_street:
        abort(403)
    form, errors, suggested = dict(request.form), {}, None
    if request.method == "POST" and not form.get("slug", "").strip() and form.get("name", "").strip():
        # No 标识 typed (or no script to suggest one while the name was typed): the form comes back
        # with the suggestion filled in, to keep or change, and nothing is created yet.
        form["slug"] = suggested = suggest_slug(form["name"], _child_kind())
    elif request.method == "POST":
        with Attempt() as attempt:
            tenant, token = ops.provision(g.tenant, current_user.id, request.form)
            return render_template("console/created.html", created=tenant,
                                   link=url_for("tenants.accept_invitation", slug=tenant.slug, token=token,
                                                _external=True) if token else None), 201
        errors = attempt.errors
    return render_template("console/new.html", form=form, errors=errors, suggested=suggested,
                           choices=ops.procedure_choices(g.tenant) if g.tenant.is_county else []), \
        400 if errors else 200


@bp.get("/tenants/slug")
@require("streets.manage")
def slug_suggestion():
    """The 标识 suggested for a name, for the new-street form's script (static/slug.js)."""
    if g.tenant.is_street:
        abort(403)
    name = request.args.get("name", "").strip()[:100]
    return jsonify({"slug": suggest_slug(name, _child_kind()) if name else ""})


def _child_kind() -> str:
    return "street" if g.tenant.is_county else "county"


@bp.post("/status")
@require("streets.manage")
def set_status():
    """Suspend, reactivate or archive this tenant: done by its county (or the platform)."""
    parent = g.tenant.parent
    action = request.form.get("action", "")
    with Attempt() as attempt:
        if action == "archive" and request.form.get("confirm") != "1":
            raise Refused("归档前请勾选“确认归档”", "confirm")
        tenant_ops.set_status(g.tenant, current_user.id, action, request.form.get("note", ""))
        flash(_(STATUS_DONE[action], name=g.tenant.name), "success")
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    if parent is not None and "streets.manage" in permissions_for(roles_in(current_user, parent)):
        return redirect(url_for("console.tenant_list", slug=parent.slug))
    return redirect(url_for("console.tenant_list", slug="platform"))
