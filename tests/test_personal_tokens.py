"""Personal API tokens: anyone signed in makes one for themselves; it acts as them, with the roles
they hold at each request and no more than its scopes allow, and stops at once when it is revoked,
their membership removed or their account disabled. Administrators see and revoke every token."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

import factories
from conftest import csrf_token
from shangliang.accounts.models import ApiToken, Membership, User
from shangliang.audit.models import AuditLog
from shangliang.core.db import db, utcnow
from shangliang.core.tenancy import tenant_context
from shangliang.topics.models import Topic, TopicEvent

SECRET = re.compile(r"(slt_[0-9a-f]{32}_[A-Za-z0-9_-]+)")


def make_token(client, slug: str = "yanshan", name: str = "我的小程序", scopes=("read",), expires_on: str = ""):
    """A token made the way a person makes one: on their own tokens page. The secret is in the page once."""
    resp = client.post(f"/t/{slug}/tokens", data={"csrf_token": csrf_token(client), "name": name,
                                                   "scopes": list(scopes), "expires_on": expires_on})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert resp.headers["Cache-Control"] == "no-store"
    return SECRET.search(resp.get_data(as_text=True)).group(1)


def auth(secret):
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def shang(app, world):
    """燕山 on the small procedure with a topic at 商单, where members take topics up (认领)."""
    with app.app_context():
        factories.procedure(world.yanshan)
        topic = factories.topic_at(world.yanshan, "shang", title="楼道灯坏了")
        db.commit()
        return topic.number


def test_a_member_acts_through_the_api_as_themselves(app, client, as_user, world, shang):
    member = world.users["yanshan-member"]
    secret = make_token(as_user("yanshan-member"), scopes=("read", "topics", "manage"))

    me = client.get("/api/v1/t/yanshan/token", headers=auth(secret)).get_json()
    assert me["owner"] == {"user_id": member.id, "username": "yanshan-member", "display_name": "yanshan-member"}
    assert me["roles"] == ["member"] and me["scopes"] == ["read", "topics", "manage"]

    detail = client.get(f"/api/v1/t/yanshan/topics/{shang}", headers=auth(secret)).get_json()
    assert "claim" in {a["kind"] for a in detail["actions"]}  # what the member may do, not what staff may
    claimed = client.post(f"/api/v1/t/yanshan/topics/{shang}/actions", headers=auth(secret),
                          json={"action": "claim", "version": detail["version"]})
    assert claimed.status_code == 200, claimed.get_json()
    event = claimed.get_json()["events"][-1]
    assert (event["action"], event["actor_id"], event["actor_role"]) == ("claim", member.id, "member")

    called = client.post("/api/v1/t/yanshan/meetings", headers=auth(secret), json={
        "title": "楼道灯议事会", "form": "online", "starts_at": "2025-05-20T14:30",
        "participants": [{"name": "王主任", "convener": True}], "topics": [shang]})
    assert called.status_code == 201, called.get_json()

    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == shang))
        claim = db.scalar(select(TopicEvent).where(TopicEvent.topic_id == topic.id, TopicEvent.action == "claim"))
        assert claim.actor_id == member.id
        rows = {a.action: a for a in db.scalars(select(AuditLog).where(
            AuditLog.action.in_(("api_token.create", "meeting.create"))))}
    assert rows["meeting.create"].actor_id == member.id  # the member, not an administrator
    assert rows["meeting.create"].detail["via"] == "api token 我的小程序"
    assert rows["api_token.create"].actor_id == member.id
    assert rows["api_token.create"].detail["owner"] == "yanshan-member"
    assert rows["api_token.create"].detail["scopes"] == ["read", "topics", "manage"]


def test_a_members_token_cannot_do_what_a_member_may_not(client, as_user, world):
    secret = make_token(as_user("yanshan-member"), scopes=("read", "topics", "upload", "manage"))
    added = client.post("/api/v1/t/yanshan/members", headers=auth(secret),
                        json={"username": "nobody", "role": "staff"})
    assert added.status_code == 403 and added.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/t/yanshan/audit", headers=auth(secret)).status_code == 403
    assert client.get("/api/v1/t/yanshan/members", headers=auth(secret)).status_code == 403
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(secret)).status_code == 200


def test_an_operation_needs_its_scope_and_the_refusal_names_it(client, as_user, world, shang):
    secret = make_token(as_user("yanshan-staff"), scopes=("read",))
    detail = client.get(f"/api/v1/t/yanshan/topics/{shang}", headers=auth(secret))
    assert detail.status_code == 200
    assert detail.get_json()["actions"] == []  # it may read the topic, not act on it: nothing is offered
    resp = client.post(f"/api/v1/t/yanshan/topics/{shang}/actions", headers=auth(secret),
                       json={"action": "comment", "version": detail.get_json()["version"], "comment": "x"})
    assert resp.status_code == 403
    err = resp.get_json()["error"]
    assert err["code"] == "insufficient_scope" and "'topics'" in err["message"] and "scope" in err["fields"]
    assert 'scope="topics"' in resp.headers["WWW-Authenticate"]
    upload = client.post("/api/v1/t/yanshan/files/uploads", headers=auth(secret),
                         json={"owner_kind": "topic", "owner_id": str(uuid.uuid4()), "size": 10})
    assert upload.status_code == 403 and "'upload'" in upload.get_json()["error"]["message"]
    station = client.post("/api/v1/t/yanshan/stations", headers=auth(secret), json={"name": "x", "kind": "x"})
    assert station.status_code == 403 and "'manage'" in station.get_json()["error"]["message"]


def test_revoking_stops_the_token_at_the_next_request(app, client, as_user, world):
    member = as_user("yanshan-member")
    secret = make_token(member, name="会被停用")
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(secret)).status_code == 200
    page = member.get("/t/yanshan/tokens").get_data(as_text=True)
    assert secret not in page  # shown once, when made
    revoke = re.search(r'action="(/t/yanshan/tokens/[^"]+/revoke)"', page).group(1)
    assert member.post(revoke, data={"csrf_token": csrf_token(member)}).status_code == 302
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(secret))
    assert resp.status_code == 401 and resp.get_json()["error"]["message"] == "this token was revoked"
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    with app.app_context(), tenant_context(world.yanshan.id):
        row = db.scalar(select(ApiToken).where(ApiToken.name == "会被停用"))
        assert row.revoked_at is not None and row.last_used_at is not None
        revoked = db.scalar(select(AuditLog).where(AuditLog.action == "api_token.revoke"))
        assert revoked.actor_id == world.users["yanshan-member"].id and revoked.target == "会被停用"


def test_a_removed_membership_stops_the_token_at_the_next_request(app, client, as_user, world):
    """Also in the services run, where each process keeps a person's roles under their roles version."""
    secret = make_token(as_user("yanshan-member"))
    for _ in range(2):  # read, then kept by the process
        assert client.get("/api/v1/t/yanshan/tenant", headers=auth(secret)).status_code == 200
    admin = as_user("yanshan-admin")
    removed = admin.post(f"/t/yanshan/manage/members/{world.users['yanshan-member'].id}/remove",
                         data={"csrf_token": csrf_token(admin), "role": "member"})
    assert removed.status_code == 302
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(secret))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["message"] == "the token's owner no longer belongs to this tenant"


