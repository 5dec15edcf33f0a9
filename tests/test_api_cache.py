"""Issue 16: API answers carry people, phone numbers and receipts: no cache (a proxy's, a browser's)
may keep them. Every API response says `Cache-Control: no-store`."""
from __future__ import annotations

import re
import uuid

import pytest

from shangliang.accounts.operations import create_api_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context

SAMPLE = {"slug": "yanshan", "number": "1", "year": "2026"}


def concrete(path: str) -> str:
    """An OpenAPI path with every parameter given: this tenant, or an id that may well not exist
    (a 404 is an authenticated answer too)."""
    return "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), str(uuid.UUID(int=1))), path)


@pytest.fixture
def token(app, world):
    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(world.yanshan, None, "cache check", "street_admin")
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_every_api_get_in_the_document_answers_no_store(client, token):
    spec = client.get("/api/v1/openapi.json").get_json()
    gets = [p for p, ops in spec["paths"].items() if "get" in ops]
    assert len(gets) > 20
    seen = {}
    for path in gets:
        resp = client.get(concrete(path), headers=token)
        seen[path] = (resp.status_code, resp.headers.get("Cache-Control"))
    assert {p: s for p, s in seen.items() if s[1] != "no-store"} == {}
    assert any(status == 200 for status, _ in seen.values())  # the check read real answers, not only 404s


def test_refusals_and_writes_answer_no_store_too(client, token):
    assert client.get("/api/v1/t/yanshan/people").headers.get("Cache-Control") == "no-store"  # 401
    resp = client.post("/api/v1/t/yanshan/people", headers=token, json={"kind": "member", "name": "李明华"})
    assert resp.status_code == 201 and resp.headers.get("Cache-Control") == "no-store"
