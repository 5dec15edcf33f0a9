"""The API's errors as its document describes them: every problem of a body under its own path
with a list of messages (an item of a list too), a method a path does not declare answered 405
before anyone is asked for a token, text no database keeps refused instead of failing at it, and a
document that lists, for each operation, the statuses it answers."""
from __future__ import annotations

import pytest

from test_api import auth, token  # noqa: F401  (fixture: a street administrator's token)


def error_of(resp) -> dict:
    assert resp.is_json, resp.get_data(as_text=True)[:200]
    return resp.get_json()["error"]


# ---------------------------------------------------------------- nested problems, flat

def test_each_item_of_a_list_is_named_by_its_path(client, token):
    resp = client.post("/api/v1/t/yanshan/meetings", headers=auth(token), json={
        "title": "议事会", "form": "on_site", "starts_at": "2025-05-20T14:30",
        "participants": [{"name": "甲", "convener": True}, {"group": "king", "convener": "maybe"}, 7],
        "topics": [1, "two", 3]})
    assert resp.status_code == 422
    fields = error_of(resp)["fields"]
    assert set(fields) == {"topics[1]", "participants[1].group", "participants[1].convener", "participants[2]"}
    assert all(isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
               for messages in fields.values())


def test_a_list_of_ids_names_the_bad_one(client, token):
    resp = client.post("/api/v1/t/yanshan/duty", headers=auth(token), json={
        "station_id": "8f0c7a52-6c5e-4a43-9b1e-0d8f2f1c3a11", "person_ids": [{}], "days": ["2025-05-20", "soon"]})
    assert resp.status_code == 422
    assert set(error_of(resp)["fields"]) == {"person_ids[0]", "days[1]"}


def test_a_map_names_its_wrong_key(app, client, world):
    from shangliang.accounts.operations import create_api_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(world.lixia.id):  # settings belong to counties
        _row, county = create_api_token(world.lixia, None, "对标", "county_admin")
        db.commit()
    resp = client.put("/api/v1/t/lixia/benchmarks/settings", headers=auth(county),
                      json={"weights": {"charm": 50}, "points": {"claim": 1000}})
    assert resp.status_code == 422
    assert set(error_of(resp)["fields"]) == {"weights.charm.key", "points.claim.value"}


def test_a_body_that_is_not_an_object_is_malformed(client, token):
    for body in ([{"username": "nobody"}], "nobody", 7):
        resp = client.post("/api/v1/t/yanshan/members", headers=auth(token), json=body)
        assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_json"


# ---------------------------------------------------------------- methods

@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/api/v1/t/yanshan/tenant", "GET, HEAD, OPTIONS"),
    ("PUT", "/api/v1/t/yanshan/topics", "GET, HEAD, OPTIONS, POST"),
    ("PATCH", "/api/v1/t/yanshan/benchmarks/settings", "GET, HEAD, OPTIONS, PUT"),
    ("DELETE", "/api/v1/t/no-such-street/topics/1", "GET, HEAD, OPTIONS"),  # before the tenant is looked up
])
@pytest.mark.parametrize("with_token", [True, False])
def test_a_method_the_path_does_not_declare_is_405_before_the_token(client, token, method, path, allow, with_token):
    resp = client.open(path, method=method, headers=auth(token) if with_token else {})
    assert resp.status_code == 405 and resp.headers["Allow"] == allow
    assert error_of(resp)["code"] == "method_not_allowed"


def test_options_lists_the_methods_without_a_token_and_head_needs_one(client, token):
    resp = client.options("/api/v1/t/yanshan/topics")
    assert resp.status_code == 200 and resp.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.head("/api/v1/t/yanshan/topics").status_code == 401
    head = client.head("/api/v1/t/yanshan/topics", headers=auth(token))
    assert head.status_code == 200 and head.get_data() == b""


def test_pages_answer_the_same_before_the_tenant_is_looked_up(as_user, world):
    """The checks run before the tenant and its scope are set: a signed-in person still gets the
    error page (it reads their own tenants), not a server error."""
    admin = as_user("yanshan-admin")
    resp = admin.delete("/t/yanshan/topics/")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert "不支持此请求方式" in resp.get_data(as_text=True)
    resp = admin.get("/t/yanshan/topics/?q=%E6%9D%8E%00")
    assert resp.status_code == 400 and "空字符" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- text no database keeps

@pytest.mark.parametrize("path", ["/api/v1/t/yanshan/people?q=%E6%9D%8E%00", "/api/v1/t/yan%00shan/tenant",
                                  "/api/v1/t/yanshan/topics?st%00atus=open"])
def test_a_nul_in_the_path_or_query_is_a_malformed_request(client, token, path):
    resp = client.get(path, headers=auth(token))
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_request"


def test_a_nul_or_half_a_surrogate_pair_in_a_body_is_refused_by_its_path(client, token):
    resp = client.post("/api/v1/t/yanshan/people", headers={**auth(token), "Content-Type": "application/json"},
                       data='{"kind": "member", "name": "李\\u0000明", "specialties": ["法律", "\\ud800"],'
                            ' "note": "ok"}')
    assert resp.status_code == 422
    assert set(error_of(resp)["fields"]) == {"name", "specialties[1]"}


def test_a_roster_file_named_with_a_nul_is_imported_under_its_clean_name(client, token):
    import io

    resp = client.post("/api/v1/t/yanshan/roster/imports", headers=auth(token), content_type="multipart/form-data",
                       data={"file": (io.BytesIO("类别,姓名\n委员,李明\n".encode()), "名册\x00.csv")})
    assert resp.status_code == 202 and resp.get_json()["filename"] == "名册.csv"


def test_a_nul_in_a_form_is_still_refused_by_the_form_itself(as_user, world):
    """Pages name the field and keep what was typed (core/forms.py): the request-wide check of
    paths and queries leaves forms to them."""
    from conftest import csrf_token

    admin = as_user("yanshan-admin")
    resp = admin.post("/t/yanshan/departments/", data={"csrf_token": csrf_token(admin), "name": "燃气公司\x00",
                                                        "kind": "enterprise", "note": "天然气入户"})
    assert resp.status_code == 400 and "不能包含控制字符" in resp.get_data(as_text=True)
    assert "天然气入户" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- the document

def test_the_document_lists_what_each_operation_answers(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["servers"] == [{"url": "/api/v1"}]
    fields = doc["components"]["schemas"]["ErrorDetail"]["properties"]["fields"]
    assert fields["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert {"code", "message"} <= set(doc["components"]["schemas"]["ErrorDetail"]["required"])
    statuses = {(path, method): set(op["responses"]) for path, ops in doc["paths"].items()
                for method, op in ops.items()}
    assert statuses[("/t/{slug}/tenant", "get")] == {"200", "400", "401", "403", "404"}
    assert statuses[("/t/{slug}/topics", "post")] == {"201", "400", "401", "403", "404", "409", "413", "422"}
    assert "422" in statuses[("/t/{slug}/ledger", "get")]  # a malformed period
    assert "503" in statuses[("/t/{slug}/files/{attachment_id}/complete", "post")]
    number = next(p for p in doc["paths"]["/t/{slug}/topics/{number}"]["get"]["parameters"] if p["name"] == "number")
    assert number["schema"]["maximum"] == 2**31 - 1
    assert {p["name"] for p in doc["paths"]["/t/{slug}/people"]["get"]["parameters"]} >= {"kind", "q", "status"}
