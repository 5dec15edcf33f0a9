"""OAuth 2.0 pages (oauth.py): 授权应用, where a street's administrator registers the programs
that may ask its people for a token; the consent page 授权 at /oauth/authorize, in the street's
brand, where a signed-in member agrees (同意) or not (拒绝); and /oauth/token, where the program
exchanges its code and PKCE verifier for the token (no session, no CSRF token: `token_bp`)."""
from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..accounts.models import SCOPE_HELP, SCOPE_LABELS, SCOPES
from ..core import menu
from ..core.lifecycle import Attempt
from ..core.permissions import public, require
from . import oauth as ops

bp = Blueprint("oauth", __name__, url_prefix="/t/<slug>")
token_bp = Blueprint("oauth_token", __name__, url_prefix="/t/<slug>")
menu.entry("oauth.clients", "授权应用", 206, "settings", "tokens.manage", kinds={"street"}, current="oauth.clients")
bp.record_once(lambda state: ops.init_app(state.app))


@bp.route("/manage/oauth", methods=["GET", "POST"])
@require("tokens.manage")
def clients():
    if not g.tenant.is_street:
        abort(403)
    form, errors, created, status = {"scopes": ["read"]}, {}, None, 200
    if request.method == "POST":
        form = {"name": request.form.get("name", ""), "redirect_uris": request.form.get("redirect_uris", ""),
                "scopes": request.form.getlist("scopes"), "confidential": request.form.get("confidential") == "1"}
        with Attempt() as attempt:
            row, secret = ops.register_client(g.tenant, current_user.id, form["name"], form["redirect_uris"],
                                              form["scopes"], form["confidential"])
            created, form = {"name": row.name, "client_id": row.id.hex, "secret": secret}, {"scopes": ["read"]}
        errors, status = attempt.errors, attempt.status
    html = render_template("integrations/oauth_clients.html", clients=ops.clients(), form=form, errors=errors,
                           created=created, scopes=SCOPES, scope_labels=SCOPE_LABELS)
    return html, status, {"Cache-Control": "no-store"} if created else {}


@bp.post("/manage/oauth/<uuid:client_id>/active")
@require("tokens.manage")
def set_active(client_id):
    row = ops.find_client(client_id)
    if row is None:
        abort(404)
    ops.set_client_active(g.tenant, current_user.id, row, request.form.get("active") == "1")
    return redirect(url_for(".clients"))


def _refused(error: OAuth2Error):
    """Before the redirect URI is known to be the client's, the error is told here, never sent there."""
    if getattr(error, "redirect_uri", None):
        return ops.server.handle_error_response(None, error)
    return render_template("integrations/oauth_error.html", error=error), 400


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@require("tenant.view")
def authorize():
    try:
        grant = ops.server.get_consent_grant(end_user=current_user)
    except OAuth2Error as error:
        return _refused(error)
    if request.method == "POST":
        agreed = request.form.get("decision") == "allow"
        return ops.server.create_authorization_response(grant_user=current_user if agreed else None, grant=grant)
    scopes = grant.request.scope.split()
    return render_template("integrations/oauth_consent.html", client=grant.client.row, scopes=scopes,
                           scope_labels=SCOPE_LABELS, scope_help=SCOPE_HELP,
                           action=request.full_path), 200, {"Cache-Control": "no-store"}


@token_bp.post("/oauth/token")
@public
def token():
    if g.get("tenant") is None:
        abort(404)
    response = ops.server.create_token_response()
    response.headers["Cache-Control"] = "no-store"
    return response
