"""Object storage behind one interface: local files (embedded) or any S3 API (boto3).

Keys are always `tenants/<tenant_id>/<area>/<random id>`, made here from ids the
code controls: nothing a user typed ever reaches a key or a path.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import quote

from flask import Blueprint, abort, current_app, has_app_context, request, send_file, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..config import safe_url
from .errors import error_body
from .permissions import public

AREAS = ("uploads", "attachments", "photos", "thumbnails", "exports", "brand", "imports", "files")
# ASCII digits without leading zeros (`\d` would take "１" or "01", which int() reads as 1) and
# only the known areas: one spelling per object.
KEY_RE = re.compile(rf"tenants/(0|[1-9][0-9]*)/({'|'.join(AREAS)})/[0-9a-f]{{32}}(\.[a-z0-9]{{1,8}})?")
DOWNLOAD_EXPIRY = 300  # seconds: links are for a click, not for sharing
UPLOAD_EXPIRY = 900


class StorageError(Exception):
    pass


def tenant_key(tenant_id: int, area: str, ext: str | None = None) -> str:
    if area not in AREAS:
        raise ValueError(f"unknown storage area {area!r}")
    if ext is not None and not re.fullmatch(r"[a-z0-9]{1,8}", ext):
        raise ValueError("extension must be 1-8 lowercase letters or digits")
    key = f"tenants/{int(tenant_id)}/{area}/{uuid.uuid4().hex}"
    return f"{key}.{ext}" if ext else key


def tenant_prefix(tenant_id: int) -> str:
    return f"tenants/{int(tenant_id)}/"


def check_key(key: str) -> str:
    if not KEY_RE.fullmatch(key or ""):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class Storage(ABC):
    backend: str

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def put_file(self, key: str, fileobj: BinaryIO, content_type: str = "application/octet-stream") -> None:
        """Like `put`, streaming from an open binary file: large objects never sit in memory."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The object as a readable binary stream; the caller closes it."""

    @abstractmethod
    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key starting with `prefix` (a tenant's prefix, say), in key order."""

    @abstractmethod
    def download_url(self, key: str, *, filename: str | None = None, expires: int = DOWNLOAD_EXPIRY) -> str: ...

    @abstractmethod
    def upload_form(self, key: str, *, max_bytes: int, expires: int = UPLOAD_EXPIRY) -> dict:
        """A form the browser posts the file to directly: {"url": ..., "fields": {...}}."""

    @abstractmethod
    def check(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the objects are, in words an operator knows them by (no secret)."""


# ---------------------------------------------------------------- filesystem

class FileStorage(Storage):
    backend = "file"

    def __init__(self, root: Path, secret_key: str):
        self.root = Path(root)
        self.signer = URLSafeTimedSerializer(secret_key, salt="shangliang.storage")
        # Its own salt: an upload policy is not a download link, nor the other way round.
        self.upload_signer = URLSafeTimedSerializer(secret_key, salt="shangliang.storage.upload")

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key, data, content_type="application/octet-stream"):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def get(self, key):
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no object {key}") from None

    def exists(self, key):
        return self._path(key).is_file()

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def put_file(self, key, fileobj, content_type="application/octet-stream"):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                shutil.copyfileobj(fileobj, fh, 1024 * 1024)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, key):
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StorageError(f"no object {key}") from None

    def list_keys(self, prefix):
        base = self.root / prefix.rstrip("/")
        found = []
        for dirpath, _dirs, files in os.walk(base if base.is_dir() else base.parent):
            for name in files:
                if name.startswith(".part-"):  # a write in progress, not an object yet
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return iter(sorted(found))

    def download_url(self, key, *, filename=None, expires=DOWNLOAD_EXPIRY):
        token = self.signer.dumps({"k": check_key(key), "f": safe_filename(filename), "e": expires})
        return url_for("storage.download", token=token)

    def upload_form(self, key, *, max_bytes, expires=UPLOAD_EXPIRY):
        policy = self.upload_signer.dumps({"k": check_key(key), "max": int(max_bytes), "e": expires})
        return {"url": url_for("storage.upload"), "fields": {"key": key, "policy": policy}}

    def describe(self) -> str:
        return f"folder {self.root}"

    def check(self):
        self.root.mkdir(parents=True, exist_ok=True)
        # A probe of its own: checks run at once in a worker's threads (/healthz under load).
        probe = self.root / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()

    def read_token(self, token: str, max_age_field: str = "e", *, upload: bool = False) -> dict:
        # The expiry travels inside the signed payload; check it with the signer's clock.
        signer = self.upload_signer if upload else self.signer
        data = signer.loads(token)
        signer.loads(token, max_age=int(data[max_age_field]))
        return data


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


# ---------------------------------------------------------------- S3

class S3Storage(Storage):
    backend = "s3"

    def __init__(self, *, bucket, endpoint_url=None, public_endpoint_url=None, region="us-east-1",
                 access_key=None, secret_key=None):
        # Loaded only when S3 is configured: boto3 is heavy, and the embedded default never needs it.
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket, self.endpoint_url = bucket, endpoint_url
        kw = dict(region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                  config=BotoConfig(signature_version="s3v4", retries={"max_attempts": 3},
                                    connect_timeout=5, read_timeout=30, s3={"addressing_style": "path"}))
        self._make = lambda: boto3.client("s3", endpoint_url=endpoint_url, **kw)
        self._client, self._pid = self._make(), os.getpid()
        # Browsers may reach the store by another address than the servers do (behind nginx); a
        # client costs tens of milliseconds to build, so the same address shares the one. The
        # public one only signs addresses: it holds no connection.
        same = public_endpoint_url in (None, endpoint_url)
        self._public = None if same else boto3.client("s3", endpoint_url=public_endpoint_url, **kw)

    @property
    def client(self):
        """This process's client: a forked worker (gunicorn's preload_app) must not share the
        keep-alive connections its parent opened (the start-up check's head_bucket)."""
        if self._pid != os.getpid():
            self._client, self._pid = self._make(), os.getpid()
        return self._client

    @property
    def public(self):
        return self._public or self.client

    def put(self, key, data, content_type="application/octet-stream"):
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)

    def get(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise StorageError(f"no object {key}") from None

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except self.client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def put_file(self, key, fileobj, content_type="application/octet-stream"):
        # Multipart above boto3's threshold: the object is streamed, never read whole.
        self.client.upload_fileobj(fileobj, self.bucket, check_key(key), ExtraArgs={"ContentType": content_type})

    def open(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise StorageError(f"no object {key}") from None

    def list_keys(self, prefix):
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        for page in pages:
            for obj in page.get("Contents", ()):
                yield obj["Key"]

    def download_url(self, key, *, filename=None, expires=DOWNLOAD_EXPIRY):
        params = {"Bucket": self.bucket, "Key": check_key(key)}
        filename = safe_filename(filename)
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self.public.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def upload_form(self, key, *, max_bytes, expires=UPLOAD_EXPIRY):
        prefix = "/".join(check_key(key).split("/")[:2]) + "/"
        post = self.public.generate_presigned_post(
            self.bucket, key, ExpiresIn=expires,
            Conditions=[["content-length-range", 1, int(max_bytes)], ["starts-with", "$key", prefix]])
        return {"url": post["url"], "fields": post["fields"]}

    def describe(self) -> str:
        return f"bucket {self.bucket} at {safe_url(self.endpoint_url) if self.endpoint_url else 'AWS S3'}"

    def check(self):
        self.client.head_bucket(Bucket=self.bucket)


def safe_filename(filename: str | None) -> str | None:
    """A download name without control characters: a line break would break the header."""
    return re.sub(r"[\x00-\x1f\x7f]", "", filename) if filename else filename


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def make_storage(cfg) -> Storage:
    store = S3Storage(**cfg.s3) if cfg.s3 else FileStorage(cfg.instance_path / "objects", cfg.secret_key)
    _configured["storage"] = store
    return store


_configured: dict[str, Storage] = {}


def current_storage() -> Storage:
    """The app's storage; in a job (no app context) the one this process was configured with."""
    if has_app_context():
        return current_app.extensions["storage"]
    return _configured["storage"]
