"""OAuth 2.0 authorization code with PKCE (RFC 6749, RFC 7636), by Authlib: a program a street
registered (a mini-program, an intranet portal) gets a person's API token without their password.

The person, signed in, consents on the street's page; the program exchanges the code, with the
PKCE verifier (S256 only), for a new personal API token (accounts/tokens.py) owned by the person,
named after the program, with the scopes granted: what it asked for within what it may ask for.
The person sees it among their tokens and revokes it there. Clients are public (no secret) or
confidential (a secret, hashed); PKCE is required of both.
Codes: only their SHA-256 is kept; used once, within CODE_LIFETIME. Plain functions, they never commit."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import g
from sqlalchemy import delete, select

from ..accounts.models import SCOPES, User
from ..accounts.tokens import create_personal_token
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.errors import Invalid, Refused
from ..core.tenancy import Scope, reset_scope, set_scope
from .models import OAuthClient, OAuthCode

CODE_LIFETIME = timedelta(minutes=5)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# ---------------------------------------------------------------- clients, registered by an administrator

def register_client(tenant, actor_id: int | None, name: str, redirect_uris: str, scopes,
                    confidential: bool = False) -> tuple[OAuthClient, str | None]:
    """The client and, for a confidential one, its secret: shown once, only its SHA-256 kept."""
    problems = {}
    name = (name or "").strip()
    if not name or len(name) > 60:
        problems["name"] = "请填写 1–60 个字符的名称"
    uris = [u.strip() for u in (redirect_uris or "").split() if u.strip()]
    if not uris or any(not _acceptable_uri(u) for u in uris):
        problems["redirect_uris"] = "请每行填写一个回调地址（https://，本机调试可用 http://localhost）"
    chosen = [s for s in SCOPES if s in set(scopes or ())]
    if not chosen or set(scopes or ()) - set(SCOPES):
        problems["scopes"] = "请至少选择一项权限范围"
    if problems:
        raise Invalid(problems, next(iter(problems.values())))
    secret = secrets.token_urlsafe(32) if confidential else None
    row = OAuthClient(tenant_id=tenant.id, name=name, redirect_uris=uris, scopes=" ".join(chosen),
                      secret_hash=_hash(secret) if secret else None, created_by=actor_id)
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "oauth_client.create", name,
           {"client_id": row.id.hex, "redirect_uris": uris, "scopes": chosen, "confidential": bool(secret)})
    return row, secret


def _acceptable_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    if len(uri) > 500 or parts.fragment or not parts.netloc:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))


def set_client_active(tenant, actor_id: int, row: OAuthClient, active: bool) -> None:
    if row.active != active:
        row.active = active
        record(tenant.id, actor_id, "oauth_client.enable" if active else "oauth_client.disable", row.name,
               {"client_id": row.id.hex})


def clients() -> list[OAuthClient]:
    return list(db.scalars(select(OAuthClient).order_by(OAuthClient.created_at.desc())))


def find_client(client_id) -> OAuthClient | None:
    """An active client of the current tenant, by its client_id (hex or UUID)."""
    try:
        cid = client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(hex=str(client_id or ""))
    except ValueError:
        return None
    return db.scalar(select(OAuthClient).where(OAuthClient.tenant_id == g.tenant.id, OAuthClient.id == cid))


# ---------------------------------------------------------------- what Authlib asks of a client and a code

class Client(ClientMixin):
    def __init__(self, row: OAuthClient):
        self.row = row

    def get_client_id(self):
        return self.row.id.hex

    def get_default_redirect_uri(self):
        return None  # the request names one of the registered URIs, always

    def get_allowed_scope(self, scope):
        """What it asked for within what it may ask for (all it may, if it named none); None: nothing."""
        allowed = self.row.scopes.split()
        asked = set((scope or "").split()) or set(allowed)
        granted = [s for s in allowed if s in asked]
        return " ".join(granted) if granted else None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret):
        return self.row.secret_hash is not None and \
            secrets.compare_digest(self.row.secret_hash, _hash(client_secret or ""))

    def check_endpoint_auth_method(self, method, endpoint):
        if self.row.secret_hash is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class Code:
    """An OAuthCode row as Authlib's AuthorizationCodeMixin reads it."""

    def __init__(self, row: OAuthCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scopes

    def get_nonce(self):
        return None

    def get_auth_time(self):
        return None


class S256Only(CodeChallenge):
    """Every authorization request carries a challenge, by S256: "plain" (the default when no
    method is named) shows the verifier to whoever sees the request."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE is required)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': use S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        db.add(OAuthCode(tenant_id=g.tenant.id, client_id=request.client.row.id, code_hash=_hash(code),
                         user_id=request.user.id, redirect_uri=request.payload.redirect_uri, scopes=request.scope,
                         code_challenge=data["code_challenge"],
                         code_challenge_method="S256",
                         expires_at=utcnow() + CODE_LIFETIME))
        db.flush()

    def query_authorization_code(self, code, client):
        row = db.scalar(select(OAuthCode).where(OAuthCode.tenant_id == g.tenant.id,
                                                OAuthCode.code_hash == _hash(code or ""),
                                                OAuthCode.client_id == client.row.id))
        if row is None or row.expires_at <= utcnow():
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code):
        """Used once: of two exchanges at the same moment, the second finds it gone (its DELETE
        waits for the first to commit) and fails, and the token it made is rolled back."""
        gone = db.execute(delete(OAuthCode).where(OAuthCode.tenant_id == g.tenant.id,
                                                  OAuthCode.id == authorization_code.row.id))
        if gone.rowcount != 1:
            raise InvalidGrantError("The code was already used.")

    def authenticate_user(self, authorization_code):
        return db.get(User, authorization_code.row.user_id)


def _query_client(client_id):
    row = find_client(client_id)
    return Client(row) if row is not None and row.active else None


def _issue_token(grant_type, client, user, scope, expires_in=None, include_refresh_token=False):
    """The access token is a personal API token of the person, named after the client. Their
    memberships are read in a scope that names them, as the API's own requests do."""
    previous = g.pop("scope_token", None)
    if previous is not None:
        reset_scope(previous)
    g.scope_token = set_scope(Scope(g.tenant.id, (g.tenant.id,), user.id))
    if not user.is_active_account:
        raise InvalidGrantError("The person can no longer sign in.")
    try:
        row, secret = create_personal_token(g.tenant, user, client.row.name, scope.split())
    except Refused as refused:  # no longer of this tenant since they agreed
        raise InvalidGrantError("The person no longer belongs to this tenant.") from refused
    record(g.tenant.id, user.id, "oauth_client.authorize", client.row.name,
           {"client_id": client.row.id.hex, "token_id": str(row.id), "scopes": scope.split()})
    return {"access_token": secret, "token_type": "Bearer", "scope": scope}


server = AuthorizationServer(query_client=_query_client, save_token=lambda token, request: None)
server.register_grant(CodeGrant, [S256Only(required=True)])


def init_app(app) -> None:
    server.init_app(app)
    server.register_token_generator("default", _issue_token)
