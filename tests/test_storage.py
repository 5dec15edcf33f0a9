"""Object storage, against whichever backend the mode gives `app.extensions["storage"]`.

Embedded mode: FileStorage, whose links and upload endpoint are served by the app itself.
Services mode: S3Storage on moto's server. moto (5.2.x) serves presigned URLs and takes
POST uploads, but checks neither the signature, nor the expiry, nor any POST policy
condition. So for S3 the tests check what moto really does (bytes in, bytes out,
headers) and, for what real S3 enforces, that the request carries the right signed terms:
an independent SigV4 check of the link and of the policy, and the decoded policy itself.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import io
import json
import re
import shutil
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import pytest
import requests
from itsdangerous import TimestampSigner

from conftest import SERVICES
from support.procs import free_port
from shangliang import create_app
from shangliang.config import ConfigError
from shangliang.core.storage import (AREAS, DOWNLOAD_EXPIRY, UPLOAD_EXPIRY, FileStorage, S3Storage, StorageError,
                                     check_key, tenant_key, tenant_prefix)

BINARY = bytes(range(256)) * 40 + b"\x00\r\n\xff"  # every byte value, NULs and CRLF included
CHINESE_NAME = "2024年第三季度 协商议事纪要（燕山街道）.pdf"

file_only = pytest.mark.skipif(SERVICES, reason="FileStorage only: services mode uses S3")


@pytest.fixture
def store(app):
    """The app's storage, inside a request context (FileStorage builds its links with url_for)."""
    with app.test_request_context():
        yield app.extensions["storage"]


# ---------------------------------------------------------------- helpers

def fetch(app, url: str):
    """GET a download link as a browser would: (status, body, headers)."""
    if url.startswith("/"):
        resp = app.test_client().get(url)
        return resp.status_code, resp.get_data(), resp.headers
    resp = requests.get(url, timeout=10)
    return resp.status_code, resp.content, resp.headers


def post_form(app, form: dict, data: bytes, filename: str = "照片.jpg", fields: dict | None = None):
    """POST a file to an upload form as a browser would: (status, json body or None)."""
    fields = dict(form["fields"], **(fields or {}))
    if form["url"].startswith("/"):
        resp = app.test_client().post(form["url"], data={**fields, "file": (io.BytesIO(data), filename)},
                                      content_type="multipart/form-data")
        return resp.status_code, resp.get_json(silent=True)
    resp = requests.post(form["url"], data=fields, files={"file": (filename, data)}, timeout=10)
    return resp.status_code, None


def disposition_name(header: str) -> str:
    """The file name a browser takes from Content-Disposition (RFC 6266: filename* wins)."""
    m = re.search(r"filename\*=UTF-8''([^;\s]+)", header, re.I)
    if m:
        return unquote(m.group(1))
    return re.search(r'filename="?([^";]*)"?', header).group(1)


def _sigv4_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def presigned_get_accepted(url: str, secret: str, now: datetime) -> bool:
    """What S3 checks on a presigned GET, written from the SigV4 spec (moto checks none of it)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = params.pop("X-Amz-Signature", "")
    amz_date = params["X-Amz-Date"]
    _access, date, region, service, _ = params["X-Amz-Credential"].split("/")
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in sorted(params.items()))
    canonical = "\n".join(["GET", quote(unquote(parts.path), safe="/-_.~"), canonical_query,
                           f"host:{parts.netloc}", "", params["X-Amz-SignedHeaders"], "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, f"{date}/{region}/{service}/aws4_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(_sigv4_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    fresh = signed_at <= now <= signed_at + timedelta(seconds=int(params["X-Amz-Expires"]))
    return hmac.compare_digest(signature, expected) and fresh


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params.update(changes)
    return urlunsplit(parts._replace(query=urlencode(params, quote_via=quote)))


@pytest.fixture
def signer_clock(monkeypatch):
    """Move itsdangerous' clock (and only it) forward: clock(seconds)."""
    def clock(seconds: int):
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + seconds)

    return clock


# ---------------------------------------------------------------- keys

