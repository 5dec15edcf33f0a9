"""The JSON API: token auth, one error shape naming fields, and an OpenAPI document that covers it."""
from __future__ import annotations

import re

import pytest

from conftest import csrf_token


@pytest.fixture
def token(as_user, world):
    """A system's token (no owner) made the way an administrator makes one: on the tenant's tokens page."""
    c = as_user("yanshan-admin")
    resp = c.post("/t/yanshan/manage/tokens", data={"csrf_token": csrf_token(c), "name": "12345 热线对接",
                                                     "role": "street_admin",
                                                     "scopes": ["read", "topics", "upload", "manage"]})
    assert resp.status_code == 200
    return re.search(r"(slt_[0-9a-f]{32}_[A-Za-z0-9_-]+)", resp.get_data(as_text=True)).group(1)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_tenant_and_members(client, token, world):
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(token))
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "燕山街道" and resp.get_json()["parent"] == "lixia"
    members = client.get("/api/v1/t/yanshan/members", headers=auth(token)).get_json()
    assert {m["username"] for m in members["items"]} == {"yanshan-admin", "yanshan-staff", "yanshan-member"}
    assert members["has_next"] is False


def test_add_member_and_see_it_audited(client, token, world):
    resp = client.post("/api/v1/t/yanshan/members", headers=auth(token),
                       json={"username": "nobody", "role": "department"})
    assert resp.status_code == 201 and resp.get_json()["role"] == "department"
    again = client.post("/api/v1/t/yanshan/members", headers=auth(token),
                        json={"username": "nobody", "role": "department"})
    assert again.status_code == 409
    audit = client.get("/api/v1/t/yanshan/audit", headers=auth(token)).get_json()["items"]
    added = [a for a in audit if a["action"] == "membership.add" and a["target"] == "nobody"]
    assert len(added) == 1 and added[0]["detail"]["via"] == "api token 12345 热线对接"
    assert added[0]["actor_id"] is None  # a system's token acts as no person: not as the admin who made it


def test_no_token_is_401_with_the_error_shape(client, world):
    resp = client.get("/api/v1/t/yanshan/members")
    assert resp.status_code == 401
    err = resp.get_json()["error"]
    assert err["code"] == "unauthorized" and "Bearer" in err["message"]


def test_wrong_or_revoked_token_is_refused(app, client, as_user, token, world):
    bad = token[:-4] + "AAAA"
    assert client.get("/api/v1/t/yanshan/tenant", headers=auth(bad)).status_code == 404
    c = as_user("yanshan-admin")
    page = c.get("/t/yanshan/manage/tokens").get_data(as_text=True)
    revoke = re.search(r'action="(/t/yanshan/manage/tokens/[^"]+/revoke)"', page).group(1)
    assert c.post(revoke, data={"csrf_token": csrf_token(c)}).status_code == 302
    resp = client.get("/api/v1/t/yanshan/tenant", headers=auth(token))
    assert resp.status_code == 401 and resp.get_json()["error"]["message"] == "this token was revoked"


def test_token_of_one_tenant_is_not_valid_on_another(client, token, world):
    resp = client.get("/api/v1/t/guangwumen/members", headers=auth(token))
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_malformed_json_names_the_problem(client, token, world):
    resp = client.post("/api/v1/t/yanshan/members", headers={**auth(token), "Content-Type": "application/json"},
                       data=b"{not json")
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_json"


def test_invalid_fields_are_named(client, token, world):
    resp = client.post("/api/v1/t/yanshan/members", headers=auth(token), json={"role": "king"})
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert set(fields) == {"username", "role"}
    resp = client.post("/api/v1/t/yanshan/members", headers=auth(token),
                       json={"username": "nobody", "role": "county_admin"})
    assert resp.status_code == 422 and "role" in resp.get_json()["error"]["fields"]


