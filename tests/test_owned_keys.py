"""Issue 16: a storage key names one tenant's object. An archive whose rows name a key outside the
archive's own prefix is refused whole (naming the file, the row and the field), and every route that
serves or signs a key serves only keys under the current tenant's prefix (else 404, logged)."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, update

from conftest import csrf_token, uploaded_key
from shangliang.accounts.operations import create_api_token
from shangliang.branding.models import BrandVersion
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.files.models import Attachment
from shangliang.topics.models import Topic, TopicEvent
from shangliang.topics.publication import photos_of
from shangliang.tenants.models import Tenant
from shangliang.transfer import restore
from shangliang.transfer.models import TenantExport
from test_publication import concluded
from test_transfer import empty_store, export_now, exported, import_tenant, rewrite_zip, snapshot, yanshan  # noqa: F401

# Every place a row of an export carries a storage key: (table, column, key inside a JSON column).
KEY_PLACES = [("brand_versions", "logo_key", None), ("brand_versions", "banner_key", None),
              ("brand_versions", "qr_key", None), ("attachments", "key", None), ("attachments", "thumb_key", None),
              ("attachments", "web_key", None), ("topic_events", "data", "key"), ("roster_imports", "file_key", None)]


def edit_rows(data: bytes, change, edited: list | None = None) -> bytes:
    """A data file with change(row) applied to each row until it returns True once (its number
    appended to `edited`)."""
    out, done, number = [], False, 0
    for line in data.decode().split("\n"):
        if line in ("[", "]", "") or done:
            out.append(line)
            continue
        comma, number = line.endswith(","), number + 1
        row = json.loads(line.rstrip(","))
        done = bool(change(row))
        if done and edited is not None:
            edited.append(number)
        out.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + ("," if comma else ""))
    return "\n".join(out).encode()


def plant(column: str, inner: str | None, key: str):
    def change(row):
        if inner is None:
            row[column] = key
            return True
        if isinstance(row.get(column), dict) and inner in row[column]:
            row[column][inner] = key
            return True
        return False
    return change


@pytest.fixture
def foreign_key(app, world):
    """广武门's logo, really stored: what an edited archive points at."""
    with app.app_context():
        return uploaded_key(world.guangwumen.id)


@pytest.fixture
def with_roster_import(app, yanshan):
    """燕山 with a roster import, so that its file_key travels too."""
    from shangliang.roster.models import RosterImport

    with app.app_context(), tenant_context(yanshan.id):
        db.add(RosterImport(tenant_id=yanshan.id, status="done", file_key=uploaded_key(yanshan.id),
                            filename="名册.csv", created_by=None))
        db.commit()
    return yanshan


@pytest.fixture
def exported_all(app, with_roster_import, tmp_path):
    path = tmp_path / "good.zip"
    return path, export_now(app, with_roster_import.id, path)


@pytest.mark.parametrize("table,column,inner", KEY_PLACES)
def test_an_archive_naming_another_tenants_key_is_refused_whole(app, exported_all, foreign_key, tmp_path,
                                                                  table, column, inner):
    path, manifest = exported_all
    assert manifest["tables"][table]["rows"] >= 1
    bad, edited = tmp_path / "edited.zip", []
    rewrite_zip(path, bad, lambda n, b: edit_rows(b, plant(column, inner, foreign_key), edited)
                if n == f"data/{table}.json" else b)
    before = snapshot(app)
    with app.app_context(), pytest.raises(restore.ImportRefused) as err:
        import_tenant(str(bad), slug="yanshan-copy")
    assert err.value.message == "导出文件中的存储键不在本导出的存储范围内"
    said = str(err.value)
    assert f"data/{table}.json" in said and f"第 {edited[0]} 行" in said and column in said and foreign_key in said
    assert snapshot(app) == before  # no tenant, no people, no objects


def test_a_malformed_key_is_refused_and_a_forged_source_prefix_too(app, exported, tmp_path):
    path, _manifest = exported
    before = snapshot(app)
    bad = tmp_path / "edited.zip"
    rewrite_zip(path, bad, lambda n, b: edit_rows(b, plant("logo_key", None, "tenants/1/brand/../../x"))
                if n == "data/brand_versions.json" else b)
    with app.app_context(), pytest.raises(restore.ImportRefused, match="存储键无效") as err:
        import_tenant(str(bad), slug="yanshan-copy")
    assert "logo_key" in str(err.value)
    rewrite_zip(path, bad, lambda n, b: json.dumps({**json.loads(b), "source_prefix": "tenants/"}).encode()
                if n == "manifest.json" else b)
    with app.app_context(), pytest.raises(restore.ImportRefused, match="存储范围无效"):
        import_tenant(str(bad), slug="yanshan-copy")
    assert snapshot(app) == before


def test_the_cli_refuses_the_issues_archive_with_a_clear_message(app, config, exported, foreign_key, tmp_path,
                                                                 monkeypatch):
    from click.testing import CliRunner

    from conftest import cli_env
    from shangliang.cli import main

    path, _manifest = exported
    bad = tmp_path / "edited.zip"
    rewrite_zip(path, bad, lambda n, b: edit_rows(b, plant("logo_key", None, foreign_key))
                if n == "data/brand_versions.json" else b)
    for k, v in cli_env(config).items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(main, ["tenant", "import", str(bad), "--slug", "yanshan-copy"])
    assert result.exit_code == 1, result.output
    assert "data/brand_versions.json" in result.output and "logo_key" in result.output
    with app.app_context():
        assert db.scalar(select(Tenant).where(Tenant.slug == "yanshan-copy")) is None


