"""Photos and attachments: signed uploads straight to storage, the background check (GPS out,
capture time kept, thumbnails, deduplication), quota, signed downloads, deletion, the storage
check, the JSON API and what happens when storage fails. Runs on the local store (embedded)
and on moto's S3 server (services)."""
from __future__ import annotations

import io
import re
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

import factories
from conftest import SERVICES, csrf_token
from support import samples
from support.files import empty_store, objects, row, stored, topic  # noqa: F401  (fixtures)
from support.uploads import post_to_storage, request_form, upload

PREFIX = "/t/yanshan/files"


@pytest.fixture
def staff(as_user, world):
    return as_user("yanshan-staff")


def follow(client, resp):
    """The bytes and headers behind a redirect to a signed link (local store or S3)."""
    assert resp.status_code == 302, resp.status_code
    url = resp.location
    if url.startswith("/"):
        got = client.get(url)
        return got.data, got.headers
    import requests

    got = requests.get(url, timeout=10)
    return got.content, got.headers


# ---------------------------------------------------------------- the check

def test_a_phone_photo_loses_its_gps_keeps_its_capture_time_and_gets_thumbnails(app, world, staff, topic, run_jobs):
    from PIL import ExifTags, Image

    original = samples.photo(size=(2000, 1000), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it has GPS to begin with
    att_id = upload(staff, "yanshan", "topic", topic.id, original, "现场.jpg")
    run_jobs()

    att = row(app, world, att_id)
    assert att.status == "ready" and att.kind == "photo" and att.content_type == "image/jpeg", att.error
    assert (att.width, att.height) == (1000, 2000)  # turned upright by its EXIF orientation
    assert att.taken_at.isoformat() == "2025-05-01T02:20:30+00:00"  # 10:20:30 at +08:00
    assert att.key.startswith(f"tenants/{world.yanshan.id}/files/") and att.key.endswith(".jpg")

    kept = Image.open(io.BytesIO(stored(app, att.key)))
    exif = kept.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo) and ExifTags.Base.GPSInfo not in exif
    assert exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == samples.TAKEN
    assert ExifTags.Base.Make not in exif and exif.get(ExifTags.Base.Orientation, 1) == 1
    assert b"PhoneCo" not in stored(app, att.key)
    thumb = Image.open(io.BytesIO(stored(app, att.thumb_key)))
    web = Image.open(io.BytesIO(stored(app, att.web_key)))
    assert max(thumb.size) == 320 and max(web.size) == 1600 and thumb.size[1] > thumb.size[0]
    assert not thumb.getexif() and not web.getexif()
    assert att.size == sum(len(stored(app, k)) for k in (att.key, att.thumb_key, att.web_key))
    # the upload itself is gone: only what the check wrote is left
    assert sorted(objects(app, world.yanshan)) == sorted([att.key, att.thumb_key, att.web_key])


@pytest.mark.parametrize("fmt,ext,stored_type", [("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp"),
                                                 ("HEIF", "jpg", "image/jpeg")])
def test_png_webp_and_heic_photos_are_checked_and_stripped_too(app, world, staff, topic, run_jobs, fmt, ext,
                                                               stored_type):
    from PIL import ExifTags, Image

    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(fmt, size=(800, 600), orientation=1),
                    f"照片.{ext}")
    run_jobs()
    att = row(app, world, att_id)
    assert att.status == "ready" and att.content_type == stored_type and att.key.endswith("." + ext), att.error
    assert att.web_key is None  # small enough to be shown as it is
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    kept = Image.open(io.BytesIO(stored(app, att.key)))
    assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert att.taken_at is not None


