"""Object storage gone for a while (issue 16): whatever needs it (a new upload, a download, a
street's logo, a roster import, the API's file operations) answers 503 naming storage, with
Retry-After, never a 500 and never a form or a link to the dead address, and leaves no row behind;
pages that need no storage keep working; once it is back, everything answers again within the
probe's few seconds. Storage is taken off the network through a TCP proxy this test starts in
front of moto's server (the session's: never stopped), as tests/test_outages.py does to the
database."""
from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from conftest import SERVICES, csrf_token
from shangliang.accounts.tokens import create_api_token
from shangliang.core.db import db
from shangliang.core import storage as storage_mod
from shangliang.core.storage import (PROBE_SECONDS, FileStorage, S3Storage, StorageError, StorageUnavailable,
                                     tenant_key)
from shangliang.core.tenancy import tenant_context
from shangliang.files import reconcile
from shangliang.files.models import Attachment
from shangliang.files.uploads import STALE_UPLOAD
from shangliang.roster.models import RosterImport
from shangliang.tenants.models import Tenant
from support import samples
from support.clock import Clock
from support.files import empty_store, row, topic  # noqa: F401  (fixtures)
from support.procs import TcpProxy, free_port, wait_for
from support.uploads import post_to_storage, request_form, upload
from test_brand import image, save

NAMED = "存储服务暂时不可用"


@pytest.fixture
def s3_proxy(s3_server):
    proxy = TcpProxy(urlsplit(s3_server["endpoint_url"]).port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def config(config, request):
    """Services: this test's app reaches storage through the proxy (started first: the app checks its
    bucket at start)."""
    if not SERVICES:
        return config
    proxy = request.getfixturevalue("s3_proxy")
    return dataclasses.replace(config, s3={**config.s3, "endpoint_url": f"http://127.0.0.1:{proxy.port}"})


def uploading(app, world) -> int:
    with app.app_context(), tenant_context(world.yanshan.id):
        return db.scalar(select(func.count()).select_from(Attachment).where(Attachment.status == "uploading"))


def imports(app, world) -> int:
    with app.app_context(), tenant_context(world.yanshan.id):
        return db.scalar(select(func.count()).select_from(RosterImport))


def says_storage(resp) -> None:
    assert resp.status_code == 503, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.headers["Retry-After"].isdigit()
    assert NAMED in resp.get_data(as_text=True)


@pytest.mark.services
def test_storage_away_answers_503_naming_it_and_everything_works_again_after(
        app, world, topic, as_user, client, run_jobs, s3_proxy):
    staff, admin = as_user("yanshan-staff"), as_user("yanshan-admin")
    photo = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    run_jobs()
    assert row(app, world, photo).status == "ready"
    save(app, world.yanshan, files={"logo": image()}, publish=True)
    assert client.get("/t/yanshan/brand/1/logo").status_code == 200
    api = admin_token(app, world)

    s3_proxy.stop()  # the app learns of it within the probe's few seconds (a download asks, and writes nothing)
    wait_for(lambda: staff.get(f"/t/yanshan/files/{photo}").status_code == 503, timeout=PROBE_SECONDS + 10,
             what="storage to be seen away")
    # a new upload: no form pointing at the dead storage, and no row left 'uploading'
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100)
    says_storage(resp)
    assert resp.get_json()["error"]["code"] == "storage_unavailable"
    resp = client.post("/api/v1/t/yanshan/files/uploads", headers=api, json={
        "owner_kind": "topic", "owner_id": str(topic.id), "filename": "a.pdf", "size": 100})
    says_storage(resp)
    assert uploading(app, world) == 0
    # a download: no redirect to the dead storage
    says_storage(staff.get(f"/t/yanshan/files/{photo}"))
    says_storage(staff.get(f"/t/yanshan/files/{photo}?size=thumb"))
    says_storage(client.get(f"/api/v1/t/yanshan/files/{photo}", headers=api))
    # the street's logo, and a roster import (which leaves no import row behind)
    says_storage(client.get("/t/yanshan/brand/1/logo"))
    body = "类别,姓名,电话\n政协委员,李明华,13905310101\n".encode()
    says_storage(admin.post("/t/yanshan/roster/import", content_type="multipart/form-data",
                            data={"csrf_token": csrf_token(admin), "file": (io.BytesIO(body), "名册.csv")}))
    says_storage(client.post("/api/v1/t/yanshan/roster/imports", headers=api, content_type="multipart/form-data",
                             data={"file": (io.BytesIO(body), "名册.csv")}))
    assert imports(app, world) == 0
    # what needs no storage keeps working: the topic page with its gallery, the board, the portal
    page = staff.get(f"/t/yanshan/topics/{topic.number}")
    assert page.status_code == 200 and f"/t/yanshan/files/{photo}?size=thumb" in page.get_data(as_text=True)
    assert staff.get("/t/yanshan/topics/").status_code == 200
    assert client.get("/t/yanshan/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "degraded"
    assert health.get_json()["checks"]["storage"].startswith("error")
    assert health.get_json()["checks"]["database"] == "ok"

    s3_proxy.start()  # back: within the probe's few seconds, everything answers again
    wait_for(lambda: request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100).status_code == 201,
             timeout=PROBE_SECONDS + 10, what="uploads to be taken again")
    assert staff.get(f"/t/yanshan/files/{photo}").status_code == 302
    assert client.get("/t/yanshan/brand/1/logo").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.services
