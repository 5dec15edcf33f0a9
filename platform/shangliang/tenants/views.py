from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.operations import ASSIGNABLE, create_user
from ..core.errors import Refused
from ..accounts.views import sign_in
from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import public, require, roles_in
from ..i18n import _
from ..notifications.operations import unread_count
from . import operations as ops

bp = Blueprint("tenants", __name__, url_prefix="/t/<slug>")


@bp.get("/manage/")
@require("tenant.view")
def dashboard():
    return render_template("tenants/dashboard.html", roles=sorted(roles_in(current_user, g.tenant)),
                           unread=unread_count(current_user.id), communities=ops.communities(g.tenant),
                           children=ops.children(g.tenant, limit=20) if g.tenant.kind != "street" else [])


@bp.get("/manage/tenants")
@require("tenants.view")
def tenant_list():
    page = paginate(ops.listed_tenants_query(g.tenant))
    counts = ops.member_counts(g.tenant, current_user.id, page.items)
    return render_template("tenants/list.html", page=page, counts=counts,
                           activity=ops.activity(g.tenant, current_user.id, page.items))


@bp.route("/manage/tenants/new", methods=["GET", "POST"])
@require("streets.manage")
def new_tenant():
    """The county's console creates a street; the platform's creates a county."""
    if g.tenant.is_street:
        abort(403)
    form, errors = dict(request.form), {}
    if request.method == "POST":
        try:
            tenant, token = ops.provision(g.tenant, current_user.id, request.form)
            db.commit()
        except Refused as exc:
            db.rollback()
            errors[exc.field or "form"] = _(exc.message)
        else:
            return render_template("tenants/created.html", created=tenant,
                                   link=url_for("tenants.accept_invitation", slug=tenant.slug, token=token,
                                                _external=True) if token else None), 201
    return render_template("tenants/new.html", form=form, errors=errors,
                           choices=ops.procedure_choices(g.tenant) if g.tenant.is_county else []), \
        400 if errors else 200


@bp.post("/manage/status")
@require("streets.manage")
def set_status():
    """Suspend, reactivate or archive this tenant: done by its county (or the platform)."""
    parent = g.tenant.parent
    try:
        if request.form.get("action") == "archive" and request.form.get("confirm") != "1":
            raise Refused("归档前请勾选“确认归档”", "confirm")
        ops.set_status(g.tenant, current_user.id, request.form.get("action", ""), request.form.get("note", ""))
        db.commit()
        flash(_({"suspend": "已暂停 {name}", "reactivate": "已恢复 {name}", "archive": "已归档 {name}"}
                [request.form["action"]], name=g.tenant.name), "success")
    except Refused as exc:
        db.rollback()
        flash(_(exc.message), "error")
    if parent is not None and "streets.manage" in _parent_permissions(parent):
        return redirect(url_for("tenants.tenant_list", slug=parent.slug))
    return redirect(url_for("tenants.tenant_list", slug="platform"))


def _parent_permissions(parent):
    from ..core.permissions import permissions_for

    return permissions_for(roles_in(current_user, parent))


# ---------------------------------------------------------------- invitations

@bp.route("/manage/invitations", methods=["GET", "POST"])
@require("members.manage")
def invitations():
    form, errors, link = dict(request.form), {}, None
    if request.method == "POST":
        try:
            _row, token = ops.create_invitation(g.tenant, current_user.id, request.form.get("role", ""),
                                                request.form.get("note", ""))
            db.commit()
            link = url_for("tenants.accept_invitation", token=token, _external=True)
            form = {}
        except Refused as exc:
            db.rollback()
            errors[exc.field or "form"] = _(exc.message)
    return render_template("tenants/invitations.html", rows=ops.invitations(g.tenant), form=form, errors=errors,
                           link=link, roles=ASSIGNABLE[g.tenant.kind]), 400 if errors else (201 if link else 200)


@bp.post("/manage/invitations/<uuid:invitation_id>/revoke")
@require("members.manage")
def revoke_invitation(invitation_id):
    try:
        ops.revoke_invitation(g.tenant, current_user.id, invitation_id)
        db.commit()
        flash(_("邀请已撤销，链接不再有效"), "success")
    except Refused as exc:
        db.rollback()
        if exc.code == "not_found":
            abort(404)
        flash(_(exc.message), "error")
    return redirect(url_for(".invitations"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    """Whoever holds the link joins once: signed in as themselves, or with a new account."""
    inv = ops.find_invitation(token)
    if inv is None:
        abort(404)
    form, errors, status = dict(request.form), {}, 200
    if inv.state != "open":
        return render_template("tenants/accept.html", inv=inv, form=form, errors={},
                               gone=_(ops.INVITATION_REFUSALS[inv.state])), 410
    if g.tenant.status != "active":
        return render_template("tenants/accept.html", inv=inv, form=form, errors={},
                               gone=_("本单位已被暂停，暂时不能加入")), 403
    if request.method == "POST":
        try:
            if current_user.is_authenticated:
                user = current_user._get_current_object()
            else:
                if request.form.get("password") != request.form.get("password2"):
                    raise Refused("两次输入的密码不一致", "password2")
                user = create_user(request.form.get("username", ""), request.form.get("display_name", ""),
                                   request.form.get("password", ""))
            ops.accept_invitation(g.tenant, token, user)
            sign_in(user)  # commits the account, the membership and the used invitation together
            flash(_("欢迎加入{name}", name=g.tenant.name), "success")
            return redirect(url_for("tenants.dashboard"))
        except Refused as exc:
            db.rollback()
            errors[exc.field or "form"] = _(exc.message)
            status = 410 if exc.code in ("used", "expired", "revoked") else 400
    return render_template("tenants/accept.html", inv=inv, form=form, errors=errors), status
