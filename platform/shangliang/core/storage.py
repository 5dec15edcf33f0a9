"""Object storage behind one interface: local files (embedded) or any S3 API (boto3).

Keys are always `tenants/<tenant_id>/<area>/<random id>`, made here from ids the
code controls: nothing a user typed ever reaches a key or a path.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator
from urllib.parse import quote

from flask import current_app, has_app_context, url_for
from itsdangerous import URLSafeTimedSerializer

from ..config import safe_url

AREAS = ("uploads", "attachments", "photos", "thumbnails", "exports", "brand", "imports", "files")
# ASCII digits without leading zeros (`\d` would take "１" or "01", which int() reads as 1) and
# only the known areas: one spelling per object.
KEY_RE = re.compile(rf"tenants/(0|[1-9][0-9]*)/({'|'.join(AREAS)})/[0-9a-f]{{32}}(\.[a-z0-9]{{1,8}})?")
DOWNLOAD_EXPIRY = 300  # seconds: links are for a click, not for sharing
UPLOAD_EXPIRY = 900
PROBE_SECONDS = 5  # how long storage's last answer (up or down) is believed: a recovery shows within this
UNAVAILABLE = "存储服务暂时不可用，请稍后重试"
# The `info` of a column that holds a storage key: a tenant import checks each such value is a key
# under the archive's own prefix (transfer/keys.py).
STORAGE_KEY = {"storage_key": True}
log = logging.getLogger(__name__)


class StorageError(Exception):
    pass


class StorageUnavailable(StorageError):
    """Storage cannot be reached (refused, timed out, cut off) or answers 5xx: a moment's outage,
    answered as 503 naming storage (core/web.py), never as a missing object."""


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


def own_key(tenant_id: int | None, key: str | None) -> str:
    """`key`, if it is a storage key under the tenant's prefix: what a route may serve or sign.

    Anything else names another tenant's object, or none (a row edited in an imported archive, a
    bug): logged, and StorageError, which the route answers with 404."""
    if tenant_id is not None and KEY_RE.fullmatch(key or "") and key.startswith(tenant_prefix(tenant_id)):
        return key
    log.warning("refused to serve storage key %r: not under the prefix of tenant %s", key, tenant_id)
    raise StorageError(f"not a storage key of tenant {tenant_id}: {key!r}")


def own_link(tenant_id: int | None, key: str | None, **kwargs) -> str | None:
    """A signed link to one of the tenant's own objects; None for a key that is not its own (logged)."""
    try:
        return current_storage().download_url(own_key(tenant_id, key), **kwargs)
    except StorageError:
        return None


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

    def available(self) -> bool:
        """Whether storage answers now, asked cheaply: before handing out what is only signed here
        (an upload form, a download link) and would otherwise point at a dead address."""
        return True

    def require_available(self) -> None:
        if not self.available():
            raise StorageUnavailable("storage is not answering")

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


# ---------------------------------------------------------------- S3

class S3Storage(Storage):
    backend = "s3"

    def __init__(self, *, bucket, endpoint_url=None, public_endpoint_url=None, region="us-east-1",
                 access_key=None, secret_key=None):
        # Loaded only when S3 is configured: boto3 is heavy, and the embedded default never needs it.
        import boto3
        from botocore.config import Config as BotoConfig
        from botocore.exceptions import ClientError, ConnectionError as Unreachable, HTTPClientError

        self.bucket, self.endpoint_url = bucket, endpoint_url
        kw = dict(region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                  config=BotoConfig(signature_version="s3v4", retries={"max_attempts": 3},
                                    connect_timeout=5, read_timeout=30, s3={"addressing_style": "path"}))
        self._make = lambda: boto3.client("s3", endpoint_url=endpoint_url, **kw)
        self._client, self._pid = self._make(), os.getpid()
        # The availability probe's own client: one quick try, so a request that probes waits briefly.
        quick = kw["config"].merge(BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=3))
        self._make_prober = lambda: boto3.client("s3", endpoint_url=endpoint_url, **{**kw, "config": quick})
        self._prober, self._prober_pid = None, None
        # EndpointConnectionError and ConnectTimeoutError are Unreachable; ReadTimeoutError and
        # ConnectionClosedError, HTTPClientError. A ClientError is an outage only with a 5xx.
        self._outages, self._client_error = (Unreachable, HTTPClientError), ClientError
        self._up, self._probed_at, self._probe_lock = True, float("-inf"), threading.Lock()
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

    @contextmanager
    def _reaching(self):
        """Storage's outages as one error, StorageUnavailable, which the probe learns of too."""
        try:
            yield
        except self._outages as exc:
            self._note_down()
            raise StorageUnavailable(f"storage unreachable: {type(exc).__name__}") from exc
        except self._client_error as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500:
                raise
            self._note_down()
            raise StorageUnavailable(f"storage answered {exc.response['ResponseMetadata']['HTTPStatusCode']}") from exc

    def _note_down(self) -> None:
        self._up, self._probed_at = False, time.monotonic()

    def available(self):
        """head_bucket at most once every PROBE_SECONDS per process, by the first request to ask;
        the others meanwhile take the last answer."""
        with self._probe_lock:
            due = time.monotonic() - self._probed_at >= PROBE_SECONDS
            if due:
                self._probed_at = time.monotonic()
        if due:
            if self._prober_pid != os.getpid():
                self._prober, self._prober_pid = self._make_prober(), os.getpid()
            try:
                with self._reaching():
                    self._prober.head_bucket(Bucket=self.bucket)
                self._up = True
            except StorageUnavailable:
                pass  # noted down
            except self._client_error:  # answered, if not as hoped (a 403): not an outage
                self._up = True
        return self._up

    def put(self, key, data, content_type="application/octet-stream"):
        with self._reaching():
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)

    def get(self, key):
        with self._reaching():
            try:
                return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()
            except self.client.exceptions.NoSuchKey:
                raise StorageError(f"no object {key}") from None

    def exists(self, key):
        with self._reaching():
            try:
                self.client.head_object(Bucket=self.bucket, Key=check_key(key))
                return True
            except self.client.exceptions.ClientError as exc:
                if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise

    def delete(self, key):
        with self._reaching():
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def put_file(self, key, fileobj, content_type="application/octet-stream"):
        # Multipart above boto3's threshold: the object is streamed, never read whole.
        with self._reaching():
            self.client.upload_fileobj(fileobj, self.bucket, check_key(key), ExtraArgs={"ContentType": content_type})

    def open(self, key):
        with self._reaching():
            try:
                return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
            except self.client.exceptions.NoSuchKey:
                raise StorageError(f"no object {key}") from None

    def list_keys(self, prefix):
        with self._reaching():
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
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
        with self._reaching():
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