def test_until_the_check_has_passed_the_file_is_shown_as_checking_and_not_served(request, app, world, staff, topic):
    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert '<span class="gallery-wait">正在检查</span>' in page and f"{PREFIX}/{att_id}/status" in page
    assert f'{PREFIX}/{att_id}?size=thumb' not in page
    for size in ("", "?size=thumb", "?size=web"):
        assert staff.get(f"{PREFIX}/{att_id}{size}").status_code == 404
    assert staff.get(f"{PREFIX}/{att_id}/status").get_json()["status"] == "checking"

    request.getfixturevalue("run_jobs")()
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert f'{PREFIX}/{att_id}?size=thumb' in page and "gallery-wait" not in page
    body, _headers = follow(staff, staff.get(f"{PREFIX}/{att_id}?size=thumb"))
    assert body.startswith(b"\xff\xd8\xff")


def test_the_same_photo_uploaded_twice_is_stored_once(app, world, staff, topic, run_jobs):
    data = samples.photo()
    first = upload(staff, "yanshan", "topic", topic.id, data, "一.jpg")
    run_jobs()
    second = upload(staff, "yanshan", "topic", topic.id, data, "二.jpg")
    run_jobs()
    a, b = row(app, world, first), row(app, world, second)
    assert b.status == "ready" and b.same_as == a.id and a.same_as is None
    assert (b.key, b.thumb_key, b.web_key, b.sha256) == (a.key, a.thumb_key, a.web_key, a.sha256)
    assert sorted(objects(app, world.yanshan)) == sorted([a.key, a.thumb_key, a.web_key])  # one set of objects
    with app.app_context():
        from shangliang.core.tenancy import tenant_context
        from shangliang.files.operations import usage

        with tenant_context(world.yanshan.id):
            assert usage() == a.size  # counted once
    # each keeps its own name
    _body, headers = follow(staff, staff.get(f"{PREFIX}/{second}"))
    assert "%E4%BA%8C.jpg" in headers.get("Content-Disposition", "") or "二.jpg" in unquote(
        headers.get("Content-Disposition", ""))


# ---------------------------------------------------------------- quota and limits

def test_uploads_beyond_the_quota_are_refused_naming_the_numbers(app, world, staff, topic, run_jobs, as_user):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    run_jobs()
    with app.app_context():
        db.get(Tenant, world.yanshan.id).storage_quota = 1024 * 1024  # 1 MB
        db.commit()
    resp = request_form(staff, "yanshan", "topic", topic.id, "大.pdf", 1024 * 1024)
    assert resp.status_code == 413
    message = resp.get_json()["error"]["message"]
    assert re.fullmatch(r"存储空间已用 [\d.]+ KB / 1\.0 MB，本文件 1\.0 MB，超出配额", message), message

    admin = as_user("yanshan-admin")
    page = admin.get(f"{PREFIX}/").get_data(as_text=True)
    assert "已用" in page and "/ 1.0 MB" in page and "现场.jpg" in page and "楼道灯坏了" in page
    assert '<progress class="quota" max="1048576"' in page
    assert staff.get(f"{PREFIX}/").status_code == 403  # the page is the street admin's


def test_sizes_beyond_the_per_file_limit_and_empty_files_are_refused_at_request(staff, topic):
    from shangliang.files.operations import MAX_FILE

    over = request_form(staff, "yanshan", "topic", topic.id, "大.pdf", MAX_FILE + 1)
    assert over.status_code == 413 and "单个文件不能超过 20.0 MB" in over.get_json()["error"]["message"]
    empty = request_form(staff, "yanshan", "topic", topic.id, "空.pdf", 0)
    assert empty.status_code == 422 and empty.get_json()["error"]["fields"] == {"size": ["文件是空的"]}


def test_one_byte_over_the_declared_size_is_refused_by_storage_or_by_the_check(app, world, staff, topic, run_jobs):
    data = samples.pdf()
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", len(data) - 1).get_json()
    status = post_to_storage(staff, resp["form"], data)
    if resp["form"]["url"].startswith("/"):
        assert status == 413  # the local store enforces its policy itself
        return
    # moto's S3 server does not enforce POST policy conditions (AWS, MinIO and others do; see
    # test_the_s3_upload_policy_pins_the_key_and_the_size); the check does it again regardless.
    assert status in (200, 204)
    staff.post(resp["complete_url"], headers={"X-CSRFToken": csrf_token(staff)})
    run_jobs()
    att = row(app, world, resp["id"])
    assert att.status == "refused" and "超过上传时申报的" in att.error
    assert objects(app, world.yanshan) == []