def test_tenant_key_is_made_only_of_generated_parts():
    seen = set()
    for area in AREAS:
        key = tenant_key(42, area)
        assert key.startswith("tenants/42/") and key.startswith(tenant_prefix(42))
        assert re.fullmatch(rf"tenants/42/{area}/[0-9a-f]{{32}}", key), key
        assert check_key(key) == key
        seen.add(key)
    key = tenant_key("7", "photos", "jpg")  # the id is forced through int()
    assert re.fullmatch(r"tenants/7/photos/[0-9a-f]{32}\.jpg", key) and check_key(key) == key
    seen.add(key)
    assert len({tenant_key(1, "uploads") for _ in range(200)}) == 200  # random, never reused
    assert len(seen) == len(AREAS) + 1


@pytest.mark.parametrize("area, ext", [
    ("../uploads", None), ("uploads/../../etc", None), ("Uploads", None), ("secrets", None),
    ("uploads", "../x"), ("uploads", "PDF"), ("uploads", "tar.gz"), ("uploads", "pdf/"), ("uploads", ""),
    ("uploads", "toolongext"), ("uploads", "报告"),
])
def test_tenant_key_refuses_anything_but_known_areas_and_plain_extensions(area, ext):
    with pytest.raises(ValueError):
        tenant_key(1, area, ext)


def test_tenant_key_refuses_a_non_numeric_tenant():
    with pytest.raises(ValueError):
        tenant_key("1/../2", "uploads")


