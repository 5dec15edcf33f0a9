"""A number in a path that no row can have (20 digits, past the database's 64-bit integers) is a
page that does not exist, not a server error: the database drivers refuse to send it at all."""
from __future__ import annotations

import pytest

from test_api import hotline, token  # noqa: F401  (fixtures: tokens made as an administrator does)

HUGE = "9" * 20  # 2^63 is 19 digits


@pytest.mark.parametrize("path", [
    f"/t/yanshan/topics/{HUGE}",
    f"/t/yanshan/gongshi/{HUGE}",
    f"/t/yanshan/gongshi/{HUGE}/photos/0",
    f"/t/yanshan/gongshi/1/photos/{HUGE}",
    f"/t/yanshan/brand/{HUGE}.css",
    f"/t/yanshan/meetings/{HUGE}",
])
def test_a_path_number_no_row_can_have_is_not_found(as_user, world, path):
    staff = as_user("yanshan-admin")
    assert staff.get(path).status_code == 404


def test_the_api_answers_such_a_number_with_its_not_found_shape(client, token):
    resp = client.get(f"/api/v1/t/yanshan/topics/{HUGE}", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_an_integer_in_a_body_past_64_bits_is_refused_naming_its_field(client, hotline):
    created = client.post("/api/v1/t/yanshan/topics", headers=hotline, json={
        "title": "路灯不亮", "channel": "hotline_12345", "category": "市政", "description": "3 号楼前路灯坏了"})
    assert created.status_code == 201
    number = created.get_json()["number"]
    resp = client.post(f"/api/v1/t/yanshan/topics/{number}/actions", headers=hotline,
                       json={"action": "comment", "comment": "好", "version": int(HUGE)})
    assert resp.status_code == 422 and "version" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/t/yanshan/meetings", headers=hotline, json={
        "title": "议事会", "form": "on_site", "starts_at": "2025-05-20T14:30", "place": "楼下",
        "participants": [{"name": "甲", "convener": True}], "topics": [int(HUGE)]})
    assert resp.status_code == 422 and "topics[0]" in resp.get_json()["error"]["fields"]  # the item, by its path
