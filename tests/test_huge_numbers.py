"""A number in a path that no row can have is a page that does not exist, not a server error: past
64-bit integers (20 digits) the database drivers refuse to send it at all, and past the 32-bit
columns rows are numbered in PostgreSQL refuses to compare it (SQLite just finds nothing)."""
from __future__ import annotations

import pytest

from test_api import hotline, token  # noqa: F401  (fixtures: tokens made as an administrator does)

HUGE = "9" * 20  # 2^63 is 19 digits
# Past the 32-bit columns every number a path names is kept in: PostgreSQL refuses to compare it
PAST_32 = str(2**31)


@pytest.mark.parametrize("number", [HUGE, PAST_32])
@pytest.mark.parametrize("path", [
    "/t/yanshan/topics/{n}",
    "/t/yanshan/gongshi/{n}",
    "/t/yanshan/gongshi/{n}/photos/0",
    "/t/yanshan/gongshi/1/photos/{n}",
    "/t/yanshan/brand/{n}.css",
    "/t/yanshan/meetings/{n}",
])
def test_a_path_number_no_row_can_have_is_not_found(as_user, world, path, number):
    staff = as_user("yanshan-admin")
    assert staff.get(path.format(n=number)).status_code == 404


@pytest.mark.parametrize("path", ["topics/{n}", "meetings/{n}", "topics/{n}/suggestions",
                                  "benchmarks/publications/{n}"])
@pytest.mark.parametrize("number", [HUGE, PAST_32])
def test_the_api_answers_such_a_number_with_its_not_found_shape(client, token, path, number):
    resp = client.get(f"/api/v1/t/yanshan/{path.format(n=number)}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_an_integer_in_a_body_past_64_bits_is_refused_naming_its_field(client, hotline):
    created = client.post("/api/v1/t/yanshan/topics", headers=hotline, json={
        "title": "路灯不亮", "channel": "hotline_12345", "category": "市政", "description": "3 号楼前路灯坏了"})
    assert created.status_code == 201
    number = created.get_json()["number"]
    for version in (int(HUGE), int(PAST_32)):  # a version is a 32-bit column too
        resp = client.post(f"/api/v1/t/yanshan/topics/{number}/actions", headers=hotline,
                           json={"action": "comment", "comment": "好", "version": version})
        assert resp.status_code == 422 and "version" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/t/yanshan/meetings", headers=hotline, json={
        "title": "议事会", "form": "on_site", "starts_at": "2025-05-20T14:30", "place": "楼下",
        "participants": [{"name": "甲", "convener": True}], "topics": [1, int(PAST_32), int(HUGE)]})
    assert resp.status_code == 422  # each item by its path
    assert set(resp.get_json()["error"]["fields"]) == {"topics[1]", "topics[2]"}