def test_a_file_larger_than_the_apps_request_limit_still_goes_to_storage(app, world, staff, topic, run_jobs):
    """Pages are limited to MAX_CONTENT_LENGTH (16 MB); uploads go by the policy's own limit."""
    big = samples.pdf("/Padding (" + "x" * (17 * 1024 * 1024) + ")")
    att_id = upload(staff, "yanshan", "topic", topic.id, big, "扫描件.pdf")
    run_jobs()
    att = row(app, world, att_id)
    assert att.status == "ready" and att.size == len(big) > app.config["MAX_CONTENT_LENGTH"], att.error


# ---------------------------------------------------------------- downloads

def test_downloads_are_signed_links_of_five_minutes_with_a_safe_name(app, world, staff, topic, run_jobs):
    att_id = upload(staff, "yanshan", "topic", topic.id, samples.pdf(), 'a"b\r\nSet-Cookie: x=1;\x07报告.pdf')
    run_jobs()
    att = row(app, world, att_id)
    assert att.filename == 'a"bSet-Cookie: x=1;报告.pdf'  # control characters gone; the name is metadata only
    resp = staff.get(f"{PREFIX}/{att_id}")
    assert resp.status_code == 302 and resp.headers["Cache-Control"] == "no-store"
    url = resp.location
    if url.startswith("/"):
        from itsdangerous import URLSafeTimedSerializer

        token = url.rsplit("/", 1)[1]
        data = URLSafeTimedSerializer("s" * 48, salt="shangliang.storage").loads(token)
        assert data["e"] <= 300
    else:
        query = parse_qs(urlsplit(url).query)
        assert int(query["X-Amz-Expires"][0]) <= 300
    body, headers = follow(staff, resp)
    assert body.startswith(b"%PDF-")
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "\r" not in disposition and "\n" not in disposition
    assert "%E6%8A%A5%E5%91%8A.pdf" in disposition  # 报告.pdf, encoded per RFC 5987
    assert headers["Content-Type"].startswith("application/pdf")


def test_another_tenants_user_gets_404_for_every_file(app, world, staff, topic, run_jobs, as_user):
    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    run_jobs()
    stranger = as_user("guangwumen-staff")
    token = csrf_token(stranger)
    for slug in ("yanshan", "guangwumen"):
        base = f"/t/{slug}/files"
        for url in (f"{base}/{att_id}", f"{base}/{att_id}?size=thumb", f"{base}/{att_id}/status"):
            assert stranger.get(url).status_code == 404, url
        for url in (f"{base}/{att_id}/complete", f"{base}/{att_id}/delete"):
            assert stranger.post(url, data={"csrf_token": token}, headers={"X-CSRFToken": token}).status_code == 404
        resp = request_form(stranger, slug, "topic", topic.id, "x.jpg", 100, token)
        assert resp.status_code == 404, (slug, resp.get_data(as_text=True))
    assert row(app, world, att_id).status == "ready"


def test_a_signed_upload_for_one_tenant_cannot_write_under_anothers_prefix(app, world, staff, topic):
    from shangliang.core.storage import FileStorage, tenant_key

    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100).get_json()
    form = resp["form"]
    assert form["fields"]["key"].startswith(f"tenants/{world.yanshan.id}/files/")
    theirs = tenant_key(world.guangwumen.id, "files")
    if isinstance(app.extensions["storage"], FileStorage):
        tampered = {**form, "fields": {**form["fields"], "key": theirs}}
        assert post_to_storage(staff, tampered, b"%PDF-1.4 x") == 403
    else:
        # moto accepts any POST; the policy's conditions are what S3 checks (see the next test).
        check_post_policy(form, app.config["SHANGLIANG"].s3["secret_key"], key=theirs, size=10, expect_ok=False)
    assert objects(app, world.guangwumen) == []