HEX = "0123456789abcdef" * 2
BAD_KEYS = [
    "", None, "tenants", "tenants/1/", "tenants/1/uploads/",
    f"../tenants/1/uploads/{HEX}",
    f"tenants/1/uploads/../../2/uploads/{HEX}",
    f"tenants/1/uploads/{HEX}/../../../../etc/passwd",
    f"tenants/1/../2/uploads/{HEX}",
    f"tenants/1/uploads/./{HEX}",
    f"tenants//1/uploads/{HEX}",
    "/etc/passwd", f"/tenants/1/uploads/{HEX}", f"//tenants/1/uploads/{HEX}",
    f"tenants\\1\\uploads\\{HEX}", f"C:\\tenants\\1\\uploads\\{HEX}",
    "tenants/1/uploads/report.pdf",  # a user's file name
    "tenants/1/uploads/会议纪要.pdf",
    f"tenants/1/uploads/{HEX[:-1]}", f"tenants/1/uploads/{HEX}0", f"tenants/1/uploads/{HEX.upper()}",
    f"tenants/1/uploads/{HEX}.PDF", f"tenants/1/uploads/{HEX}.tar.gz", f"tenants/1/uploads/{HEX}.",
    f"tenants/1/uploads/{HEX}\n", f"tenants/1/uploads/{HEX}\x00.png", f" tenants/1/uploads/{HEX}",
    f"tenants/1/uploads/{HEX}%2f..", f"tenants/1/{HEX}", f"tenants/x/uploads/{HEX}",
    f"tenants/-1/uploads/{HEX}", f"tenant/1/uploads/{HEX}", f"TENANTS/1/uploads/{HEX}",
    f"tenants/1/secrets/{HEX}",  # not one of AREAS
    f"tenants/01/uploads/{HEX}",  # a second spelling of tenant 1
    f"tenants/１/uploads/{HEX}",  # full-width digit: int() reads it as 1
    f"tenants/١/uploads/{HEX}",  # Arabic-Indic digit, likewise
    f"tenants/1/uploads/{HEX}/extra",
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_check_key_refuses_traversal_names_and_other_shapes(key):
    with pytest.raises(StorageError):
        check_key(key)


def test_every_storage_operation_refuses_a_bad_key(store):
    bad = f"tenants/1/uploads/../../../{HEX}"
    calls = [lambda: store.put(bad, b"x"), lambda: store.get(bad), lambda: store.exists(bad),
             lambda: store.delete(bad), lambda: store.download_url(bad),
             lambda: store.upload_form(bad, max_bytes=10)]
    for call in calls:
        with pytest.raises(StorageError):
            call()


# ---------------------------------------------------------------- put / get / exists / delete

def test_put_get_exists_delete_round_trip_binary(store):
    key = tenant_key(3, "attachments", "bin")
    other = tenant_key(3, "attachments", "bin")
    assert not store.exists(key)

    store.put(key, BINARY, "application/octet-stream")
    assert store.exists(key) and not store.exists(other)
    assert store.get(key) == BINARY

    store.put(key, b"\x00second", "application/octet-stream")  # overwrite in place
    assert store.get(key) == b"\x00second"

    store.put(other, b"", "text/plain")  # empty objects are objects too
    assert store.exists(other) and store.get(other) == b""

    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(StorageError):
        store.get(key)
    store.delete(key)  # deleting twice is not an error
    assert store.get(other) == b""


def test_get_of_a_missing_key_raises_storage_error(store):
    with pytest.raises(StorageError, match="no object"):
        store.get(tenant_key(9, "exports", "csv"))


@file_only
def test_file_storage_writes_whole_files_under_its_root(store):
    key = tenant_key(5, "uploads")
    store.put(key, BINARY)
    path = store._path(key)
    assert path.resolve().is_relative_to(store.root.resolve())
    assert path.read_bytes() == BINARY
    assert not list(path.parent.glob(".part-*"))  # the temporary file was renamed, not left behind


# ---------------------------------------------------------------- download links

def test_download_link_serves_the_bytes(app, store):
    key = tenant_key(3, "exports", "bin")
    store.put(key, BINARY)
    status, body, _headers = fetch(app, store.download_url(key))
    assert status == 200 and body == BINARY


def test_download_link_with_a_chinese_file_name(app, store):
    key = tenant_key(3, "exports", "pdf")
    store.put(key, b"%PDF-1.4 fake", "application/pdf")
    status, body, headers = fetch(app, store.download_url(key, filename=CHINESE_NAME))
    assert status == 200 and body == b"%PDF-1.4 fake"
    cd = headers["Content-Disposition"]
    cd.encode("ascii")  # a header a browser (and any proxy) can read
    assert cd.startswith("attachment")
    assert disposition_name(cd) == CHINESE_NAME


def test_download_link_survives_hostile_file_names(app, store):
    """Quotes, backslashes, semicolons and line breaks in a name must not break the header."""
    key = tenant_key(3, "exports", "txt")
    store.put(key, b"hello", "text/plain")
    name = 'a"b\\c;d\r\nSet-Cookie: x=1\t名单.txt'
    status, body, headers = fetch(app, store.download_url(key, filename=name))
    assert status == 200 and body == b"hello"
    assert "Set-Cookie" not in headers
    assert disposition_name(headers["Content-Disposition"]) == 'a"b\\c;dSet-Cookie: x=1名单.txt'


def test_download_link_of_a_deleted_object_stops_serving(app, store):
    key = tenant_key(3, "exports", "bin")
    store.put(key, b"x")
    url = store.download_url(key)
    store.delete(key)
    assert fetch(app, url)[0] == 404


@file_only
def test_file_download_link_expires(app, store, signer_clock):
    key = tenant_key(3, "exports", "bin")
    store.put(key, BINARY)
    default = store.download_url(key)
    short = store.download_url(key, expires=30)

    signer_clock(DOWNLOAD_EXPIRY - 5)
    assert fetch(app, default)[0] == 200
    assert fetch(app, short)[0] == 404
    signer_clock(DOWNLOAD_EXPIRY + 1)
    assert fetch(app, default)[0] == 404
    assert DOWNLOAD_EXPIRY <= 600  # a link is for a click, not for sharing


@file_only
def test_file_download_link_tampered_or_forged_is_refused(app, store):
    key = tenant_key(3, "exports", "bin")
    other = tenant_key(4, "exports", "bin")
    store.put(key, b"mine")
    store.put(other, b"theirs")
    url = store.download_url(key)
    token = url.rsplit("/", 1)[1]
    # Change the first character of the signature: the last one may hold only base64 padding
    # bits, and changing those would leave the decoded signature as it was.
    cut = token.rindex(".") + 1
    flipped = token[:cut] + ("A" if token[cut] != "A" else "B") + token[cut + 1:]
    assert fetch(app, url[: -len(token)] + flipped)[0] == 404

    payload, _, _sig = token.partition(".")
    # Same signature, a payload pointing elsewhere (or living longer): refused.
    for data in ({"k": other, "f": None, "e": 300}, {"k": key, "f": None, "e": 10**9}):
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        assert fetch(app, url.replace(payload, forged, 1))[0] == 404
    # Signed with another secret: refused.
    foreign = FileStorage(store.root, "t" * 48).signer.dumps({"k": other, "f": None, "e": 300})
    assert fetch(app, f"/storage/o/{foreign}")[0] == 404
    assert fetch(app, url)[0] == 200


@file_only
def test_file_upload_policy_is_not_a_download_link_and_vice_versa(app, store):
    key = tenant_key(3, "uploads", "bin")
    store.put(key, b"private")
    form = store.upload_form(key, max_bytes=100)
    assert fetch(app, f"/storage/o/{form['fields']['policy']}")[0] == 404

    link_token = store.download_url(key).rsplit("/", 1)[1]
    status, body = post_form(app, form, b"overwritten", fields={"policy": link_token})
    assert status == 403 and body["error"]["code"] == "policy_invalid"
    assert store.get(key) == b"private"


@pytest.mark.services
def test_s3_download_link_is_signed_short_lived_and_tamper_evident(app, store, s3_server):
    """moto serves presigned URLs without checking signature or expiry, so an expired or
    tampered link still works on moto. What real S3 checks is checked here from the spec."""
    key = tenant_key(3, "exports", "pdf")
    store.put(key, b"%PDF", "application/pdf")
    url = store.download_url(key, filename=CHINESE_NAME)
    params = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(f"{s3_server['endpoint_url']}/{s3_server['bucket']}/{key}?")
    assert params["X-Amz-Expires"] == str(DOWNLOAD_EXPIRY)
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-Credential"].startswith(f"{s3_server['access_key']}/")
    assert disposition_name(params["response-content-disposition"]) == CHINESE_NAME

    secret, now = s3_server["secret_key"], datetime.now(timezone.utc)
    assert presigned_get_accepted(url, secret, now)
    assert not presigned_get_accepted(url, "wrong-secret", now)
    # Expiry: fine just before, refused just after.
    assert presigned_get_accepted(url, secret, now + timedelta(seconds=DOWNLOAD_EXPIRY - 5))
    assert not presigned_get_accepted(url, secret, now + timedelta(seconds=DOWNLOAD_EXPIRY + 5))
    short = store.download_url(key, expires=5)
    assert dict(parse_qsl(urlsplit(short).query))["X-Amz-Expires"] == "5"
    assert not presigned_get_accepted(short, secret, now + timedelta(seconds=30))
    # Tampering with what the link grants breaks the signature.
    other_key = tenant_key(4, "exports", "pdf")
    assert not presigned_get_accepted(url.replace(key, other_key), secret, now)
    assert not presigned_get_accepted(with_query(url, **{"X-Amz-Expires": "604800"}), secret, now)
    assert not presigned_get_accepted(
        with_query(url, **{"response-content-disposition": "inline"}), secret, now)
    sig = params["X-Amz-Signature"]
    assert not presigned_get_accepted(with_query(url, **{"X-Amz-Signature": sig[::-1]}), secret, now)


@pytest.mark.services
def test_s3_links_and_forms_use_the_public_endpoint(s3_server):
    """Browsers may reach S3 by another address than the app (behind nginx)."""
    port = urlsplit(s3_server["endpoint_url"]).port
    public = f"http://localhost:{port}"
    store = S3Storage(**dict(s3_server, public_endpoint_url=public))
    key = tenant_key(3, "photos", "jpg")
    store.put(key, b"jpeg")
    url = store.download_url(key)
    assert url.startswith(f"{public}/") and requests.get(url, timeout=10).content == b"jpeg"
    assert store.upload_form(key, max_bytes=10)["url"].startswith(f"{public}/")


# ---------------------------------------------------------------- browser uploads

def test_upload_form_accepts_a_file_within_the_limit(app, store):
    key = tenant_key(3, "photos", "jpg")
    form = store.upload_form(key, max_bytes=len(BINARY))
    assert form["fields"]["key"] == key
    status, _body = post_form(app, form, BINARY)  # exactly at the limit
    assert 200 <= status < 300
    assert store.get(key) == BINARY


@file_only
def test_file_upload_reports_what_it_stored(app, store):
    key = tenant_key(3, "photos", "jpg")
    status, body = post_form(app, store.upload_form(key, max_bytes=1024), BINARY[:1000])
    assert status == 201
    assert body == {"key": key, "size": 1000, "sha256": hashlib.sha256(BINARY[:1000]).hexdigest()}


@file_only
def test_file_upload_over_the_limit_is_refused_naming_the_field(app, store):
    key = tenant_key(3, "photos", "jpg")
    form = store.upload_form(key, max_bytes=1000)
    status, body = post_form(app, form, b"x" * 1001)
    assert status == 413
    assert body["error"]["code"] == "too_large"
    assert "1000" in body["error"]["message"]
    assert body["error"]["fields"] == {"file": ["at most 1000 bytes"]}
    assert not store.exists(key)


@file_only
def test_file_upload_of_an_empty_or_missing_file_is_refused(app, store):
    """S3's policy asks for 1..max bytes; the local stand-in agrees."""
    key = tenant_key(3, "photos", "jpg")
    form = store.upload_form(key, max_bytes=1000)
    status, body = post_form(app, form, b"")
    assert status == 400 and "file" in body["error"]["fields"]
    resp = app.test_client().post(form["url"], data=form["fields"])
    assert resp.status_code == 400 and "file" in resp.get_json()["error"]["fields"]
    assert not store.exists(key)


@file_only
def test_file_upload_to_a_key_other_than_the_signed_one_is_refused(app, store):
    key = tenant_key(3, "photos", "jpg")
    form = store.upload_form(key, max_bytes=1000)
    for other in (tenant_key(4, "photos", "jpg"), tenant_key(3, "photos", "jpg"), "../../etc/passwd", ""):
        status, body = post_form(app, form, b"data", fields={"key": other})
        assert status == 403 and body["error"]["code"] == "key_mismatch", other
        if other.startswith("tenants/"):
            assert not store.exists(other)
    assert not store.exists(key)


@file_only
def test_file_upload_policy_tampered_or_expired_is_refused(app, store, signer_clock):
    key = tenant_key(3, "photos", "jpg")
    form = store.upload_form(key, max_bytes=10)
    policy = form["fields"]["policy"]
    payload = policy.partition(".")[0]
    bigger = base64.urlsafe_b64encode(json.dumps({"k": key, "max": 10**9, "e": 900}).encode()).decode().rstrip("=")
    for forged in (policy.replace(payload, bigger, 1), policy[:-2] + "xx", ""):
        status, body = post_form(app, form, b"y" * 5, fields={"policy": forged})
        assert status == 403 and body["error"]["code"] == "policy_invalid"
    assert not store.exists(key)

    signer_clock(UPLOAD_EXPIRY + 1)
    status, body = post_form(app, form, b"y" * 5)
    assert status == 403 and body["error"]["code"] == "policy_invalid"
    signer_clock(UPLOAD_EXPIRY - 5)
    assert post_form(app, form, b"y" * 5)[0] == 201
    assert store.get(key) == b"y" * 5


@pytest.mark.services
def test_s3_upload_policy_signs_the_size_limit_and_the_key(store, s3_server):
    """moto accepts any POST upload (it checks no policy condition and no signature), so
    here the signed policy is decoded and verified; real S3 enforces each condition."""
    key = tenant_key(3, "photos", "jpg")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    form = store.upload_form(key, max_bytes=1000)
    fields = form["fields"]
    assert form["url"] == f"{s3_server['endpoint_url']}/{s3_server['bucket']}"
    assert fields["key"] == key

    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1000] in conditions
    assert ["starts-with", "$key", "tenants/3/"] in conditions
    assert {"key": key} in conditions  # added by boto3: the exact key, so no other key is accepted
    assert {"bucket": s3_server["bucket"]} in conditions
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before + timedelta(seconds=UPLOAD_EXPIRY - 5) <= expiration <= \
        datetime.now(timezone.utc) + timedelta(seconds=UPLOAD_EXPIRY + 5)

    # The policy S3 reads is the policy that was signed, with the configured credentials.
    _access, date, region, service, _ = fields["x-amz-credential"].split("/")
    assert _access == s3_server["access_key"] and fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    signing_key = _sigv4_key(s3_server["secret_key"], date, region, service)
    assert fields["x-amz-signature"] == hmac.new(signing_key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    tampered = base64.b64encode(json.dumps(
        dict(policy, conditions=[["content-length-range", 1, 10**12] if c == ["content-length-range", 1, 1000]
                                 else c for c in conditions])).encode()).decode()
    assert fields["x-amz-signature"] != hmac.new(signing_key, tampered.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- health and start-up

def test_healthz_reports_storage(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"]["storage"] == "ok"


def test_two_health_checks_at_once_both_pass(tmp_path, monkeypatch):
    """Under load a worker's threads check the folder at the same moment: one check's probe file
    must not be the other's (both wrote `.probe`, one removed it, the other's removal failed and
    /healthz answered 503 to 2-4% of requests). Here the second check runs entirely between the
    first one's write and its removal, as a thread switch would make it."""
    store = FileStorage(tmp_path / "objects", "secret")
    other = FileStorage(tmp_path / "objects", "secret")
    write = type(tmp_path).write_bytes
    inside = []

    def write_then_let_the_other_check(path, data):
        write(path, data)
        if not inside:
            inside.append(path)
            other.check()

    monkeypatch.setattr(type(tmp_path), "write_bytes", write_then_let_the_other_check)
    store.check()
    assert inside and not any((tmp_path / "objects").iterdir())  # both probes gone, nothing left


def test_healthz_reports_broken_storage(app, client, monkeypatch):
    store = app.extensions["storage"]
    if isinstance(store, FileStorage):
        shutil.rmtree(store.root)
        store.root.write_bytes(b"not a folder")  # the object folder is a file now
    else:
        monkeypatch.setattr(store, "bucket", "shangliang-no-such-bucket")
    resp = client.get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "degraded" and body["checks"]["storage"].startswith("error")
    assert body["checks"]["database"] == "ok"


def test_unreachable_s3_at_start_up_names_s3_bucket(config):
    closed = free_port()  # bound and released: nothing listens there
    s3 = {"bucket": "shangliang-unreachable", "endpoint_url": f"http://127.0.0.1:{closed}", "region": "us-east-1",
          "access_key": "test", "secret_key": "test", "public_endpoint_url": None}
    started = time.monotonic()
    with pytest.raises(ConfigError) as err:
        create_app(dataclasses.replace(config, s3=s3))
    assert err.value.variable == "S3_BUCKET"
    assert str(err.value).startswith("S3_BUCKET: object storage not usable")
    assert "\n" not in str(err.value)
    assert time.monotonic() - started < 30


@pytest.mark.services
def test_missing_bucket_at_start_up_names_s3_bucket(config, s3_server):
    with pytest.raises(ConfigError) as err:
        create_app(dataclasses.replace(config, s3=dict(s3_server, bucket="shangliang-no-such-bucket")))
    assert err.value.variable == "S3_BUCKET"


@pytest.mark.skipif(SERVICES, reason="FileStorage only: services mode uses S3")
def test_file_download_cannot_run_script_on_our_origin(app, store):
    key = tenant_key(3, "uploads", "html")
    store.put(key, b"<script>alert(document.cookie)</script>", "text/html")
    status, _body, headers = fetch(app, store.download_url(key))
    assert status == 200
    assert "sandbox" in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
