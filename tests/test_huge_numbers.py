"""A number in a path that no row can have (20 digits, past the database's 64-bit integers) is a
page that does not exist, not a server error: the database drivers refuse to send it at all."""
from __future__ import annotations

import pytest

from test_api import token  # noqa: F401  (the fixture: a token made on the tokens page)

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