@pytest.mark.skipif(not SERVICES, reason="the S3 policy: services run (moto)")
def test_the_s3_upload_policy_pins_the_key_and_the_size(app, world, staff, topic):
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100).get_json()
    secret = app.config["SHANGLIANG"].s3["secret_key"]
    key = resp["form"]["fields"]["key"]
    check_post_policy(resp["form"], secret, key=key, size=100, expect_ok=True)
    check_post_policy(resp["form"], secret, key=key, size=101, expect_ok=False)  # one byte over
    check_post_policy(resp["form"], secret, key=key + "x", size=10, expect_ok=False)
    check_post_policy(resp["form"], secret, key=f"tenants/{world.yanshan.id}/brand/{'0' * 32}", size=10,
                      expect_ok=False)  # even inside its own prefix, only the key it was given


def check_post_policy(form: dict, secret: str, *, key: str, size: int, expect_ok: bool) -> None:
    """What S3 does with a POST: verify the policy's SigV4 signature, then every condition."""
    import base64
    import hashlib
    import hmac
    import json
    from datetime import datetime, timezone

    fields = {**form["fields"], "key": key}
    policy_b64 = fields["policy"]
    credential = fields["x-amz-credential"].split("/")
    _access, date, region, service = credential[:4]

    def sign(k, msg):
        return hmac.new(k, msg.encode(), hashlib.sha256).digest()

    k = sign(sign(sign(sign(("AWS4" + secret).encode(), date), region), service), "aws4_request")
    assert hmac.new(k, policy_b64.encode(), hashlib.sha256).hexdigest() == fields["x-amz-signature"]
    policy = json.loads(base64.b64decode(policy_b64))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - datetime.now(timezone.utc)).total_seconds() <= 900
    ok = True
    for cond in policy["conditions"]:
        if isinstance(cond, dict):
            (name, value), = cond.items()
            if name == "bucket":
                continue
            ok &= fields.get(name) == value
        elif cond[0] == "content-length-range":
            ok &= cond[1] <= size <= cond[2]
        elif cond[0] == "starts-with":
            ok &= str(fields.get(cond[1].lstrip("$"), "")).startswith(cond[2])
        elif cond[0] == "eq":
            ok &= fields.get(cond[1].lstrip("$")) == cond[2]
    assert {"key": form["fields"]["key"]} in policy["conditions"]
    assert any(c[0] == "content-length-range" for c in policy["conditions"] if isinstance(c, list))
    assert ok is expect_ok, (key, size, policy["conditions"])


# ---------------------------------------------------------------- evidence on a topic

def test_a_checked_file_is_recorded_as_topic_evidence_and_counts(app, world, staff, topic, request):
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.topics import operations as topic_ops

    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    act = {"csrf_token": csrf_token(staff), "action": "attach", "version": "", "attachment_id": att_id}

    def version():
        html = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
        return re.search(r'name="version" value="(\d+)"', html).group(1)

    early = staff.post(f"/t/yanshan/topics/{topic.number}/act", data={**act, "version": version()})
    assert early.status_code == 400 and "文件还未通过检查" in early.get_data(as_text=True)
    request.getfixturevalue("run_jobs")()
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert f'<option value="{att_id}">现场.jpg</option>' in page
    done = staff.post(f"/t/yanshan/topics/{topic.number}/act", data={**act, "version": version()})
    assert done.status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        t = db.get(topic_ops.Topic, {"tenant_id": world.yanshan.id, "id": topic.id})
        [event] = [e for e in topic_ops.events(t) if e.action == "attach"]
        att = row(app, world, att_id)
        assert event.data == {"kind": "photo", "key": att.key, "attachment_id": att_id, "name": "现场.jpg"}
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert f'href="{PREFIX}/{att_id}"' in page  # the timeline links through the permission check
    assert f'<option value="{att_id}">' not in page  # recorded: no longer offered


