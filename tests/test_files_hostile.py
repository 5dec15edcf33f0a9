"""Hostile uploads: each file of the corpus is refused with a message saying what it is, or
neutralised (a photo is rewritten from its pixels, a name is only metadata). Then the check's
memory on a pixel bomb, and the check killed in the middle and run again."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import uuid
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from conftest import World, csrf_token, login
from support import samples
from support.procs import Proc, wait_for
from support.procs import app_env as _app_env
from support.files import empty_store, objects, row, stored, topic  # noqa: F401  (fixtures)
from support.uploads import post_to_storage, request_form, upload

SCRIPT = Path(__file__).resolve().parent / "support" / "files_worker.py"
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run in DOS mode"


def app_env(cfg, **extra) -> dict:
    """The worker's environment, with the test's object storage (moto in the services run)."""
    env = _app_env(cfg, **extra)
    if cfg.s3:
        env.update(S3_BUCKET=cfg.s3["bucket"], S3_ENDPOINT_URL=cfg.s3["endpoint_url"], S3_REGION=cfg.s3["region"],
                   S3_ACCESS_KEY_ID=cfg.s3["access_key"], S3_SECRET_ACCESS_KEY=cfg.s3["secret_key"])
    return env


def ready(check=None):
    return ("ready", check)


def refused(text):
    return ("refused", text)


def at_request(status, text):
    return ("request", status, text)


def no(*needles):
    """Ready, and none of these bytes survived in what is stored."""
    def check(att, data):
        assert all(n not in data for n in needles), needles
    return check


def real_type(content_type, ext):
    def check(att, data):
        from shangliang.files.operations import download_name

        assert att.content_type == content_type and att.key.endswith("." + ext), (att.content_type, att.key)
        assert download_name(att).endswith("." + ext)
    return check


def named(name):
    def check(att, data):
        assert att.filename == name and att.key.startswith(f"tenants/{att.tenant_id}/files/"), (att.filename, att.key)
    return check


JPEG = samples.photo(size=(400, 300), orientation=1)
CORPUS = [  # (id, file name, bytes, expected)
    ("png-renamed-pdf", "报告.pdf", samples.png(), ready(real_type("image/png", "png"))),
    ("jpeg-renamed-png", "a.png", JPEG, ready(real_type("image/jpeg", "jpg"))),
    ("exe-renamed-jpg", "photo.jpg", MZ, refused("内容是Windows 可执行程序")),
    ("elf-renamed-jpg", "photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, refused("内容是Linux 可执行程序")),
    ("macho-renamed-png", "a.png", b"\xcf\xfa\xed\xfe" + b"\x00" * 60, refused("macOS 可执行程序")),
    ("shell-script", "run.jpg", b"#!/bin/sh\nrm -rf /\n", refused("内容是脚本")),
    ("gif-js-polyglot", "x.jpg", b"GIF89a/*\x01\x00\x01\x00\x00\xff\x00,*/=alert(1);//" + b"\x00" * 20,
     refused("内容是GIF 图片")),
    ("jpeg-with-appended-zip", "a.jpg", JPEG + samples.zip_plain(), ready(no(b"PK\x03\x04", b"run.exe"))),
    ("jpeg-with-appended-php", "a.jpg", JPEG + b"<?php system($_GET['c']); ?>", ready(no(b"<?php"))),
    ("jpeg-html-polyglot", "a.jpg", JPEG + b"<html><script>alert(1)</script></html>", ready(no(b"<script"))),
    ("png-with-appended-html", "a.png", samples.png() + b"<script>alert(1)</script>", ready(no(b"<script"))),
    ("svg-with-script", "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     refused("SVG 图片（可能含脚本）")),
    ("svg-with-xml-header", "logo.png", b'<?xml version="1.0"?>\n<svg><script>alert(1)</script></svg>',
     refused("SVG 图片")),
    ("html", "page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", refused("网页（HTML）")),
    ("html-after-bom", "page.jpg", b"\xef\xbb\xbf  <html><body onload=alert(1)>", refused("网页（HTML）")),
    ("php-script", "shell.jpg", b"<?php eval($_POST['x']); ?>", refused("PHP 脚本")),
    ("php-jpg-name", "shell.php.jpg", JPEG, ready(named("shell.php.jpg"))),
    ("dotdot-name", "../../../etc/passwd.jpg", JPEG, ready(named("passwd.jpg"))),
    ("null-byte-name", "evil.php\x00.jpg", JPEG, ready(named("evil.php.jpg"))),
    ("rtl-override-name", "photo\u202egpj.exe", JPEG, ready(named("photogpj.exe"))),
    ("windows-path-name", "C:\\fakepath\\现场.jpg", JPEG, ready(named("现场.jpg"))),
    ("pixel-bomb-png-20000", "bomb.png", samples.png_header_only(20_000, 20_000), refused("疑似解压炸弹")),
    ("pixel-bomb-png-8000", "bomb.png", samples.png_header_only(8_000, 8_000), refused("图片尺寸 8000×8000")),
    ("pixel-bomb-jpeg", "bomb.jpg", samples.jpeg_claiming(60_000, 60_000), refused("疑似解压炸弹")),
    ("truncated-jpeg", "half.jpg", JPEG[: len(JPEG) // 2], refused("图片已损坏或不完整")),
    ("jpeg-header-only", "head.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", refused("图片已损坏")),
    ("empty-file", "empty.jpg", b"", at_request(422, "文件是空的")),
    ("over-the-limit", "big.pdf", None, at_request(413, "单个文件不能超过 20.0 MB")),
    ("zip-bomb-docx", "report.docx", samples.zip_bomb_docx(), refused("超过上限 200.0 MB，疑似压缩炸弹")),
    ("ratio-bomb-docx", "report.docx", samples.ratio_bomb_docx(), refused("异常，疑似压缩炸弹")),
    ("macro-docm", "invoice.docx", samples.docx(main=samples.DOCM_MAIN, extra={"word/vbaProject.bin": MZ}),
     refused("含有宏的 Office 文件（.docm）")),
    ("vba-in-docx", "invoice.docx", samples.docx(extra={"word/vbaProject.bin": b"\x00" * 100}),
     refused("含有宏的 Office 文件")),
    ("docx-with-foreign-file", "report.docx", samples.docx(extra={"payload.exe": MZ}), refused("不属于 docx 文档的内容")),
    ("docx-with-ole-object", "report.docx", samples.docx(extra={"word/embeddings/oleObject1.bin": MZ}),
     refused("嵌入的程序对象")),
    ("plain-zip-as-docx", "report.docx", samples.zip_plain(), refused("这是 ZIP 压缩包")),
    ("encrypted-zip", "report.docx", samples.encrypted_zip(samples.docx()), refused("已加密")),
    ("broken-zip", "report.docx", b"PK\x03\x04" + b"\x00" * 100, refused("压缩文件已损坏")),
    ("encrypted-pdf", "scan.pdf", samples.pdf("/Encrypt 3 0 R"), refused("PDF 已加密")),
    ("pdf-with-javascript", "scan.pdf", samples.pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
     refused("PDF 含有脚本")),
    ("pdf-with-escaped-javascript", "scan.pdf", samples.pdf("/OpenAction << /S /J#61vaScript >>"),
     refused("PDF 含有脚本")),
    ("pdf-launching-a-program", "scan.pdf", samples.pdf("/OpenAction << /S /Launch /F (cmd.exe) >>"),
     refused("启动程序的动作")),
    ("truncated-pdf", "scan.pdf", samples.pdf(end=False), refused("PDF 文件不完整")),
    # PDF 1.5+ packs dictionaries into compressed object streams: an action may be visible nowhere else
    ("pdf-javascript-in-object-stream", "scan.pdf",
     samples.pdf_streams(samples.object_stream("<< /S /JavaScript /JS (app.alert(1)) >>")), refused("PDF 含有脚本")),
    ("pdf-launch-in-untyped-object-stream", "scan.pdf",
     samples.pdf_streams(samples.object_stream("<< /S /L#61unch /F (cmd.exe) >>", typed=False)),
     refused("启动程序的动作")),
    ("pdf-object-stream-in-hex", "scan.pdf", samples.pdf_streams(samples.object_stream(
        "<< /S /JavaScript /JS (app.alert(1)) >>", filters="[/ASCIIHexDecode /FlateDecode]",
        encode=lambda b: zlib.compress(b).hex().encode())), refused("对象流采用了无法检查的编码（ASCIIHexDecode、FlateDecode）")),
    ("pdf-broken-object-stream", "scan.pdf",
     samples.pdf_streams(samples.object_stream("<< >>", encode=lambda b: b"x\x9c" + bytes(range(256)))),
     refused("PDF 的对象流已损坏")),
    ("pdf-object-stream-bomb", "scan.pdf", samples.pdf_object_stream_bomb(), refused("超过上限 200.0 MB，疑似压缩炸弹")),
    # Outside stream data, every name counts, however it is written or wherever it hides
    ("pdf-with-escaped-js", "scan.pdf", samples.pdf("/AA << /O << /J#53 (app.alert(1)) >> >>"),
     refused("PDF 含有脚本（/JS）")),
    ("pdf-javascript-after-an-image", "scan.pdf", samples.pdf_streams(
        (samples.IMAGE, samples.scan_data(64 * 1024)),
        after="11 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"),
     refused("PDF 含有脚本")),
    ("pdf-stream-keyword-in-a-string", "scan.pdf", samples.pdf(  # no stream starts in a string or a comment
        "/Title (>>stream\n) /OpenAction << /S /JavaScript /JS (app.alert(1)) >> /Subject (endstream)"),
     refused("PDF 含有脚本")),
    ("pdf-stream-keyword-in-a-comment", "scan.pdf", samples.pdf(
        "% >>stream\n/OpenAction << /S /Launch /F (cmd.exe) >> % endstream\n"), refused("启动程序的动作")),
    ("pdf-object-inside-stream-data", "scan.pdf", samples.pdf_streams(  # where the xref table may send a reader
        (samples.IMAGE, b"\xff\xd8 9 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj \xff\xd9")),
     refused("PDF 含有脚本")),
    ("pdf-object-stream-type-out-of-sight", "scan.pdf", samples.pdf_streams(  # padded past where the check reads
        ("/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode /Pad (" + "x" * 70_000 + ")",
         zlib.compress(b"10 0 << /S /JavaScript /JS (app.alert(1)) >>"))), refused("对象字典过大")),
    ("legacy-doc", "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, refused("旧版 Office 文件")),
    ("text-file", "notes.jpg", "这是一段文字。".encode(), refused("内容是纯文本")),
    ("video-as-jpg", "clip.jpg", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", refused("内容是视频")),
    ("bmp", "pic.bmp", b"BM" + b"\x00" * 60, refused("内容是BMP 图片")),
    ("rar", "a.jpg", b"Rar!\x1a\x07\x00" + b"\x00" * 30, refused("RAR 压缩包")),
    ("random-bytes", "a.bin", bytes(range(256)) * 4, refused("无法识别的格式")),
    # what should pass, passes
    ("docx", "纪要.docx", samples.docx(), ready(real_type(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"))),
    ("xlsx", "清单.xlsx", samples.xlsx(), ready(real_type(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"))),
    ("pdf", "纪要.pdf", samples.pdf(), ready(real_type("application/pdf", "pdf"))),
    ("pdf-with-object-streams", "纪要.pdf", samples.pdf_streams(  # a harmless action; page text is only text
        samples.object_stream("<< /S /GoTo /D [0 /Fit] >>"),
        ("/Filter /FlateDecode", zlib.compress(b"BT (/JS) Tj ET"))), ready(real_type("application/pdf", "pdf"))),
    # a scan: image data is data, whatever names turn up in it by chance
    ("pdf-scanned-image", "扫描件.pdf", samples.pdf_streams((samples.IMAGE, samples.scan_data(256 * 1024))),
     ready(real_type("application/pdf", "pdf"))),
    ("pdf-names-that-only-begin-like-actions", "纪要.pdf", samples.pdf("/JSX 1 /JSomething 2 /Launcher 3 /JavaScripts 4"),
     ready(real_type("application/pdf", "pdf"))),
]


def test_the_corpus_is_large_enough():
    assert len([c for c in CORPUS if c[3][0] != "ready" or c[3][1] is not None]) >= 30
    assert len({c[0] for c in CORPUS}) == len(CORPUS)


def test_every_hostile_file_is_refused_with_its_message_or_neutralised(app, world, as_user, topic,  # noqa: F811
                                                                     run_jobs):
    from shangliang.files.operations import MAX_FILE

    staff = as_user("yanshan-staff")
    token = csrf_token(staff)
    sent, problems = {}, []
    for name, filename, data, expected in CORPUS:
        size = MAX_FILE + 1 if data is None else len(data)
        resp = request_form(staff, "yanshan", "topic", topic.id, filename, size, token)
        if expected[0] == "request":
            message = (resp.get_json() or {}).get("error", {}).get("message", "")
            if resp.status_code != expected[1] or expected[2] not in message:
                problems.append(f"{name}: request answered {resp.status_code} {message!r}")
            continue
        if resp.status_code != 201:
            problems.append(f"{name}: request refused {resp.status_code} {resp.get_data(as_text=True)[:200]}")
            continue
        body = resp.get_json()
        status = post_to_storage(staff, body["form"], data, filename)
        done = staff.post(body["complete_url"], headers={"X-CSRFToken": token})
        if status not in (200, 201, 204) or done.status_code != 202:
            problems.append(f"{name}: storage {status}, complete {done.status_code}")
            continue
        sent[name] = body["id"]
    run_jobs()

    keys = set()
    for name, _filename, _data, expected in CORPUS:
        if name not in sent:
            continue
        att = row(app, world, sent[name])
        if expected[0] == "refused":
            if att.status != "refused" or expected[1] not in (att.error or ""):
                problems.append(f"{name}: {att.status} {att.error!r}, expected refusal naming {expected[1]!r}")
            if staff.get(f"/t/yanshan/files/{att.id}").status_code != 404:
                problems.append(f"{name}: a refused file is served")
            continue
        if att.status != "ready":
            problems.append(f"{name}: {att.status} {att.error!r}, expected ready")
            continue
        keys.update(k for k in (att.key, att.thumb_key, att.web_key) if k)
        if expected[1]:
            try:
                expected[1](att, stored(app, att.key))
            except AssertionError as exc:
                problems.append(f"{name}: {exc}")
    assert not problems, "\n".join(problems)
    # refused files are deleted; uploads of accepted ones too (what is served was written by the check)
    assert set(objects(app, world.yanshan)) == keys


# ---------------------------------------------------------------- memory

def test_a_bomb_in_a_pdf_object_stream_is_refused_a_chunk_at_a_time(tmp_path):
    """256 MB of zeros deflated into an object stream: inflated a megabyte at a time up to the
    200 MB limit, then refused; never held."""
    import tracemalloc

    from shangliang.files import content

    path = tmp_path / "bomb.pdf"
    path.write_bytes(samples.pdf_object_stream_bomb())
    with open(path, "rb") as fh:
        tracemalloc.start()
        try:
            with pytest.raises(content.Refusal, match="疑似压缩炸弹"):
                content.check_pdf(fh, path.stat().st_size)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # Inflating it whole would hold 256 MB; a chunk at a time holds a few MB (the bound leaves room
    # for what other threads of the test process, moto's server among them, allocate meanwhile).
    assert peak < 32 * 1024 * 1024, peak


@pytest.mark.parametrize("entry, refused_", [
    ("/JS (app.alert(1))", True), ("/JS(app.alert(1))", True), ("/JS<< /A 1 >>", True), ("/JS[1]", True),
    ("/J#53 (x)", True), ("/#4A#53 (x)", True), ("/JS", True),  # and, last in the dictionary, `/JS>>`
    ("/JSX (x)", False), ("/JSomething (x)", False), ("/JS.x (x)", False), ("/XJS (x)", False),
])
def test_only_a_whole_name_is_an_action(tmp_path, entry, refused_):
    from shangliang.files import content

    path = tmp_path / "a.pdf"
    path.write_bytes(samples.pdf("/AA << /O << " + entry + ">> >>"))
    with open(path, "rb") as fh:
        if refused_:
            with pytest.raises(content.Refusal, match="脚本（/JS）"):
                content.check_pdf(fh, path.stat().st_size)
        else:
            content.check_pdf(fh, path.stat().st_size)


def test_a_big_scan_passes_and_is_read_in_place(tmp_path):
    """16 MB of image data with action names in it by chance: passed over, not read into memory."""
    import tracemalloc

    from shangliang.files import content

    path = tmp_path / "scan.pdf"
    path.write_bytes(samples.pdf_streams(*[(samples.IMAGE, samples.scan_data(4 * 1024 * 1024, seed=n))
                                           for n in range(4)]))
    with open(path, "rb") as fh:
        tracemalloc.start()
        try:
            content.check_pdf(fh, path.stat().st_size)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 3 * 1024 * 1024, peak  # reading any one image's data would hold 4 MB


def measure(cfg, tenant_id: int, attachment_id: str) -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), "measure", str(tenant_id), attachment_id],
                         env=app_env(cfg), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_checking_a_pixel_bomb_takes_no_memory_to_speak_of(app, config, world, as_user, topic):  # noqa: F811
    """A 20,000 × 20,000 PNG (400 megapixels, 1.2 GB decoded as RGB) in a few hundred bytes is
    refused from its header; a real 12-megapixel photo, decoded, is measured for comparison."""
    staff = as_user("yanshan-staff")
    bomb = upload(staff, "yanshan", "topic", topic.id, samples.png_header_only(20_000, 20_000), "bomb.png")
    real = upload(staff, "yanshan", "topic", topic.id, samples.photo(size=(4000, 3000), orientation=1), "12mp.jpg")
    bomb_run, real_run = measure(config, world.yanshan.id, bomb), measure(config, world.yanshan.id, real)
    assert bomb_run["status"] == "refused" and "疑似解压炸弹" in bomb_run["error"]
    assert real_run["status"] == "ready", real_run
    grew_kb = bomb_run["peak_kb"] - bomb_run["before_kb"]
    print(f"\npeak memory growth while checking: pixel bomb {grew_kb / 1024:.1f} MB, "
          f"12-megapixel photo {(real_run['peak_kb'] - real_run['before_kb']) / 1024:.1f} MB")
    assert grew_kb < 32 * 1024  # decoding it would take 400 MB at the least
    assert real_run["peak_kb"] - real_run["before_kb"] > grew_kb  # the measure does see decoding


# ---------------------------------------------------------------- killed in the middle

def _pending_check_job(app, attachment_id: str) -> uuid.UUID:
    from shangliang.core.jobs import OutboxMessage
    from shangliang.core.db import db

    with app.app_context():
        rows = db.scalars(select(OutboxMessage).where(OutboxMessage.actor == "files.tasks.check_attachment"))
        [job_id] = [m.id for m in rows if m.args == [attachment_id]]
        return job_id


def _lease_runs_out(app, job_id) -> None:
    from shangliang.core.db import db, utcnow
    from shangliang.core.jobs import OutboxMessage

    with app.app_context():
        db.execute(update(OutboxMessage).where(OutboxMessage.id == job_id, OutboxMessage.runner.is_not(None))
                   .values(lease_until=utcnow() - timedelta(seconds=1)))
        db.commit()


def _job_runs(app, tenant, job_id):
    from shangliang.core.db import db
    from shangliang.core.jobs import JobRun
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(tenant.id):
        return db.scalars(select(JobRun).where(JobRun.job_id == job_id)).all()


def _send_waiting_jobs(app):
    """Jobs the killed or finished process left in the outbox (its own broker died with it)."""
    from shangliang.core import jobs
    from shangliang.core.db import db
    from shangliang.core.jobs import OutboxMessage

    with app.app_context():
        ids = list(db.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))))
        jobs.relay(ids)


def test_a_check_killed_mid_photo_is_done_exactly_once_when_run_again(app, config, world, as_user, topic,  # noqa: F811
                                                                     run_jobs, tmp_path):
    staff = as_user("yanshan-staff")
    resp = request_form(staff, "yanshan", "topic", topic.id, "现场.jpg", len(samples.photo()))
    body = resp.get_json()
    post_to_storage(staff, body["form"], samples.photo(), "现场.jpg")
    # Completing enqueues the check; this test delivers it by hand, in processes it can kill.
    from shangliang.core import jobs

    real_relay = jobs.relay
    jobs.relay = lambda ids=None, **kw: 0  # keep the job from the test's own worker
    try:
        assert staff.post(body["complete_url"], headers={"X-CSRFToken": csrf_token(staff)}).status_code == 202
    finally:
        jobs.relay = real_relay
    att_id, job_id = body["id"], _pending_check_job(app, body["id"])
    hold = tmp_path / "hold-dir"
    hold.mkdir()
    (hold / "hold").touch()

    env = app_env(config, HOLD_DIR=str(hold))
    first = Proc([sys.executable, str(SCRIPT), "run", str(world.yanshan.id), str(job_id), att_id], env,
                 tmp_path / "first.log")
    try:
        wait_for(lambda: list(hold.glob("started-*")), timeout=60, what="the check to write the photo",
                 details=first.tail)
        first.sigkill()  # the photo is in storage, its thumbnail is not, nothing is committed
    finally:
        first.stop()
    att = row(app, world, att_id)
    assert att.status == "checking" and _job_runs(app, world.yanshan, job_id) == []
    assert len(objects(app, world.yanshan)) == 2  # the upload, and the photo written before the kill
    _lease_runs_out(app, job_id)  # what the dead worker held, as a heartbeat timeout later (core/leases.py)

    (hold / "hold").unlink()
    second = subprocess.run([sys.executable, str(SCRIPT), "run", str(world.yanshan.id), str(job_id), att_id],
                            env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr[-3000:]
    again = subprocess.run([sys.executable, str(SCRIPT), "run", str(world.yanshan.id), str(job_id), att_id],
                           env=env, capture_output=True, text=True, timeout=120)  # delivered once more
    assert again.returncode == 0, again.stderr[-3000:]
    _send_waiting_jobs(app)
    run_jobs()

    att = row(app, world, att_id)
    assert att.status == "ready" and len(_job_runs(app, world.yanshan, job_id)) == 1
    assert sorted(objects(app, world.yanshan)) == sorted([att.key, att.thumb_key, att.web_key])  # one set, no leftovers


@pytest.mark.services
def test_a_worker_killed_mid_photo_loses_nothing_and_the_next_worker_does_it_once(config, tmp_path):
    """The same with real workers on Redis: the killed worker's message comes back after its
    heartbeat times out (2 s here) and the next worker processes the photo once."""
    from shangliang import create_app
    from shangliang.core.db import Session

    suffix = uuid.uuid4().hex[:8]
    cfg = dataclasses.replace(config, broker_heartbeat_ms=2_000, jobs_queue=f"files-kill-{suffix}",
                              broker_namespace=f"shangliang-test-files-{suffix}")
    app = create_app(cfg)
    app.config["TESTING"] = True
    store = app.extensions["storage"]
    for key in list(store.list_keys("tenants/")):
        store.delete(key)
    with app.app_context():
        world = World()
        from shangliang.core.db import db
        from shangliang.core.tenancy import tenant_context
        from shangliang.procedures.operations import publish
        from shangliang.topics.operations import create_topic
        from support.procedures import SMALL

        with tenant_context(world.yanshan.id):
            publish(world.yanshan, None, SMALL)
            t = create_topic(world.yanshan, None, {"title": "楼道灯坏了", "channel": "wechat"})
            db.commit()
            topic_id = t.id
    hold = tmp_path / "hold-dir"
    hold.mkdir()
    (hold / "hold").touch()
    procs = []
    try:
        first = Proc([sys.executable, str(SCRIPT), "worker"], app_env(cfg, HOLD_DIR=str(hold)), tmp_path / "w1.log")
        procs.append(first)
        first.wait_output("worker ready", timeout=30)
        client = app.test_client()
        login(client, "yanshan-staff")
        att_id = upload(client, "yanshan", "topic", topic_id, samples.photo(), "现场.jpg")
        wait_for(lambda: list(hold.glob("started-*")), timeout=30, what="the worker to write the photo",
                 details=first.tail)
        first.sigkill()
        assert row(app, world, att_id).status == "checking"

        (hold / "hold").unlink()
        second = Proc([sys.executable, str(SCRIPT), "worker"], app_env(cfg, HOLD_DIR=str(hold)), tmp_path / "w2.log")
        procs.append(second)
        second.wait_output("worker ready", timeout=30)
        wait_for(lambda: row(app, world, att_id).status == "ready", timeout=60,
                 what="the killed worker's check to run again", details=second.tail)
        att = row(app, world, att_id)
        wait_for(lambda: sorted(objects(app, world.yanshan)) == sorted([att.key, att.thumb_key, att.web_key]),
                 timeout=30, what="the upload to be removed", details=second.tail)
        second.stop()
        starts = sorted(p.name.split("-")[1] for p in hold.glob("started-*"))
        assert starts == sorted([str(first.pid), str(second.pid)])  # ran in both workers, one effect:
        assert len(_job_runs(app, world.yanshan, _pending_check_job(app, att_id))) == 1
    finally:
        for p in procs:
            p.stop()
        Session.remove()
        from support.brokers import remove_queues
        from shangliang.core import jobs

        remove_queues(jobs.broker(), cfg.jobs_queue)
        app.extensions["engine"].dispose()
