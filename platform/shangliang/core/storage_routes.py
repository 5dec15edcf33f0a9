"""The embedded store's stand-ins for S3's own HTTP endpoints (core/storage.FileStorage): a signed
link that serves an object, and a signed policy that takes an upload from the browser."""
from __future__ import annotations

import hashlib

from flask import Blueprint, abort, current_app, request, send_file
from itsdangerous import BadSignature, SignatureExpired

from .errors import error_body
from .permissions import public
from .storage import FileStorage, StorageError

storage_bp = Blueprint("storage", __name__, url_prefix="/storage")


@storage_bp.get("/o/<token>")
@public  # a capability URL: the signed token is the permission
def download(token):
    store = current_app.extensions["storage"]
    if not isinstance(store, FileStorage):
        abort(404)
    try:
        data = store.read_token(token)
        path = store._path(data["k"])
    except (BadSignature, SignatureExpired, StorageError):
        abort(404)
    if not path.is_file():
        abort(404)
    resp = send_file(path, as_attachment=bool(data.get("f")), download_name=data.get("f") or None, max_age=0)
    # Served from our own origin: whatever the bytes are, they may not run script here.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return resp


UPLOAD_REQUEST_LIMIT = 64 * 1024 * 1024  # above any policy's size limit; the policy then decides


@storage_bp.before_request
def allow_uploads_larger_than_pages():
    """S3 takes files larger than the app's MAX_CONTENT_LENGTH (a 20 MB photo): so does its stand-in."""
    if request.endpoint == "storage.upload":
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"] or 0, UPLOAD_REQUEST_LIMIT)


@storage_bp.post("/upload")
@public  # a capability URL: the signed policy is the permission
def upload():
    """The local stand-in for an S3 POST policy: signed key, size limit, expiry."""
    store = current_app.extensions["storage"]
    if not isinstance(store, FileStorage):
        abort(404)
    try:
        policy = store.read_token(request.form.get("policy", ""), upload=True)
    except (BadSignature, SignatureExpired):
        return error_body("policy_invalid", "upload policy missing, forged or expired"), 403
    if request.form.get("key") != policy["k"]:
        return error_body("key_mismatch", "key does not match the upload policy"), 403
    file = request.files.get("file")
    if file is None:
        return error_body("validation_error", "no file", {"file": ["required"]}), 400
    data = file.read(policy["max"] + 1)
    if not data:  # S3's policy asks for content-length-range 1..max: agree with it
        return error_body("validation_error", "empty file", {"file": ["must not be empty"]}), 400
    if len(data) > policy["max"]:
        return error_body("too_large", f"file exceeds {policy['max']} bytes",
                          {"file": [f"at most {policy['max']} bytes"]}), 413
    store.put(policy["k"], data, file.mimetype or "application/octet-stream")
    return {"key": policy["k"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}, 201