def test_a_refused_file_says_why_and_cannot_be_evidence(app, world, staff, topic, run_jobs):
    att_id = upload(staff, "yanshan", "topic", topic.id, b"<svg onload=alert(1)>", "x.svg")
    run_jobs()
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert "未通过检查" in page and "不接受此文件：内容是SVG 图片（可能含脚本）" in page
    html = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    resp = staff.post(f"/t/yanshan/topics/{topic.number}/act", data={
        "csrf_token": csrf_token(staff), "action": "attach", "version": version, "attachment_id": att_id})
    assert resp.status_code == 400 and "文件未通过检查" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- meetings and work items

def test_a_meeting_and_a_work_item_have_galleries_too(app, world, staff, run_jobs):
    from shangliang.core.db import db, utcnow
    from shangliang.core.tenancy import tenant_context
    from shangliang.files.operations import attachments_of

    with app.app_context():
        meeting = factories.meeting(world.yanshan, "楼道灯议事会", utcnow())
        item = factories.work_item(world.yanshan, meeting, "换灯")
        db.commit()
        meeting_id, item_id = meeting.id, item.id
    a = upload(staff, "yanshan", "meeting", meeting_id, samples.photo(colour="navy"), "会场.jpg")
    b = upload(staff, "yanshan", "work_item", item_id, samples.pdf(), "清单.pdf")
    run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        assert [str(x.id) for x in attachments_of("meeting", meeting_id)] == [a]
        assert [str(x.id) for x in attachments_of("work_item", item_id)] == [b]
    assert request_form(staff, "yanshan", "meeting", uuid.uuid4(), "x.jpg", 10).status_code == 404  # no such meeting
    assert request_form(staff, "yanshan", "minutes", meeting_id, "x.jpg", 10).status_code == 404  # no such kind


# ---------------------------------------------------------------- deleting and the storage check

def test_deleting_removes_the_objects_unless_another_attachment_shares_them(app, world, staff, topic, run_jobs,
                                                                           as_user):
    data = samples.photo()
    first = upload(staff, "yanshan", "topic", topic.id, data, "一.jpg")
    run_jobs()
    second = upload(staff, "yanshan", "topic", topic.id, data, "二.jpg")
    run_jobs()
    a = row(app, world, first)
    keys = sorted([a.key, a.thumb_key, a.web_key])

    member = as_user("yanshan-member")
    assert member.post(f"{PREFIX}/{first}/delete", data={"csrf_token": csrf_token(member)}).status_code == 403
    assert staff.post(f"{PREFIX}/{first}/delete", data={"csrf_token": csrf_token(staff),
                                                        "next": "/t/yanshan/topics/1"}).status_code == 302
    run_jobs()
    assert row(app, world, first).status == "deleted"
    assert sorted(objects(app, world.yanshan)) == keys  # still shared by the second
    assert staff.get(f"{PREFIX}/{first}").status_code == 404
    assert staff.get(f"{PREFIX}/{second}").status_code == 302

    admin = as_user("yanshan-admin")  # an administrator may delete anyone's file
    assert admin.post(f"{PREFIX}/{second}/delete", data={"csrf_token": csrf_token(admin)}).status_code == 302
    run_jobs()
    assert objects(app, world.yanshan) == []


