"""Tenant export and import: the job and its progress, the page and its signed link, the zip, and
a round trip into another installation (a second SQLite file and objects folder; in services mode
a second PostgreSQL database and S3 bucket) with the same rows, files and topic logs."""
from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
import uuid
import zipfile
from datetime import timedelta
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from conftest import SERVICES, csrf_token, uploaded_key
from shangliang.accounts.models import User
from shangliang.core.errors import Refused
from shangliang.audit.models import AuditLog
from shangliang.audit.operations import record
from shangliang.branding.models import BrandVersion
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import OutboxMessage
from shangliang.core.storage import tenant_prefix
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.models import Notification
from shangliang.notifications.operations import notify
from shangliang.procedures.operations import adopt
from shangliang.tenants.models import Community, Tenant
from shangliang.topics import operations as topic_ops
from shangliang.topics.counts import by_step
from shangliang.topics.models import Topic, TopicEvent
from shangliang.transfer import archive, export, restore
from shangliang.transfer.restore import restore_tenant
from shangliang.transfer.models import TenantExport
from shangliang.transfer.tasks import export_tenant
from support.databases import own_database


def import_tenant(*args, **kwargs):
    """As `shangliang tenant import` does it: the restore, then the command's one commit."""
    from shangliang.core.db import db

    tenant = restore_tenant(*args, **kwargs)
    db.commit()
    return tenant

ROLES = {"street_admin", "staff", "member"}
PAGE = "/t/yanshan/manage/export/"


# ---------------------------------------------------------------- data and helpers

@pytest.fixture(autouse=True)
def empty_store(app):
    """Services mode shares one bucket across tests while tenant ids restart at 1: objects an
    earlier test left under the same prefix would be exported as ours."""
    store = app.extensions["storage"]
    for key in list(store.list_keys("tenants/")):
        store.delete(key)


@pytest.fixture
def yanshan(app, world):
    """燕山街道 with a bit of everything: procedure, topics with photos, brand, community, notices."""
    admin, staff = world.users["yanshan-admin"].id, world.users["yanshan-staff"].id
    with app.app_context(), tenant_context(world.yanshan.id):
        street = db.get(Tenant, world.yanshan.id)
        adopt(street, admin, "qibu_dingdan")
        for i in range(3):
            topic = topic_ops.create_topic(street, staff, {"title": f"立功小区天然气安装 {i}", "channel": "hotline_12345",
                                                           "resident_name": "王大妈", "resident_phone": "13812341234"})
            topic_ops.act(street, staff, ROLES, topic, "attach", expected_version=topic.version,
                          data={"kind": "photo", "key": uploaded_key(street.id), "name": "现场.jpg"})
            topic_ops.act(street, staff, ROLES, topic, "comment", expected_version=topic.version, comment="已到现场")
        db.add(BrandVersion(tenant_id=street.id, number=1, display_name="燕山街道政协委员工作室", brand_name="有事好商量",
                            slogan="有事莫心急 下楼来商量", primary_colour="#b3261e", accent_colour="#1f6feb",
                            text_colour="#ffffff", logo_key=uploaded_key(street.id), created_by=admin,
                            hotlines=[{"label": "12345", "number": "12345"}]))
        street.brand_number = 1
        street.population = 52000
        db.add(Community(tenant_id=street.id, name="立功社区", grids=["1 网格", "2 网格"]))
        notify(street.id, staff, "x", "请跟进", link="/t/yanshan/topics/1")
        record(street.id, admin, "brand.publish", "1")
        db.commit()
    return world.yanshan


def source_counts(tenant_id: int) -> dict[str, int]:
    with tenant_context(tenant_id):
        return {t.name: db.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)
                                  .execution_options(tenant_filter_by_hand=True))
                for t in archive.exported_tables()}


def file_checksums(store, tenant_id: int) -> dict[str, str]:
    prefix = tenant_prefix(tenant_id)
    return {k[len(prefix):]: hashlib.sha256(store.get(k)).hexdigest()
            for k in store.list_keys(prefix) if not k.startswith(prefix + "exports/")}


def replays(tenant_id: int) -> dict[int, dict]:
    with tenant_context(tenant_id):
        out = {}
        for topic in db.scalars(select(Topic).order_by(Topic.number)):
            state = topic_ops.replay(topic_ops.events(topic))
            assert (state["step_key"], state["round"], state["status"]) == (topic.step_key, topic.round, topic.status)
            out[topic.number] = state
        return out


