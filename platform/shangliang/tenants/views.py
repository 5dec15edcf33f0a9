from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.operations import ASSIGNABLE, create_user
from ..accounts.views import sign_in
from ..core import menu
from ..core.errors import Refused
from ..core.lifecycle import Attempt
from ..core.permissions import public, require
from ..i18n import _
from . import operations as ops

bp = Blueprint("tenants", __name__)
menu.entry("tenants.places", "社区与类别", 160, "settings", "tenant.manage", kinds={"street"})


@bp.get("/")
@public
def home():
    """Where a signed-in person starts: their one tenant, or the list of those they belong to."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    tenants = ops.visible_tenants(current_user)
    if len(tenants) == 1:
        return redirect(url_for("console.dashboard", slug=tenants[0].slug))
    return render_template("tenants/home.html", tenants=tenants)


# ---------------------------------------------------------------- invitations

@bp.route("/t/<slug>/manage/invitations", methods=["GET", "POST"])
@require("members.manage")
def invitations():
    form, errors, link = dict(request.form), {}, None
    if request.method == "POST":
        with Attempt() as attempt:
            _row, token = ops.create_invitation(g.tenant, current_user.id, request.form.get("role", ""),
                                                request.form.get("note", ""))
            link = url_for("tenants.accept_invitation", token=token, _external=True)
            form = {}
        errors = attempt.errors
    return render_template("tenants/invitations.html", rows=ops.invitations(g.tenant), form=form, errors=errors,
                           link=link, roles=ASSIGNABLE[g.tenant.kind]), 400 if errors else (201 if link else 200)


@bp.post("/t/<slug>/manage/invitations/<uuid:invitation_id>/revoke")
@require("members.manage")
def revoke_invitation(invitation_id):
    with Attempt() as attempt:
        ops.revoke_invitation(g.tenant, current_user.id, invitation_id)
        flash(_("邀请已撤销，链接不再有效"), "success")
    if attempt.refusal and attempt.refusal.code == "not_found":
        abort(404)
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    return redirect(url_for(".invitations"))


@bp.route("/t/<slug>/invite/<token>", methods=["GET", "POST"])
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
        with Attempt() as attempt:
            if current_user.is_authenticated:
                user = current_user._get_current_object()
            else:
                if request.form.get("password") != request.form.get("password2"):
                    raise Refused("两次输入的密码不一致", "password2")
                user = create_user(request.form.get("username", ""), request.form.get("display_name", ""),
                                   request.form.get("password", ""))
            ops.accept_invitation(g.tenant, token, user)
            sign_in(user)  # the account, the membership and the used invitation commit together
            flash(_("欢迎加入{name}", name=g.tenant.name), "success")
            return redirect(url_for("console.dashboard"))
        errors, status = attempt.errors, attempt.status
    return render_template("tenants/accept.html", inv=inv, form=form, errors=errors), status


# ---------------------------------------------------------------- communities, grids, categories

def _places_text() -> tuple[str, str]:
    lines = [f"{c.name}：{'，'.join(c.grids)}" if c.grids else c.name for c in ops.communities(g.tenant)]
    return "\n".join(lines), "\n".join(g.tenant.categories or [])


@bp.route("/t/<slug>/manage/places", methods=["GET", "POST"])
@require("tenant.manage")
def places():
    """社区、网格与议题类别: the lists topics are filed under, so that nobody types them free."""
    if not g.tenant.is_street:
        abort(403)
    communities, categories = _places_text()
    form, errors = {"communities": communities, "categories": categories}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("communities", "categories")}
        with Attempt("communities") as attempt:
            ops.save_places(g.tenant, current_user.id, form["communities"], form["categories"])
            flash(_("已保存：登记和记录议题时从这些名单中选择"), "success")
            return redirect(url_for(".places"))
        errors = attempt.errors
    return render_template("tenants/places.html", form=form, errors=errors, communities=ops.communities(g.tenant)), \
        400 if errors else 200