def test_the_storage_check_reports_objects_without_rows_and_rows_without_objects(app, world, staff, topic,
                                                                                 run_jobs, as_user):
    from shangliang.core.db import db
    from shangliang.core.jobs import PeriodicLoop, relay
    from shangliang.core.storage import tenant_key
    from shangliang.core.tenancy import tenant_context
    from shangliang.files.models import StorageCheck

    kept = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    lost = upload(staff, "yanshan", "topic", topic.id, samples.pdf(), "纪要.pdf")
    run_jobs()
    stray = tenant_key(world.yanshan.id, "files", "bin")
    with app.app_context():
        store = app.extensions["storage"]
        store.put(stray, b"left behind")
        store.delete(row(app, world, lost).key)
    with app.app_context():
        relay(PeriodicLoop().tick())  # one tick of the periodic jobs: the storage check of every street
    run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        [check] = db.scalars(select(StorageCheck)).all()
        assert check.orphans == [stray]
        assert check.missing == [{"table": "attachments", "id": lost, "key": row(app, world, lost).key}]
        assert check.objects == len(objects(app, world.yanshan))
    assert row(app, world, kept).status == "ready"
    page = as_user("yanshan-admin").get(f"{PREFIX}/").get_data(as_text=True)
    assert "1 个没有对应记录，1 条记录找不到对象" in page and stray in page


def test_uploads_nobody_finished_are_given_up(app, world, staff, topic, run_jobs):
    from datetime import timedelta

    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.files import operations as ops
    from shangliang.files.models import Attachment

    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100).get_json()
    post_to_storage(staff, resp["form"], samples.pdf())
    with app.app_context(), tenant_context(world.yanshan.id):
        att = db.get(Attachment, {"tenant_id": world.yanshan.id, "id": uuid.UUID(resp["id"])})
        att.created_at -= timedelta(hours=1)
        ops.check_storage(world.yanshan.id)
        db.commit()
    run_jobs()
    att = row(app, world, resp["id"])
    assert att.status == "refused" and att.error == "上传未完成，请重新上传"
    assert objects(app, world.yanshan) == []


# ---------------------------------------------------------------- when storage fails

def test_storage_down_when_completing_gives_a_clear_message_and_records_nothing(app, world, staff, topic,
                                                                               monkeypatch):
    resp = request_form(staff, "yanshan", "topic", topic.id, "a.pdf", 100).get_json()
    post_to_storage(staff, resp["form"], samples.pdf())
    store = app.extensions["storage"]

    def down(*_a, **_k):
        raise ConnectionError("storage is down")

    monkeypatch.setattr(store, "exists", down)
    done = staff.post(resp["complete_url"], headers={"X-CSRFToken": csrf_token(staff)})
    assert done.status_code == 503
    assert done.get_json()["error"]["message"] == "存储服务暂时不可用，请稍后重试"
    assert row(app, world, resp["id"]).status == "uploading"  # nothing claims the file is there


def test_storage_failing_during_the_check_leaves_no_row_pointing_at_a_missing_object(request, app, world, staff,
                                                                                     topic, monkeypatch):
    from datetime import timedelta

    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.files import operations as ops
    from shangliang.files.models import Attachment

    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    store = app.extensions["storage"]
    real_put_file, writes = store.put_file, []

    def failing_put_file(key, fh, content_type="application/octet-stream"):
        if writes:  # the photo is written, then storage fails on the thumbnail
            raise OSError("storage answered 503")
        writes.append(key)
        return real_put_file(key, fh, content_type)

    monkeypatch.setattr(store, "put_file", failing_put_file)
    with app.app_context(), tenant_context(world.yanshan.id):  # one delivery of the check job
        with pytest.raises(RuntimeError, match="storage trouble"):
            ops.check_upload(world.yanshan.id, uuid.UUID(att_id))
    att = row(app, world, att_id)
    assert att.status == "checking" and att.error == "存储服务暂时出错，正在重试"  # it will be tried again
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert '<span class="gallery-wait">正在检查</span>' in page and "存储服务暂时出错，正在重试" in page
    assert staff.get(f"{PREFIX}/{att_id}").status_code == 404

    # Storage stays down past every retry: the periodic check gives the file up and removes what was written.
    monkeypatch.setattr(store, "put_file", real_put_file)
    with app.app_context(), tenant_context(world.yanshan.id):
        db.get(Attachment, {"tenant_id": world.yanshan.id, "id": uuid.UUID(att_id)}).created_at -= timedelta(hours=3)
        ops.check_storage(world.yanshan.id)
        db.commit()
    request.getfixturevalue("run_jobs")()
    att = row(app, world, att_id)
    assert att.status == "refused" and att.error == "检查未能完成，请重新上传"
    assert objects(app, world.yanshan) == []  # the upload and the half-written photo are gone


