"""Uploading files the way the browser does (static/files.js): ask the app for a signed form,
post the file straight to storage (the app's local /storage/upload, or moto's S3 over HTTP),
then tell the app it is there. For meeting and topic tests as much as for tests/test_files.py."""
from __future__ import annotations

import io

from conftest import csrf_token


def request_form(client, slug: str, owner_kind: str, owner_id, name: str, size: int, token: str | None = None,
                 as_evidence: bool = False):
    return client.post(f"/t/{slug}/files/uploads", headers={"X-CSRFToken": token or csrf_token(client)},
                       json={"owner_kind": owner_kind, "owner_id": str(owner_id), "filename": name, "size": size,
                             "content_type": "application/octet-stream", "as_evidence": as_evidence})


def post_to_storage(client, form: dict, data: bytes, name: str = "file") -> int:
    """The browser's POST of the file to storage; returns the HTTP status storage answered."""
    if form["url"].startswith("/"):  # the embedded store, served by the app itself
        resp = client.post(form["url"], data={**form["fields"], "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
        return resp.status_code
    import requests

    return requests.post(form["url"], data=form["fields"], files={"file": (name, data)}, timeout=30).status_code


def upload(client, slug: str, owner_kind: str, owner_id, data: bytes, name: str = "现场.jpg", *,
           size: int | None = None, as_evidence: bool = False) -> str:
    """Request, post and complete one upload; returns the attachment id (its check job is queued).
    `as_evidence`: the topic page's box ticked (recorded at the step once checked)."""
    token = csrf_token(client)
    resp = request_form(client, slug, owner_kind, owner_id, name, len(data) if size is None else size, token,
                        as_evidence)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    stored = post_to_storage(client, body["form"], data, name)
    assert stored in (200, 201, 204), f"storage answered {stored}"
    done = client.post(body["complete_url"], headers={"X-CSRFToken": token})
    assert done.status_code == 202, done.get_data(as_text=True)
    return body["id"]