def test_oversized_body_is_413_json(app, client, token, world):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    resp = client.post("/api/v1/t/yanshan/members", headers={**auth(token), "Content-Type": "application/json"},
                       data=b'{"username": "' + b"x" * 4096 + b'"}')
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_staff_token_may_not_manage(app, client, world):
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(world.yanshan, None, "read only", "staff")
        db.commit()
    assert client.get("/api/v1/t/yanshan/members", headers=auth(secret)).status_code == 200
    resp = client.post("/api/v1/t/yanshan/members", headers=auth(secret), json={"username": "nobody", "role": "staff"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"


def test_unknown_api_path_is_json_404(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code in (401, 404) and resp.is_json


def test_openapi_document_is_valid_and_covers_every_api_rule(app, client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        # the token API's rules and the 12345 platform's signed endpoints (hotline_api)
        if not rule.endpoint.startswith(("api.", "hotline_api.")) or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is not in openapi.json"
    assert "MemberCreate" in doc["components"]["schemas"]


def test_the_hotlines_signed_endpoints_are_in_the_document_with_their_own_security(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["hotline_signature"] == {"type": "apiKey", "in": "header", "name": "X-Shangliang-Signature",
                                            "description": schemes["hotline_signature"]["description"]}
    order = paths["/t/{slug}/hotline/orders"]["post"]
    assert order["security"] == [{"hotline_timestamp": [], "hotline_signature": []}] and "x-scope" not in order
    assert set(order["responses"]) == {"200", "201", "400", "401", "404", "409", "413", "422"}
    assert order["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HotlineOrderIn"}
    read = paths["/t/{slug}/hotline/orders/{number}"]["get"]
    assert set(read["responses"]) == {"200", "400", "401", "404"}
    assert {p["name"]: p["schema"]["type"] for p in read["parameters"]} == {"slug": "string", "number": "string"}
    assert set(paths["/t/{slug}/hotline/orders/{number}/visit"]["post"]["responses"]) == {
        "200", "400", "401", "404", "409", "413", "422"}


# ---------------------------------------------------------------- topics through the API

@pytest.fixture
def hotline(app, world):
    """A 12345 hotline integration: a staff token of 燕山街道, which runs the small procedure."""
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.procedures.operations import publish
    from support.procedures import SMALL

    with app.app_context(), tenant_context(world.yanshan.id):
        publish(world.yanshan, None, SMALL)
        _row, secret = create_api_token(world.yanshan, world.users["yanshan-admin"].id, "12345", "staff")
        db.commit()
    return auth(secret)


def test_a_hotline_system_records_and_moves_a_topic(client, hotline, world):
    resp = client.post("/api/v1/t/yanshan/topics", headers=hotline, json={
        "title": "路灯不亮", "channel": "hotline_12345", "category": "市政", "description": "3 号楼前路灯坏了",
        "resident_phone": "13900001111"})
    assert resp.status_code == 201
    topic = resp.get_json()
    assert (topic["number"], topic["step"], topic["phase"]) == (1, "dian", "intake")
    assert topic["resident_phone"] == "13900001111"  # staff handle topics

    detail = client.get("/api/v1/t/yanshan/topics/1", headers=hotline).get_json()
    assert [e["action"] for e in detail["events"]] == ["create"]
    assert {"advance", "close_out_of_scope"} <= {a["kind"] for a in detail["actions"]}

    moved = client.post("/api/v1/t/yanshan/topics/1/actions", headers=hotline,
                        json={"action": "advance", "to": "shang", "version": detail["version"]})
    assert moved.status_code == 200 and moved.get_json()["step"] == "shang"
    stale = client.post("/api/v1/t/yanshan/topics/1/actions", headers=hotline,
                        json={"action": "comment", "version": detail["version"], "comment": "again"})
    assert stale.status_code == 409 and stale.get_json()["error"]["fields"] == {"version": [
        stale.get_json()["error"]["message"]]}
    listing = client.get("/api/v1/t/yanshan/topics?status=open", headers=hotline).get_json()
    assert [t["number"] for t in listing["items"]] == [1]


def test_topic_api_errors_name_the_field(client, hotline, world):
    resp = client.post("/api/v1/t/yanshan/topics", headers=hotline, json={"title": "", "channel": "fax"})
    assert resp.status_code == 422 and "title" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/t/yanshan/topics", headers=hotline, json={"title": "x", "channel": "fax"})
    assert resp.status_code == 422 and set(resp.get_json()["error"]["fields"]) == {"channel"}
    client.post("/api/v1/t/yanshan/topics", headers=hotline, json={"title": "x", "channel": "wechat"})
    resp = client.post("/api/v1/t/yanshan/topics/1/actions", headers=hotline,
                       json={"action": "close_out_of_scope", "to": "shou", "version": 1})
    assert resp.status_code == 422 and "reason" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/t/yanshan/topics/1/actions", headers=hotline,
                       json={"action": "rate", "version": 1, "data": {"satisfied": True}})
    assert resp.status_code == 403  # not offered at 点单
    assert client.get("/api/v1/t/yanshan/topics/99", headers=hotline).status_code == 404


def test_a_hotline_callback_rates_by_level_and_may_mark_a_rating_invalid(client, hotline, world):
    client.post("/api/v1/t/yanshan/topics", headers=hotline, json={
        "title": "路灯不亮", "channel": "hotline_12345", "category": "市政", "description": "3 号楼前路灯坏了"})

    def act(action, **body):
        version = client.get("/api/v1/t/yanshan/topics/1", headers=hotline).get_json()["version"]
        return client.post("/api/v1/t/yanshan/topics/1/actions", headers=hotline,
                           json={"action": action, "version": version, **body})

    act("advance", to="shang")
    act("consult", data={"agreement": "物业三天内修好"})
    assert act("advance", to="ping").status_code == 200
    resp = act("rate", data={"level": "unsatisfied", "valid": False})
    assert resp.status_code == 422 and set(resp.get_json()["error"]["fields"]) == {"invalid_reason"}
    resp = act("rate", data={"level": "so-so"})
    assert resp.status_code == 422 and set(resp.get_json()["error"]["fields"]) == {"level"}

    resp = act("rate", data={"satisfied": False, "score": 2, "via": "12345"})  # the old two-way form still works
    assert resp.status_code == 200
    rating = resp.get_json()["events"][-1]["rating"]
    assert rating == {"level": "unsatisfied", "satisfied": False, "solved": False, "valid": True, "score": 2,
                      "via": "12345"}
    assert "reopen" in {a["kind"] for a in resp.get_json()["actions"]}

    resp = act("rate", data={"level": "basic", "solved": True, "valid": False, "invalid_reason": "与办理事项无关"})
    assert resp.status_code == 200
    detail = resp.get_json()
    assert detail["events"][-1]["rating"] == {"level": "basic", "satisfied": True, "solved": True, "valid": False,
                                              "invalid_reason": "与办理事项无关", "score": None, "via": ""}
    assert detail["events"][0]["rating"] is None  # only rate events carry one
    assert "reopen" not in {a["kind"] for a in detail["actions"]}  # 基本满意 does not send the topic back


def test_the_openapi_document_describes_a_rating(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    rating_in = schemas["RatingInput"]["properties"]
    assert rating_in["level"]["enum"] == ["very_satisfied", "satisfied", "basic", "unsatisfied"]
    assert {"solved", "valid", "invalid_reason", "score", "via"} <= set(rating_in)
    assert rating_in["satisfied"]["deprecated"]
    action_data = schemas["TopicAction"]["properties"]["data"]
    assert {"$ref": "#/components/schemas/RatingInput"} in action_data["anyOf"]
    assert {"$ref": "#/components/schemas/Rating"} in schemas["Event"]["properties"]["rating"]["anyOf"]
    assert {"level", "solved", "valid", "invalid_reason"} <= set(schemas["Rating"]["properties"])