def test_an_upload_the_browser_never_finished_is_given_up_even_while_storage_is_away(
        app, world, topic, as_user, s3_proxy, monkeypatch):
    """Storage went away after the form was handed out (the browser's post never arrived): the row
    stays 'uploading' until the periodic storage check gives it up, STALE_UPLOAD after it was
    asked for, whether storage is back or not."""
    staff = as_user("yanshan-staff")
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100)
    assert resp.status_code == 201
    att_id = resp.get_json()["id"]
    s3_proxy.stop()
    asked = row(app, world, att_id).created_at
    for after, status in ((STALE_UPLOAD - timedelta(minutes=1), "uploading"),
                          (STALE_UPLOAD + timedelta(minutes=1), "refused")):
        monkeypatch.setattr(reconcile, "utcnow", Clock(asked + after))
        with app.app_context(), tenant_context(world.yanshan.id):
            reconcile.check_storage(world.yanshan.id)  # what the periodic job runs, every 10 minutes
            db.commit()
        assert row(app, world, att_id).status == status
    assert row(app, world, att_id).error == "上传未完成，请重新上传"


def admin_token(app, world) -> dict:
    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(db.get(Tenant, world.yanshan.id), world.users["yanshan-admin"].id,
                                        "outage", "street_admin")
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


# ---------------------------------------------------------------- the same answers, storage's errors stubbed

@pytest.fixture
def away(app, monkeypatch):
    """Storage (either backend) failing as an outage does: every call refused, the probe saying so."""
    store = app.extensions["storage"]

    def down(*_a, **_k):
        raise StorageUnavailable("storage unreachable: EndpointConnectionError")

    for name in ("get", "put", "put_file", "open", "exists", "delete", "list_keys"):
        monkeypatch.setattr(store, name, down)
    monkeypatch.setattr(store, "available", lambda: False)
    return store


def test_what_needs_storage_answers_503_naming_it_and_the_rest_works(app, world, topic, as_user, client, away):
    staff, admin = as_user("yanshan-staff"), as_user("yanshan-admin")
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100)
    says_storage(resp)
    assert resp.get_json()["error"] == {"code": "storage_unavailable", "message": "存储服务暂时不可用，请稍后重试",
                                        "fields": {"file": ["存储服务暂时不可用，请稍后重试"]}}
    assert uploading(app, world) == 0
    says_storage(admin.post("/t/yanshan/roster/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(admin), "file": (io.BytesIO("类别,姓名\n政协委员,李明华\n".encode()), "名册.csv")}))
    assert imports(app, world) == 0
    page = staff.get(f"/t/yanshan/topics/{topic.number}")
    assert page.status_code == 200
    assert staff.get("/t/yanshan/topics/").status_code == 200 and client.get("/t/yanshan/").status_code == 200


def test_the_outage_page_reads_nothing_from_the_database(app, world, as_user, request):
    """The brand's logo with storage away: 503, the outage page, drawn without the request's
    context (no brand, no signed-in person), in the reader's language."""
    save(app, world.yanshan, files={"logo": image()}, publish=True)
    request.getfixturevalue("away")
    c = as_user("yanshan-staff")
    c.get("/lang/en?next=/")
    resp = c.get("/t/yanshan/brand/1/logo")
    assert resp.status_code == 503 and resp.headers["Cache-Control"] == "no-store"
    assert "Storage is unavailable at the moment" in resp.get_data(as_text=True)
    api = c.get("/api/v1/t/yanshan/topics", headers=admin_token(app, world))
    assert api.status_code == 200  # the API needs no storage to list topics


def test_s3_outages_become_one_error_and_the_probe_believes_an_answer_a_few_seconds(monkeypatch):
    from botocore.stub import Stubber

    store = S3Storage(bucket="b", endpoint_url=f"http://127.0.0.1:{free_port()}", access_key="k", secret_key="s")
    now = [1000.0]
    monkeypatch.setattr(storage_mod.time, "monotonic", lambda: now[0])
    assert store.available() is False  # one quick try at a closed port
    key = tenant_key(1, "files")
    with Stubber(store.client) as stub:
        stub.add_client_error("get_object", "SlowDown", http_status_code=503)
        stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
        stub.add_client_error("head_object", "403", http_status_code=403)
        with pytest.raises(StorageUnavailable):
            store.get(key)
        with pytest.raises(StorageError) as missing:
            store.get(key)
        assert not isinstance(missing.value, StorageUnavailable)
        with pytest.raises(store._client_error):  # refused, not away: not an outage
            store.exists(key)
    with Stubber(store._prober) as probe:
        probe.add_response("head_bucket", {}, {"Bucket": "b"})
        now[0] += PROBE_SECONDS - 0.1
        assert store.available() is False  # the last answer, believed a few seconds
        now[0] += 0.2
        assert store.available() is True  # asked again: back
        probe.assert_no_pending_responses()
    assert FileStorage(Path("/nonexistent"), "secret").available() is True