@pytest.mark.services
def test_storage_on_a_dead_port_gives_a_clear_message(config, world, topic):
    """The S3 endpoint stops answering (nothing listens on its port): asking to upload says so, and
    hands out no form pointing there nor a row left 'uploading' (tests/test_storage_outage.py: the rest)."""
    import dataclasses

    from sqlalchemy import func

    from shangliang import create_app
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.files.models import Attachment
    from support.procs import free_port

    from conftest import login

    dead = dataclasses.replace(config, s3={**config.s3, "endpoint_url": f"http://127.0.0.1:{free_port()}"})
    app = create_app(dead, check=False)
    app.config["TESTING"] = True
    client = app.test_client()
    login(client, "yanshan-staff")
    resp = request_form(client, "yanshan", "topic", topic.id, "a.pdf", 100)
    assert resp.status_code == 503 and resp.headers["Retry-After"].isdigit()  # signing needs no network: a probe does
    assert resp.get_json()["error"]["message"] == "存储服务暂时不可用，请稍后重试" and "form" not in resp.get_json()
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0
    app.extensions["engine"].dispose()


def test_a_check_delivered_twice_has_one_effect(request, app, world, staff, topic):
    from shangliang.core.jobs import _run_once
    from shangliang.files import tasks

    att_id = upload(staff, "yanshan", "topic", topic.id, samples.photo(), "现场.jpg")
    job = uuid.uuid4()
    with app.app_context():
        for _ in range(2):
            _run_once(tasks.check_attachment.actor_name, tasks.check_attachment.work, world.yanshan.id, job,
                      (att_id,))
    request.getfixturevalue("run_jobs")()  # the queued delivery too: a third time, still one effect
    att = row(app, world, att_id)
    assert att.status == "ready"
    assert sorted(objects(app, world.yanshan)) == sorted([att.key, att.thumb_key, att.web_key])


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("given,kept", [
    ("../../etc/passwd.jpg", "passwd.jpg"), ("C:\\Users\\me\\照片.jpg", "照片.jpg"), ("a\x00.php.jpg", "a.php.jpg"),
    ("photo\u202egpj.exe", "photogpj.exe"), ("  ..  ", "未命名文件"), ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),
    ("line\r\nbreak.pdf", "linebreak.pdf"),
])
def test_file_names_are_metadata_cleaned_of_paths_and_control_characters(given, kept):
    from shangliang.files.operations import clean_filename

    assert clean_filename(given) == kept
    assert len(clean_filename(given)) <= 200


# ---------------------------------------------------------------- the JSON API