def test_a_role_changed_outside_the_app_is_seen_at_the_next_request(app, client, as_user, world):
    """A membership ended by another process (here: by hand in SQL) stops the token too."""
    secret = make_token(as_user("yanshan-staff"), scopes=("read", "manage"))
    assert client.get("/api/v1/t/yanshan/members", headers=auth(secret)).status_code == 200
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(delete(Membership).where(Membership.user_id == world.users["yanshan-staff"].id))
        db.commit()
    assert client.get("/api/v1/t/yanshan/members", headers=auth(secret)).status_code == 401


def test_a_disabled_account_stops_the_token(app, client, as_user, world):
    secret = make_token(as_user("yanshan-staff"))
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(secret)).status_code == 200
    with app.app_context():
        db.execute(update(User).where(User.id == world.users["yanshan-staff"].id).values(is_active_account=False))
        db.commit()
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(secret))
    assert resp.status_code == 401 and "can no longer sign in" in resp.get_json()["error"]["message"]


def test_an_expired_token_is_refused(app, client, as_user, world):
    secret = make_token(as_user("yanshan-staff"), name="到期", expires_on=(utcnow() + timedelta(days=2)).date()
                        .isoformat())
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(secret)).status_code == 200
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(update(ApiToken).where(ApiToken.name == "到期").values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(secret))
    assert resp.status_code == 401 and resp.get_json()["error"]["message"] == "this token has expired"


def test_the_form_names_every_wrong_field_and_keeps_what_was_typed(as_user, world):
    staff = as_user("yanshan-staff")
    resp = staff.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(staff), "name": "", "scopes": [],
                                                 "expires_on": "2000-01-01"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and not SECRET.search(page)
    assert "请填写 1–100 个字符的名称" in page and "请至少选择一项权限范围" in page and "到期日不能早于今天" in page
    assert 'value="2000-01-01"' in page
    resp = staff.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(staff), "name": "远方", "scopes": ["read"],
                                                 "expires_on": "2999-01-01"})
    assert resp.status_code == 400 and "到期日最多为三年以后" in resp.get_data(as_text=True)
    assert 'value="远方"' in resp.get_data(as_text=True)
    resp = staff.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(staff), "name": "x", "scopes": ["root"]})
    assert resp.status_code == 400 and "没有这项权限范围" in resp.get_data(as_text=True)


