"""Who an API request acts as, and whether its token may do what it asks.

Every request carries `Authorization: Bearer slt_…`, a token of the tenant in its path (another
tenant's is not found: 404, as if the tenant did not exist). Then, at each request, not once: a
token revoked or expired, whose owner's account is disabled or who no longer holds a role in the
tenant, is refused (401). A personal token acts as its owner (`g.api_actor`) with the roles they
hold now (`g.api_roles`); a token with no owner acts for a system, as no person, with its own role.
Every audit row the request writes names the token (`via`). An operation's declared scope
(api/base.operation) must be one of the token's, or it is refused (403) with the scope named.
"""
from __future__ import annotations

from flask import current_app, g, make_response, request

from ..accounts import tokens
from ..accounts.models import SERVICE_ROLE, SERVICE_SCOPE
from ..audit.operations import acting_through
from ..core.tenancy import Scope, reset_scope, set_scope
from .base import bp, fail

REALM = 'Bearer realm="shangliang"'


@bp.before_request
def authenticate_token():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer " + tokens.TOKEN_PREFIX):
        return _unauthorized("send 'Authorization: Bearer slt_…' with an API token")
    if g.get("tenant") is None:
        return fail(404, "not_found", "no such tenant")
    token = tokens.token_from_header(header)
    if token is None:
        # Not this tenant's token: answer as if the tenant did not exist.
        return fail(404, "not_found", "no such tenant for this token")
    owner = token.owner
    _act_as(owner)
    roles, why = tokens.authority(token, g.tenant, owner)
    if why is not None:
        return _unauthorized(tokens.REFUSALS[why], 'error="invalid_token"')
    tokens.note_use(token)
    needed = needed_scope()
    if needed is not None and needed not in token.scope_set:
        return _insufficient(needed, token.role)
    g.api_roles, g.api_token, g.api_actor = roles, token, token.owner_id
    acting_through(f"api token {token.name}")
    return None


def _act_as(owner) -> None:
    """The request's scope names the token's owner, as their own pages' scope names them: their
    memberships in other tenants (a county administrator's, for a street) are theirs to read."""
    previous = g.pop("scope_token", None)
    if previous is not None:
        reset_scope(previous)
    g.scope_token = set_scope(Scope(g.tenant.id, (g.tenant.id,), owner.id if owner is not None else None))


def needed_scope() -> str | None:
    """The scope the operation of this request declared; a method it did not declare needs the
    most a token can hold (nothing undeclared runs for less)."""
    declared = getattr(current_app.view_functions.get(request.endpoint), "api_scopes", None)
    if declared is None or request.method == "OPTIONS":
        return None
    return declared.get("GET" if request.method == "HEAD" else request.method, "manage")


def _unauthorized(message: str, detail: str | None = None):
    response = make_response(fail(401, "unauthorized", message))
    response.headers["WWW-Authenticate"] = f"{REALM}, {detail}" if detail else REALM
    return response


def _insufficient(scope: str, role: str | None):
    message = f"this token lacks the scope '{scope}' that this operation needs"
    if scope == SERVICE_SCOPE:  # no token a person makes can hold it
        message += ": only a service account for residents (居民服务系统, made by the street's administrator) has it"
    elif role == SERVICE_ROLE:
        message += ": a service account for residents may only raise, follow, rate and confirm residents' topics"
    response = make_response(fail(403, "insufficient_scope", message, {"scope": [message]}))
    response.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope", scope="{scope}"'
    return response