@pytest.fixture
def api(app, world, topic):
    """燕山街道's staff member's own API token, as their WeChat mini-program would hold: it acts as them."""
    from shangliang.accounts.models import SCOPES, User
    from shangliang.accounts.tokens import create_personal_token
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    with app.app_context(), tenant_context(world.yanshan.id, world.users["yanshan-staff"].id):
        _row, secret = create_personal_token(db.get(Tenant, world.yanshan.id),
                                             db.get(User, world.users["yanshan-staff"].id), "小程序", SCOPES)
        db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_whole_flow_through_the_api(app, client, world, topic, api, run_jobs):
    base = "/api/v1/t/yanshan/files"
    data = samples.photo()
    resp = client.post(f"{base}/uploads", headers=api, json={
        "owner_kind": "topic", "owner_id": str(topic.id), "filename": "现场.jpg", "size": len(data)})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "uploading" and body["url"] is None and body["form"]["fields"]["key"]
    assert post_to_storage(client, body["form"], data, "现场.jpg") in (200, 201, 204)
    done = client.post(f"{base}/{body['id']}/complete", headers=api)
    assert done.status_code == 202 and done.get_json()["status"] == "checking"
    run_jobs()

    got = client.get(f"{base}/{body['id']}", headers=api).get_json()
    assert got["status"] == "ready" and got["kind"] == "photo" and got["width"] == 1000 and got["expires_in"] == 300
    assert got["url"] and got["thumb_url"] and got["web_url"] and got["taken_at"].startswith("2025-05-01T02:20:30")
    listed = client.get(f"{base}?owner_kind=topic&owner_id={topic.id}", headers=api).get_json()["items"]
    assert [a["id"] for a in listed] == [body["id"]]

    # recorded as evidence on the topic through the topic API
    topic_json = client.get(f"/api/v1/t/yanshan/topics/{topic.number}", headers=api).get_json()
    act = client.post(f"/api/v1/t/yanshan/topics/{topic.number}/actions", headers=api, json={
        "action": "attach", "version": topic_json["version"], "data": {"attachment_id": body["id"]}})
    assert act.status_code == 200, act.get_json()
    assert act.get_json()["events"][-1]["data"]["attachment_id"] == body["id"]

    gone = client.delete(f"{base}/{body['id']}", headers=api)
    assert gone.status_code == 200 and gone.get_json()["status"] == "deleted"
    run_jobs()
    assert client.get(f"{base}/{body['id']}", headers=api).status_code == 404
    assert objects(app, world.yanshan) == []


def test_api_refusals_name_the_field(app, client, world, topic, api):
    base = "/api/v1/t/yanshan/files"
    bad = client.post(f"{base}/uploads", headers=api, json={"owner_kind": "poster", "owner_id": "x", "size": 1})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"owner_kind", "owner_id"}
    missing = client.post(f"{base}/uploads", headers=api, json={"owner_kind": "topic", "owner_id": str(uuid.uuid4()),
                                                                "size": 10})
    assert missing.status_code == 404 and missing.get_json()["error"]["fields"] == {"owner_id": ["找不到要上传到的对象"]}
    big = client.post(f"{base}/uploads", headers=api, json={"owner_kind": "topic", "owner_id": str(topic.id),
                                                            "size": 21 * 1024 * 1024})
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"
    early = client.post(f"{base}/uploads", headers=api, json={"owner_kind": "topic", "owner_id": str(topic.id),
                                                              "size": 10}).get_json()
    not_there = client.post(f"{base}/{early['id']}/complete", headers=api)
    assert not_there.status_code == 422 and "还没有收到" in not_there.get_json()["error"]["message"]
    other = client.get(f"/api/v1/t/guangwumen/files/{early['id']}", headers=api)
    assert other.status_code == 404


def test_the_file_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"post"} <= set(doc["paths"]["/t/{slug}/files/uploads"])
    assert {"get", "delete"} <= set(doc["paths"]["/t/{slug}/files/{attachment_id}"])
    assert "post" in doc["paths"]["/t/{slug}/files/{attachment_id}/complete"]
    listing = doc["paths"]["/t/{slug}/files"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"owner_kind", "owner_id"}
    assert {"Attachment", "UploadRequest", "Upload"} <= set(doc["components"]["schemas"])


def test_the_installation_quota_comes_from_the_environment(tmp_path):
    from shangliang.config import ConfigError, from_env

    assert from_env({"SHANGLIANG_INSTANCE": str(tmp_path)}).storage_quota_mb == 2048
    assert from_env({"SHANGLIANG_INSTANCE": str(tmp_path), "STORAGE_QUOTA_MB": "512"}).storage_quota_mb == 512
    with pytest.raises(ConfigError, match="STORAGE_QUOTA_MB"):
        from_env({"SHANGLIANG_INSTANCE": str(tmp_path), "STORAGE_QUOTA_MB": "lots"})
