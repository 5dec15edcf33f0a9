"""OAuth 2.0 authorization code with PKCE: a program a street registered gets, with a person's
consent on the street's page, a personal API token that acts as them (integrations/oauth.py)."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import delete, select, update

from conftest import csrf_token
from shangliang.accounts.models import ApiToken, Membership
from shangliang.audit.models import AuditLog
from shangliang.core.db import db, utcnow
from shangliang.core.tenancy import tenant_context
from shangliang.integrations.models import OAuthClient, OAuthCode

REDIRECT = "https://mini.example.cn/callback"


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(admin, slug="yanshan", name="议事小程序", scopes=("read", "topics"), uris=REDIRECT, confidential=False):
    """(client_id) for a public client, (client_id, secret) for a confidential one, as the page shows them once."""
    resp = admin.post(f"/t/{slug}/manage/oauth", data={"csrf_token": csrf_token(admin), "name": name,
                                                       "redirect_uris": uris, "scopes": list(scopes),
                                                       "confidential": "1" if confidential else ""})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:1500]
    page = resp.get_data(as_text=True)
    client_id = re.search(r"client_id 为 ([0-9a-f]{32})", page).group(1)
    if not confidential:
        assert 'id="secret"' not in page
        return client_id
    assert resp.headers["Cache-Control"] == "no-store"
    return client_id, re.search(r'<code class="secret" id="secret">([^<]+)</code>', page).group(1)


def authorize_url(client_id, challenge, slug="yanshan", scope="read topics", redirect_uri=REDIRECT, **extra):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": "xyz", "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return f"/t/{slug}/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(person, url, decision="allow"):
    page = person.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:1500]
    resp = person.post(url, data={"csrf_token": csrf_token(person), "decision": decision})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def exchange(client, client_id, code, verifier, slug="yanshan", redirect_uri=REDIRECT):
    return client.post(f"/t/{slug}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client_id, "code_verifier": verifier})


@pytest.fixture
def app_id(world, as_user):
    return register(as_user("yanshan-admin"))


def test_the_full_flow_gives_a_token_that_acts_as_the_person(app, client, world, as_user, app_id):
    verifier, challenge = pkce()
    member = as_user("yanshan-member")
    page = member.get(authorize_url(app_id, challenge)).get_data(as_text=True)
    assert "议事小程序" in page and "读取" in page and "办理议题" in page and "同意" in page and "拒绝" in page
    query = consent(member, authorize_url(app_id, challenge))
    assert query["state"] == ["xyz"]
    with app.app_context(), tenant_context(world.yanshan.id):
        row = db.scalar(select(OAuthCode))
        assert row.code_hash != query["code"][0] and row.code_challenge == challenge  # kept hashed

    resp = exchange(client, app_id, query["code"][0], verifier)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["token_type"].lower() == "bearer" and body["scope"] == "read topics"
    assert resp.headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/v1/t/yanshan/token", headers=bearer).get_json()
    assert me["owner"]["username"] == "yanshan-member" and me["scopes"] == ["read", "topics"]

    # the person sees it among their tokens, named after the program, and revokes it: it stops at once
    with app.app_context(), tenant_context(world.yanshan.id):
        token = db.scalar(select(ApiToken).where(ApiToken.owner_id == world.users["yanshan-member"].id))
        assert token.name == "议事小程序"
        assert db.scalar(select(OAuthCode)) is None  # the code is used up
        actions = set(db.scalars(select(AuditLog.action)))
        assert {"oauth_client.create", "oauth_client.authorize", "api_token.create"} <= actions
    assert "议事小程序" in member.get("/t/yanshan/tokens").get_data(as_text=True)
    member.post(f"/t/yanshan/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(member)})
    assert client.get("/api/v1/t/yanshan/token", headers=bearer).status_code == 401

    # the code was used once: a second exchange is refused
    again = exchange(client, app_id, query["code"][0], verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_wrong_verifier_wrong_redirect_and_expired_code_are_refused(app, client, world, as_user, app_id):
    member = as_user("yanshan-member")
    verifier, challenge = pkce()
    code = consent(member, authorize_url(app_id, challenge))["code"][0]
    wrong = exchange(client, app_id, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"
    other_uri = exchange(client, app_id, code, verifier, redirect_uri="https://mini.example.cn/other")
    assert other_uri.status_code == 400 and other_uri.get_json()["error"] == "invalid_grant"
    missing = exchange(client, app_id, code, "")
    assert missing.status_code == 400
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(update(OAuthCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    expired = exchange(client, app_id, code, verifier)
    assert expired.status_code == 400 and expired.get_json()["error"] == "invalid_grant"
    assert exchange(client, "0" * 32, code, verifier).get_json()["error"] == "invalid_client"
    elsewhere = exchange(client, app_id, code, verifier, slug="guangwumen")  # a client is its street's
    assert elsewhere.status_code in (400, 401) and elsewhere.get_json()["error"] == "invalid_client"
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(ApiToken)) is None


def test_a_person_who_left_the_street_before_the_exchange_gets_no_token(app, client, world, as_user, app_id):
    member = as_user("yanshan-member")
    verifier, challenge = pkce()
    code = consent(member, authorize_url(app_id, challenge))["code"][0]
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(delete(Membership).where(Membership.user_id == world.users["yanshan-member"].id))
        db.commit()
    resp = exchange(client, app_id, code, verifier)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_grant"
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(ApiToken)) is None


def test_a_disabled_client_is_unknown(as_user, app_id):
    admin = as_user("yanshan-admin")
    admin.post(f"/t/yanshan/manage/oauth/{uuid.UUID(hex=app_id)}/active",
               data={"csrf_token": csrf_token(admin), "active": "0"})
    resp = as_user("yanshan-member").get(authorize_url(app_id, pkce()[1]))
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_an_unknown_client_or_unregistered_redirect_gets_a_page_never_a_redirect(client, as_user, app_id):
    member = as_user("yanshan-member")
    _v, challenge = pkce()
    for url in (authorize_url("0" * 32, challenge), authorize_url("nonsense", challenge),
                authorize_url(app_id, challenge, redirect_uri="https://evil.example.com/cb")):
        for resp in (member.get(url), member.post(url, data={"csrf_token": csrf_token(member), "decision": "allow"})):
            assert resp.status_code == 400 and "Location" not in resp.headers
            assert "授权请求有误" in resp.get_data(as_text=True)


def test_pkce_is_required_by_s256(as_user, app_id):
    member = as_user("yanshan-member")
    verifier, challenge = pkce()
    for url in (authorize_url(app_id, verifier, code_challenge_method="plain"),
                authorize_url(app_id, challenge, code_challenge_method=None),
                authorize_url(app_id, None, code_challenge_method=None)):
        resp = member.get(url)
        assert resp.status_code == 302 and resp.headers["Location"].startswith(REDIRECT)
        assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == ["invalid_request"]


def test_deny_redirects_with_access_denied(app, world, as_user, app_id):
    member = as_user("yanshan-member")
    query = consent(member, authorize_url(app_id, pkce()[1]), decision="deny")
    assert query["error"] == ["access_denied"] and query["state"] == ["xyz"] and "code" not in query
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(OAuthCode)) is None


def test_only_the_streets_people_may_consent(client, as_user, app_id):
    url = authorize_url(app_id, pkce()[1])
    signed_out = client.get(url)
    assert signed_out.status_code == 302 and "/login?next=" in signed_out.headers["Location"]
    stranger = as_user("guangwumen-admin")
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, data={"csrf_token": csrf_token(stranger), "decision": "allow"}).status_code == 404
    # another street does not know the client
    other = authorize_url(app_id, pkce()[1], slug="guangwumen")
    assert stranger.get(other).status_code == 400


def test_scopes_stay_within_what_the_client_may_ask(client, as_user, app_id):
    member = as_user("yanshan-member")
    verifier, challenge = pkce()
    code = consent(member, authorize_url(app_id, challenge, scope="read manage upload"))["code"][0]
    body = exchange(client, app_id, code, verifier).get_json()
    assert body["scope"] == "read"
    me = client.get("/api/v1/t/yanshan/token", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.get_json()["scopes"] == ["read"]
    only_more = member.get(authorize_url(app_id, challenge, scope="manage"))
    assert parse_qs(urlsplit(only_more.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_a_confidential_client_shows_its_secret_too(app, client, world, as_user):
    client_id, secret = register(as_user("yanshan-admin"), name="内网门户", confidential=True)
    with app.app_context(), tenant_context(world.yanshan.id):
        row = db.scalar(select(OAuthClient).where(OAuthClient.name == "内网门户"))
        assert row.secret_hash and secret not in row.secret_hash  # kept hashed
    member = as_user("yanshan-member")
    verifier, challenge = pkce()
    code = consent(member, authorize_url(client_id, challenge))["code"][0]
    assert exchange(client, client_id, code, verifier).get_json()["error"] == "invalid_client"  # no secret
    wrong = client.post("/t/yanshan/oauth/token", auth=(client_id, "wrong"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert wrong.get_json()["error"] == "invalid_client"
    right = client.post("/t/yanshan/oauth/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert right.status_code == 200, right.get_json()
    assert right.get_json()["scope"] == "read topics"


def test_registering_a_client_is_for_administrators_and_checked(as_user, world):
    assert as_user("yanshan-member").get("/t/yanshan/manage/oauth").status_code == 403
    admin = as_user("yanshan-admin")
    bad = admin.post("/t/yanshan/manage/oauth", data={"csrf_token": csrf_token(admin), "name": "x",
                                                       "redirect_uris": "http://example.com/cb", "scopes": []})
    assert bad.status_code == 422 or bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "回调地址" in text and "请至少选择一项权限范围" in text