def test_an_admin_sees_and_revokes_every_token_a_member_only_their_own(app, client, as_user, world):
    member, staff, admin = as_user("yanshan-member"), as_user("yanshan-staff"), as_user("yanshan-admin")
    mine = make_token(member, name="委员的令牌")
    make_token(staff, name="工作人员的令牌")

    own = member.get("/t/yanshan/tokens").get_data(as_text=True)
    assert "委员的令牌" in own and "工作人员的令牌" not in own
    assert "本单位全部令牌" not in own  # the administrators' tab
    assert member.get("/t/yanshan/manage/tokens").status_code == 403
    with app.app_context(), tenant_context(world.yanshan.id):
        theirs = db.scalar(select(ApiToken.id).where(ApiToken.name == "工作人员的令牌"))
        ours = db.scalar(select(ApiToken.id).where(ApiToken.name == "委员的令牌"))
    assert member.post(f"/t/yanshan/tokens/{theirs}/revoke", data={"csrf_token": csrf_token(member)}).status_code \
        == 404

    listing = admin.get("/t/yanshan/manage/tokens").get_data(as_text=True)
    assert "委员的令牌" in listing and "工作人员的令牌" in listing
    assert "yanshan-member" in listing and "yanshan-staff" in listing  # each with its owner
    assert admin.post(f"/t/yanshan/manage/tokens/{ours}/revoke",
                      data={"csrf_token": csrf_token(admin)}).status_code == 302
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(mine)).status_code == 401
    with app.app_context(), tenant_context(world.yanshan.id):
        revoked = db.scalar(select(AuditLog).where(AuditLog.action == "api_token.revoke"))
    assert revoked.actor_id == world.users["yanshan-admin"].id and revoked.detail["owner"] == "yanshan-member"


def test_another_tenants_token_is_not_found(client, as_user, world):
    secret = make_token(as_user("yanshan-staff"))
    for slug in ("langshan", "guangwumen", "lixia"):
        resp = client.get(f"/api/v1/t/{slug}/tenant", headers=auth(secret))
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found", slug
    outsider = as_user("guangwumen-staff")
    resp = outsider.post("/t/yanshan/tokens", data={"csrf_token": csrf_token(outsider), "name": "x", "scopes": ["read"]})
    assert resp.status_code == 404  # no role there: no page, nor a token, for them


def test_a_county_admins_token_in_a_street_acts_with_the_county_role(app, client, as_user, world):
    """Their role there comes from the county's membership, another tenant's row: read in a scope that names them."""
    secret = make_token(as_user("lixia-admin"), scopes=("read",))
    app.extensions["shangliang.caches"].pop("memberships", None)  # as a process that never saw their pages
    me = client.get("/api/v1/t/yanshan/token", headers=auth(secret)).get_json()
    assert me["roles"] == ["county_admin"] and me["owner"]["username"] == "lixia-admin"
    assert client.get("/api/v1/t/yanshan/audit", headers=auth(secret)).status_code == 200


def test_a_systems_token_acts_as_no_person(app, client, world, shang):
    from shangliang.accounts.operations import create_api_token

    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(world.yanshan, world.users["yanshan-admin"].id, "12345", "staff")
        db.commit()
    me = client.get("/api/v1/t/yanshan/token", headers=auth(secret)).get_json()
    assert me["owner"] is None and me["roles"] == ["staff"]
    made = client.post("/api/v1/t/yanshan/topics", headers=auth(secret), json={"title": "噪音扰民",
                                                                                "channel": "hotline_12345"})
    assert made.status_code == 201
    event = client.get(f"/api/v1/t/yanshan/topics/{made.get_json()['number']}", headers=auth(secret)) \
        .get_json()["events"][0]
    assert (event["actor_id"], event["actor_role"]) == (None, "staff")  # not the administrator who made it


def test_the_openapi_document_states_each_operations_scope(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    ops = {(path, method): op for path, ops in doc["paths"].items() for method, op in ops.items()}
    # every operation a token calls; the 12345 platform's signed ones take no token, so no scope
    scopes = {key: op["x-scope"] for key, op in ops.items() if op["security"] == [{"token": []}]}
    assert all("x-scope" not in op for key, op in ops.items() if key not in scopes)
    assert {p for p, _m in ops if (p, _m) not in scopes} == {
        "/t/{slug}/hotline/orders", "/t/{slug}/hotline/orders/{number}", "/t/{slug}/hotline/orders/{number}/visit"}
    assert set(scopes.values()) == {"read", "topics", "upload", "manage", "residents"}
    assert all(s == "read" for (p, m), s in scopes.items() if m == "get" and "/resident/" not in p)
    # a service account's operations for residents, and nothing else, take its own scope
    assert {s for (p, _m), s in scopes.items() if "/resident/" in p} == {"residents"}
    assert scopes[("/t/{slug}/topics/{number}/actions", "post")] == "topics"
    assert scopes[("/t/{slug}/files/uploads", "post")] == "upload"
    assert scopes[("/t/{slug}/members", "post")] == "manage"
    assert "`topics`" in doc["paths"]["/t/{slug}/topics"]["post"]["description"]
    assert "insufficient_scope" in doc["paths"]["/t/{slug}/topics"]["post"]["responses"]["403"]["description"]