def board_counts(tenant_id: int) -> dict[str, dict[str, int]]:
    with tenant_context(tenant_id):
        return {status: by_step(status) for status in ("open", "closed", "all")}


def export_now(app, tenant_id: int, path) -> dict:
    with app.app_context(), tenant_context(tenant_id):
        return export.write_export(tenant_id, str(path))


def fetch(client, url: str) -> bytes:
    """Follow a signed storage link: our own route (embedded) or the S3 API (services)."""
    if url.startswith("http://127.0.0.1"):
        with urllib.request.urlopen(url, timeout=10) as resp:  # loopback only
            return resp.read()
    resp = client.get(url)
    assert resp.status_code == 200
    return resp.get_data()


def link_expiry(app, url: str) -> int:
    if url.startswith("http"):
        return int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])
    return app.extensions["storage"].signer.loads(url.rsplit("/", 1)[1])["e"]


def all_keys(app) -> list[str]:
    return list(app.extensions["storage"].list_keys("tenants/"))


# ---------------------------------------------------------------- another installation

@contextmanager
def other_installation(request, tmp_path):
    """A second, empty installation: its own database and its own object store."""
    from shangliang import create_app
    from shangliang.config import Config
    from shangliang.core.db import Session

    instance = tmp_path / "other"
    instance.mkdir()
    if SERVICES:
        import boto3

        s3 = dict(request.getfixturevalue("s3_server"), bucket=f"shangliang-other-{uuid.uuid4().hex[:8]}")
        boto3.client("s3", endpoint_url=s3["endpoint_url"], region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test").create_bucket(Bucket=s3["bucket"])
        database = own_database(request, instance)  # a copy of the migrated template, dropped after the test
        cfg = Config(instance_path=instance, database_url=database.database_url,
                     database_admin_url=database.database_admin_url, secret_key="o" * 48, env="development", s3=s3)
    else:
        shutil.copy(request.getfixturevalue("sqlite_template"), instance / "shangliang.db")
        url = f"sqlite:///{instance / 'shangliang.db'}"
        cfg = Config(instance_path=instance, database_url=url, database_admin_url=url, secret_key="o" * 48)
    other = create_app(cfg)
    try:
        yield other
    finally:
        Session.remove()
        other.extensions["engine"].dispose()


# ---------------------------------------------------------------- the round trip

def test_export_by_page_and_job_then_import_into_another_installation(
        app, as_user, yanshan, run_jobs, monkeypatch, request, tmp_path):
    seen = []
    real = export._save_progress
    monkeypatch.setattr(export, "PROGRESS_EVERY", 3)
    monkeypatch.setattr(export, "_save_progress", lambda eid, done, total: (seen.append((done, total)),
                                                                         real(eid, done, total)))
    client = as_user("yanshan-admin")
    resp = client.post(PAGE, data={"csrf_token": csrf_token(client)})
    assert resp.status_code == 302
    run_jobs()
    with app.app_context(), tenant_context(yanshan.id):
        [row] = db.scalars(select(TenantExport)).all()

    status = client.get(f"{PAGE}{row.id}/status").get_json()
    assert (status["status"], status["percent"]) == ("done", 100)
    assert status["done_items"] == status["total_items"] > 0
    # progress was committed on the way: from 0, in steps, up to everything
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == status["total_items"]
    assert any(0 < done < total for done, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    page = client.get(PAGE).get_data(as_text=True)
    assert "100%" in page and "已完成" in page and "export.js" not in page

    # the download: permission checked here, then a short-lived signed link with a safe name
    resp = client.get(status["download"])
    assert resp.status_code == 302
    link = resp.headers["Location"]
    assert link_expiry(app, link) <= 300
    assert "yanshan-export-" in (link if link.startswith("http") else
                                 app.extensions["storage"].signer.loads(link.rsplit("/", 1)[1])["f"])
    data = fetch(client, link)
    with app.app_context(), tenant_context(yanshan.id):
        row = db.scalar(select(TenantExport))
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
        assert row.key.startswith(tenant_prefix(yanshan.id) + "exports/")
        assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "export.download")) == 1
    zpath = tmp_path / "yanshan.zip"
    zpath.write_bytes(data)

    with zipfile.ZipFile(zpath) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        people = json.loads(zf.read("users.json"))
        names = zf.namelist()
        assert all(b"password" not in zf.read(n).lower() for n in names if n.endswith(".json"))
    assert {k for p in people for k in p} == {"id", "username", "display_name"}
    assert {p["username"] for p in people} >= {"yanshan-admin", "yanshan-staff", "yanshan-member"}
    assert not any("exports/" in n for n in names)  # earlier exports are not carried along
    assert set(manifest["tables"]).isdisjoint(archive.EXCLUDED)
    assert manifest["tenant"]["slug"] == "yanshan" and manifest["tenant"]["parent"] == "lixia"

    # what the source holds, read before the second installation takes the session over
    with app.app_context():
        counts = source_counts(yanshan.id)
        sums = file_checksums(app.extensions["storage"], yanshan.id)
        logs = replays(yanshan.id)
        boards = board_counts(yanshan.id)
    # since the zip was made, the log has gained "export.done" and "export.download"
    counts["audit_log"] -= 2
    assert {t: info["rows"] for t, info in manifest["tables"].items()} == counts
    assert {rel: f["sha256"] for rel, f in manifest["files"].items()} == sums
    assert counts["topics"] == 3 and counts["brand_versions"] == 1 and len(sums) == 4
    assert status["total_items"] == sum(counts.values()) + len(sums)

    with other_installation(request, tmp_path) as other, other.app_context():
        assert other.extensions["engine"].url != app.extensions["engine"].url
        assert other.extensions["storage"] is not app.extensions["storage"]
        from shangliang.accounts.operations import create_user
        from shangliang.tenants.operations import create_tenant

        create_tenant(None, kind="county", slug="lixia", name="历下区")
        create_user("yanshan-admin", "燕山 admin elsewhere", "correct-horse-battery")
        db.commit()
        new = import_tenant(str(zpath))
        report = new.import_report
        assert new.slug == "yanshan" and new.parent.slug == "lixia" and new.brand_number == 1
        assert new.population == 52000
        assert report.tables == counts and report.files == len(sums)
        assert "yanshan-admin" in report.users_matched and "yanshan-staff" in report.users_created

        store = other.extensions["storage"]
        assert source_counts(new.id) == {**counts, "audit_log": counts["audit_log"] + 1}  # + "tenant.import"
        assert file_checksums(store, new.id) == sums
        assert replays(new.id) == logs
        assert board_counts(new.id) == boards and sum(boards["all"].values()) == 3  # counted again on import
        prefix = tenant_prefix(new.id)
        with tenant_context(new.id):
            brand = db.scalar(select(BrandVersion))
            assert brand.logo_key.startswith(prefix) and store.exists(brand.logo_key)
            keys = [e.data["key"] for e in db.scalars(select(TopicEvent).where(TopicEvent.action == "attach"))]
            assert len(keys) == 3 and all(k.startswith(prefix) and store.exists(k) for k in keys)
            assert db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "tenant.import")) == 1
            admin_here = db.scalar(select(User).where(User.username == "yanshan-admin"))
            from shangliang.accounts.models import Membership

            assert db.scalar(select(Membership).where(Membership.role == "street_admin")).user_id == admin_here.id
        created = db.scalar(select(User).where(User.username == "yanshan-staff"))
        from shangliang.accounts.passwords import verify_password

        assert not verify_password(created.password_hash, "correct-horse-battery")  # must be given a password


