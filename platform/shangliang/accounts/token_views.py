"""API token pages. 接口令牌: every signed-in person's own tokens in this tenant (make one with a
name, scopes and an optional expiry; see them; revoke them). 本单位全部令牌: an administrator's view
of every token of the tenant with its owner, where they revoke any and make tokens for systems,
a street's service accounts for residents among them (a WeChat mini-program's back end)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core import menu
from ..core.db import utcnow
from ..core.lifecycle import Attempt
from ..core.permissions import require, roles_in
from ..i18n import _, get_locale
from . import tokens as ops
from .models import ROLE_LABELS, SCOPE_HELP, SCOPE_LABELS, SCOPES

bp = Blueprint("tokens", __name__, url_prefix="/t/<slug>")
# One entry for everyone; an administrator's view of the whole tenant is a tab of the same page.
menu.entry("tokens.mine", "接口令牌", 200, "settings", current="tokens.")


def _form() -> dict:
    return {"name": request.form.get("name", "").strip(), "scopes": request.form.getlist("scopes"),
            "expires_on": request.form.get("expires_on", "").strip(), "role": request.form.get("role", "").strip()}


def _page(template: str, status: int, **context):
    """The page; one that shows a new secret is kept by no cache (nor the browser's back button)."""
    html = render_template(template, scopes=SCOPES, scope_labels=SCOPE_LABELS, scope_help=SCOPE_HELP, now=utcnow(),
                           channels=ops.SERVICE_CHANNELS,
                           last_day=lambda t: t.expires_at - timedelta(seconds=1), **context)
    return html, status, {"Cache-Control": "no-store"} if context.get("created") else {}


def _role_names(roles) -> str:
    return ("、" if get_locale() == "zh" else ", ").join(_(ROLE_LABELS[r]) for r in sorted(roles))


@bp.route("/tokens", methods=["GET", "POST"])
@require("tenant.view")
def mine():
    form, errors, created, status = {"scopes": ["read"]}, {}, None, 200
    if request.method == "POST":
        form = _form()
        with Attempt() as attempt:
            _row, created = ops.create_personal_token(g.tenant, current_user, form["name"], form["scopes"],
                                                      form["expires_on"])
            form = {"scopes": ["read"]}
        errors, status = attempt.errors, attempt.status
    return _page("accounts/tokens.html", status, form=form, errors=errors, created=created,
                 tokens=ops.tokens_of(current_user.id), roles=_role_names(roles_in(current_user, g.tenant)))


@bp.post("/tokens/<uuid:token_id>/revoke")
@require("tenant.view")
def revoke_mine(token_id):
    row = ops.find_token(token_id)
    if row is None or row.owner_id != current_user.id:  # another's token is not there for them
        abort(404)
    ops.revoke_api_token(g.tenant, current_user.id, row)
    flash(_("令牌“{name}”已停用", name=row.name), "success")
    return redirect(url_for(".mine"))


@bp.route("/manage/tokens", methods=["GET", "POST"])
@require("tokens.manage")
def everyone():
    form, errors, created, status = {"scopes": ["read"], "role": "staff"}, {}, None, 200
    if request.method == "POST":
        form = _form()
        with Attempt() as attempt:
            _row, created = ops.create_api_token(g.tenant, current_user.id, form["name"], form["role"],
                                                 form["scopes"], form["expires_on"])
            form = {"scopes": ["read"], "role": "staff"}
        errors, status = attempt.errors, attempt.status
    return _everyone_page(status, form=form, errors=errors, created=created)


@bp.post("/manage/tokens/service")
@require("tokens.manage")
def create_service():
    """A service account for a system that acts for residents: a name, the channel its topics come
    in by, an optional expiry; its token is shown once."""
    form = {"name": request.form.get("name", "").strip(), "channel": request.form.get("channel", "").strip(),
            "expires_on": request.form.get("expires_on", "").strip()}
    created = None
    with Attempt() as attempt:
        _row, created = ops.create_service_token(g.tenant, current_user.id, form["name"], form["channel"],
                                                 form["expires_on"])
        form = {}
    return _everyone_page(attempt.status, created=created, service_form=form, service_errors=attempt.errors)


def _everyone_page(status: int, **context):
    context = {"form": {"scopes": ["read"], "role": "staff"}, "errors": {}, "service_form": {}, "service_errors": {},
               **context}
    service_channels = list(ops.SERVICE_CHANNELS.values()) if g.tenant.is_street else []
    return _page("accounts/tenant_tokens.html", status, tokens=ops.tenant_tokens(), roles=ops.TOKEN_ROLES[g.tenant.kind],
                 service_channels=service_channels, **context)


@bp.post("/manage/tokens/<uuid:token_id>/revoke")
@require("tokens.manage")
def revoke(token_id):
    row = ops.find_token(token_id)
    if row is None:
        abort(404)
    ops.revoke_api_token(g.tenant, current_user.id, row)
    flash(_("令牌“{name}”已停用", name=row.name), "success")
    return redirect(url_for(".everyone"))