# ---------------------------------------------------------------- serving

def refused_logged(caplog, key: str) -> bool:
    return any(key in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_the_brand_image_route_serves_only_the_tenants_own_keys(app, as_user, yanshan, foreign_key, caplog):
    client = as_user("yanshan-admin")  # the version is a draft: served to brand managers
    assert client.get("/t/yanshan/brand/1/logo").status_code == 200
    with app.app_context(), tenant_context(yanshan.id):
        db.execute(update(BrandVersion).values(logo_key=foreign_key))
        db.commit()
    caplog.set_level(logging.WARNING)
    assert client.get("/t/yanshan/brand/1/logo").status_code == 404
    assert refused_logged(caplog, foreign_key)


def test_file_links_are_signed_only_for_the_tenants_own_keys(app, as_user, yanshan, foreign_key, caplog):
    with app.app_context(), tenant_context(yanshan.id):
        att = db.scalars(select(Attachment).order_by(Attachment.created_at)).first()
        att_id = att.id
        db.execute(update(Attachment).where(Attachment.id == att_id).values(key=foreign_key, web_key=foreign_key))
        _row, secret = create_api_token(db.get(Tenant, yanshan.id), None, "check", "street_admin")
        db.commit()
    caplog.set_level(logging.WARNING)
    client = as_user("yanshan-admin")
    for size in ("", "?size=web"):
        assert client.get(f"/t/yanshan/files/{att_id}{size}").status_code == 404
    resp = client.get(f"/api/v1/t/yanshan/files/{att_id}", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 404
    assert refused_logged(caplog, foreign_key)
    page = client.get("/t/yanshan/topics/1").get_data(as_text=True)
    assert foreign_key not in page


def test_evidence_logged_by_key_links_only_to_the_tenants_own_keys(app, as_user, yanshan, foreign_key):
    with app.app_context(), tenant_context(yanshan.id):
        last = db.scalars(select(TopicEvent).join(Topic, Topic.id == TopicEvent.topic_id).where(Topic.number == 1)
                          .order_by(TopicEvent.seq.desc())).first()
        db.add(TopicEvent(tenant_id=yanshan.id, topic_id=last.topic_id, seq=last.seq + 1, action="attach",
                          round=last.round, comment="", data={"kind": "photo", "key": foreign_key, "name": "旧照片.jpg"}))
        db.commit()  # evidence logged by key, before attachments were checked
    page = as_user("yanshan-admin").get("/t/yanshan/topics/1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/storage/o/" not in html and "X-Amz-" not in html and "旧照片.jpg" in html


def test_a_published_photo_is_served_only_from_the_tenants_own_keys(app, client, as_user, world, foreign_key):
    number = concluded(app, world, title="立功小区路灯")
    with app.app_context(), tenant_context(world.yanshan.id):
        topic = db.scalar(select(Topic).where(Topic.number == number))
        seq = photos_of([topic])[topic.id][0][0]
    staff = as_user("yanshan-staff")
    resp = staff.post(f"/t/yanshan/publication/{number}", data={"csrf_token": csrf_token(staff), "do": "publish",
                                                                "title": "路灯修好了", "text": "已更换", "photos": str(seq),
                                                                "confirm": "1"})  # main asks first
    assert resp.status_code == 302
    assert client.get(f"/t/yanshan/gongshi/{number}/photos/{seq}").status_code == 200
    with app.app_context(), tenant_context(world.yanshan.id):
        db.execute(update(Attachment).values(key=foreign_key, web_key=foreign_key))
        db.commit()
    assert client.get(f"/t/yanshan/gongshi/{number}/photos/{seq}").status_code == 404
    assert foreign_key not in staff.get("/t/yanshan/publication/?view=published").get_data(as_text=True)


def test_an_export_is_downloaded_only_from_the_tenants_own_key(app, as_user, yanshan, foreign_key, run_jobs):
    client = as_user("yanshan-admin")
    assert client.post("/t/yanshan/manage/export/", data={"csrf_token": csrf_token(client)}).status_code == 302
    run_jobs()
    with app.app_context(), tenant_context(yanshan.id):
        row = db.scalar(select(TenantExport))
        row.key = foreign_key
        db.commit()
        export_id = row.id
    assert client.get(f"/t/yanshan/manage/export/{export_id}/download").status_code == 404


def test_every_column_that_holds_a_storage_key_says_so():
    """A new `*_key` column holding a storage key must carry STORAGE_KEY, or imports would not check it."""
    from shangliang.core.tenancy import tenant_models

    not_storage = {("topics", "step_key"), ("topic_step_counts", "step_key"), ("topic_notices", "step_key"),
                   ("roster_people", "import_key"), ("procedure_versions", "template_key")}
    named = {(m.__table__.name, c.name) for m in tenant_models() for c in m.__table__.columns
             if c.name == "key" or c.name.endswith("_key")}
    declared = {(m.__table__.name, c.name) for m in tenant_models() for c in m.__table__.columns
                if c.info.get("storage_key")}
    assert named - not_storage == declared
    assert {(t, c) for t, c, inner in KEY_PLACES if inner is None} | {("tenant_exports", "key")} == declared