# ---------------------------------------------------------------- the job

def test_job_delivered_twice_makes_one_zip(app, as_user, yanshan, run_jobs):
    client = as_user("yanshan-admin")
    client.post(PAGE, data={"csrf_token": csrf_token(client)})
    run_jobs()
    with app.app_context(), tenant_context(yanshan.id):
        row = db.scalar(select(TenantExport))
        first = (row.key, row.sha256)
        job_id = db.scalar(select(OutboxMessage.id).where(OutboxMessage.actor == export_tenant.actor_name))
    export_tenant.send(yanshan.id, str(job_id), str(row.id))  # the same message again
    export_tenant.send(yanshan.id, str(uuid.uuid4()), str(row.id))  # another job for a finished export
    run_jobs()
    with app.app_context(), tenant_context(yanshan.id):
        row = db.scalar(select(TenantExport))
        assert (row.key, row.sha256, row.status) == (*first, "done")
        zips = list(app.extensions["storage"].list_keys(tenant_prefix(yanshan.id) + "exports/"))
        assert zips == [row.key]


def test_a_failed_export_says_why_and_leaves_no_zip(app, yanshan, monkeypatch):
    with app.app_context(), tenant_context(yanshan.id):
        row = export.request_export(db.get(Tenant, yanshan.id), None)
        db.commit()
        store = app.extensions["storage"]
        monkeypatch.setattr(type(store), "put_file", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
        with pytest.raises(OSError):
            export.run_export(yanshan.id, row.id)
        row = export.find_export(row.id)
        assert row.status == "failed" and "disk full" in row.error and row.key is None
        assert list(store.list_keys(tenant_prefix(yanshan.id) + "exports/")) == []


def test_export_requested_twice_while_running_is_refused(app, as_user, yanshan):
    client = as_user("yanshan-admin")
    token = csrf_token(client)
    assert client.post(PAGE, data={"csrf_token": token}).status_code == 302
    page = client.get(PAGE).get_data(as_text=True)  # no worker here: it waits in the queue
    assert "<progress" in page and "排队中" in page and "export.js" in page and "yanshan-admin" in page
    with app.app_context(), tenant_context(yanshan.id):
        row = db.scalar(select(TenantExport))
    status = client.get(f"{PAGE}{row.id}/status").get_json()
    assert (status["status"], status["percent"], status["download"]) == ("queued", 0, None)
    resp = client.post(PAGE, data={"csrf_token": token})
    assert resp.status_code == 409 and "已有导出正在进行" in resp.get_data(as_text=True)
    with app.app_context(), tenant_context(yanshan.id):
        # running: a worker holds its job (its lease, renewed by the worker's heartbeat, is live)
        db.execute(update(TenantExport).values(status="running"))
        db.execute(update(OutboxMessage).where(OutboxMessage.id == row.job_id).values(
            runner="a-worker", lease_until=utcnow() + timedelta(minutes=1)))
        db.commit()
        with pytest.raises(Refused, match="已有导出正在进行"):
            export.request_export(db.get(Tenant, yanshan.id), None)
        assert db.scalar(select(func.count()).select_from(TenantExport)) == 1


def test_only_administrators_of_the_tenant_reach_exports(app, as_user, yanshan, tmp_path):
    with app.app_context(), tenant_context(yanshan.id):
        row = export.request_export(db.get(Tenant, yanshan.id), None)
        db.commit()
    urls = [PAGE, f"{PAGE}{row.id}/status", f"{PAGE}{row.id}/download"]
    staff = as_user("yanshan-staff")
    assert [staff.get(u).status_code for u in urls] == [403, 403, 403]
    assert staff.post(PAGE, data={"csrf_token": csrf_token(staff)}).status_code == 403
    other = as_user("guangwumen-admin")
    assert [other.get(u).status_code for u in urls] == [404, 404, 404]
    # their own tenant's address with our export's id: not found either
    assert other.get(f"/t/guangwumen/manage/export/{row.id}/status").status_code == 404
    assert other.get(f"/t/guangwumen/manage/export/{row.id}/download").status_code == 404
    assert "数据导出" in as_user("yanshan-admin").get("/t/yanshan/manage/").get_data(as_text=True)


# ---------------------------------------------------------------- refusing bad archives

def rewrite_zip(src, dst, change):
    """Copy a zip, letting change(name, bytes) return new bytes (or None to drop the entry)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item))
            if data is not None:
                zout.writestr(item.filename, data)


def snapshot(app) -> tuple:
    """What a refused import must leave as it was: tenants, people, stored objects."""
    with app.app_context():
        return (db.scalar(select(func.count()).select_from(Tenant)), db.scalar(select(func.count()).select_from(User)),
                all_keys(app))


@pytest.fixture
def exported(app, yanshan, tmp_path):
    path = tmp_path / "good.zip"
    return path, export_now(app, yanshan.id, path)


def test_a_tampered_file_is_refused_and_leaves_nothing(app, exported, tmp_path):
    path, manifest = exported
    last = sorted(manifest["files"])[-1]
    bad = tmp_path / "tampered.zip"
    # same size, other bytes: only the checksum can tell (the zip's own CRC is recomputed)
    rewrite_zip(path, bad, lambda n, b: b[::-1] if n == f"files/{last}" else b)
    before = snapshot(app)
    with app.app_context(), pytest.raises(restore.ImportRefused) as err:
        import_tenant(str(bad), slug="yanshan-copy")
    assert err.value.message == "文件校验和与清单不符" and last in str(err.value)
    assert snapshot(app) == before


EVIL = ["../evil.txt", "files/../../evil.txt", "/etc/evil.txt", "files\\..\\evil.txt",
        "files/photos/../../../evil.txt", "C:/evil.txt", "files/./photos/evil.txt"]


def test_path_traversal_entries_are_refused(app, exported, tmp_path):
    path, _manifest = exported
    before = snapshot(app)
    for evil in EVIL:
        bad = tmp_path / "slip.zip"
        rewrite_zip(path, bad, lambda n, b: b)
        with zipfile.ZipFile(bad, "a") as zf:
            zf.writestr(evil, b"owned")
        with app.app_context(), pytest.raises(restore.ImportRefused, match="不安全的路径"):
            import_tenant(str(bad), slug="yanshan-copy")
        assert snapshot(app) == before, evil
    assert not list(tmp_path.rglob("evil.txt")) and not list(app.config["SHANGLIANG"].instance_path.rglob("evil.txt"))


def more_topics(manifest: dict) -> dict:
    manifest["tables"]["topics"]["rows"] += 1
    return manifest


def test_unknown_format_unlisted_entries_and_broken_zips_are_refused(app, exported, tmp_path):
    path, _manifest = exported
    before = snapshot(app)
    cases = {
        "无法识别的导出格式": lambda n, b: json.dumps({**json.loads(b), "format_version": 99}).encode()
        if n == "manifest.json" else b,
        "清单之外的条目": lambda n, b: b,
        "行数与清单不符": lambda n, b: json.dumps(more_topics(json.loads(b))).encode() if n == "manifest.json" else b,
    }
    for message, change in cases.items():
        bad = tmp_path / "bad.zip"
        rewrite_zip(path, bad, change)
        if message == "清单之外的条目":
            with zipfile.ZipFile(bad, "a") as zf:
                zf.writestr("files/photos/extra.jpg", b"x")
        with app.app_context(), pytest.raises(restore.ImportRefused, match=message):
            import_tenant(str(bad), slug="yanshan-copy")
        assert snapshot(app) == before
    (tmp_path / "not.zip").write_bytes(b"PK not really")
    with app.app_context(), pytest.raises(restore.ImportRefused, match="不是有效的导出文件"):
        import_tenant(str(tmp_path / "not.zip"), slug="yanshan-copy")


def test_slug_conflict_and_missing_county_are_refused(app, exported):
    path, _manifest = exported
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(restore.ImportRefused, match="该标识已被使用") as err:
            import_tenant(str(path))
        assert err.value.field == "slug" and "yanshan" in str(err.value)
        with pytest.raises(restore.ImportRefused, match="上级区县不存在"):
            import_tenant(str(path), slug="yanshan-copy", parent_slug="nowhere")
    assert snapshot(app) == before


def test_cli_exports_and_imports_a_copy_in_the_same_installation(app, config, exported, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from shangliang.cli import main

    from conftest import cli_env

    for k, v in cli_env(config).items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "cli.zip"
    runner = CliRunner()
    result = runner.invoke(main, ["tenant", "export", "yanshan", str(out)])
    assert result.exit_code == 0, result.output
    assert "sha256" in result.output and out.exists()
    result = runner.invoke(main, ["tenant", "import", str(out), "--slug", "yanshan-copy"])
    assert result.exit_code == 0, result.output
    assert "tenant yanshan-copy" in result.output and "topics" in result.output and "files restored: 4" in result.output
    result = runner.invoke(main, ["tenant", "import", str(out), "--slug", "yanshan-copy"])
    assert result.exit_code == 1 and "该标识已被使用" in result.output
    with app.app_context():
        copy = db.scalar(select(Tenant).where(Tenant.slug == "yanshan-copy"))
        assert source_counts(copy.id) == source_counts(db.scalar(select(Tenant.id).where(Tenant.slug == "yanshan")))
        with tenant_context(copy.id):
            note = db.scalar(select(Notification))
            assert note.link == "/t/yanshan-copy/topics/1"  # tenant links follow the new slug


def test_storage_streams_and_lists_the_same_on_both_backends(app, tmp_path):
    from shangliang.core.storage import tenant_key

    store = app.extensions["storage"]
    body = bytes(range(256)) * 5000  # more than one read chunk
    one, ten = tenant_key(1, "attachments", "bin"), tenant_key(10, "photos", "jpg")
    with open(tmp_path / "big.bin", "wb") as fh:
        fh.write(body)
    with open(tmp_path / "big.bin", "rb") as fh:
        store.put_file(one, fh, "application/octet-stream")
    store.put(ten, b"photo", "image/jpeg")
    src = store.open(one)
    try:
        assert src.read() == body
    finally:
        src.close()
    assert list(store.list_keys("tenants/1/")) == [one]  # not tenants/10/
    assert list(store.list_keys("tenants/10/")) == [ten]
    assert list(store.list_keys("tenants/2/")) == []
    assert sorted(store.list_keys("tenants/")) == sorted([one, ten])
