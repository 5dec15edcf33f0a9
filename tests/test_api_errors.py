"""The API's errors as its document describes them: every problem of a body under its own path
with a list of messages (an item of a list too), and a method a path does not declare answered
405 before anyone is asked for a token."""
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


def test_a_map_names_its_wrong_key(client, as_user, world):
    from conftest import csrf_token  # the county's token: settings belong to counties
    import re

    admin = as_user("lixia-admin")
    page = admin.post("/t/lixia/manage/tokens", data={"csrf_token": csrf_token(admin), "name": "对标",
                                                       "role": "county_admin"}).get_data(as_text=True)
    county = re.search(r"(slt_[0-9a-f]{32}_[A-Za-z0-9_-]+)", page).group(1)
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
    """The check runs before the tenant and its scope are set: a signed-in person still gets the
    error page (it reads their own tenants), not a server error."""
    admin = as_user("yanshan-admin")
    resp = admin.delete("/t/yanshan/topics/")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert "不支持此请求方式" in resp.get_data(as_text=True)
