"""gunicorn builds the app once, in the master, and forks its workers (infra/gunicorn.conf.py
preload_app): a forked process must never share a connection its parent opened."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from conftest import cli_env
from shangliang.core.storage import tenant_key

ROOT = Path(__file__).resolve().parents[1]


def _in_child(work) -> dict:
    """Runs `work` in a forked child; its JSON answer, or the child's error."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's exit handlers
        try:
            out = {"ok": work()}
        except BaseException as exc:  # noqa: BLE001 — reported to the parent, which asserts
            out = {"error": repr(exc)}
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = json.loads(pipe.read() or '{"error": "no answer"}')
    os.waitpid(pid, 0)
    return answer


def test_a_forked_process_opens_its_own_database_connection_and_storage_client(app):
    from shangliang.core.db import db

    engine = app.extensions["engine"]
    storage = app.extensions["storage"]
    postgres = engine.dialect.name == "postgresql"
    who = text("SELECT pg_backend_pid()") if postgres else text("SELECT 1")
    with app.app_context():
        parent_backend = db.scalar(who)  # the connection goes back to the pool, open
        db.remove()
    parent_client = id(getattr(storage, "client", None))
    parent_key, child_key = tenant_key(0, "photos", "txt"), tenant_key(0, "photos", "txt")
    storage.put(parent_key, b"parent")

    def child():
        with app.app_context():
            backend = db.scalar(who)
            db.remove()
        storage.put(child_key, b"child")
        return {"backend": backend, "client": id(getattr(storage, "client", None)),
                "read": storage.get(parent_key).decode()}

    got = _in_child(child)
    assert "error" not in got, got
    if postgres:
        assert got["ok"]["backend"] != parent_backend  # not the parent's pooled connection
        with app.app_context():  # and the parent's still works
            assert db.scalar(who) == parent_backend
            db.remove()
    if storage.backend == "s3":
        assert got["ok"]["client"] != parent_client
    assert got["ok"]["read"] == "parent" and storage.get(child_key) == b"child"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_the_production_conf_serves_from_forked_workers(config, app):
    """Two preloaded workers with two threads each answer concurrent health checks (database,
    storage and broker each used by every worker) with no error, and a recycled worker too."""
    port = _free_port()
    env = dict(os.environ, **cli_env(config), BIND=f"127.0.0.1:{port}", WEB_WORKERS="2", WEB_THREADS="2",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    env.pop("BROKER_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"),
                             "--max-requests", "40", "--max-requests-jitter", "0", "shangliang.wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.2)

        def check(_):
            with urllib.request.urlopen(url, timeout=30) as resp:
                return resp.status, json.loads(resp.read())["status"]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(check, range(200)))  # more than 2 × 40: workers are recycled
        assert answers == [(200, "ok")] * 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode()
    assert "Traceback" not in out, out[-3000:]
    assert out.count("Booting worker") > 2, out[-3000:]  # recycled workers were forked again


def test_the_app_starts_without_the_heavy_libraries_it_needs_rarely(tmp_path):
    """What every worker carries from start-up (gunicorn forks them from the app): pypinyin's
    dictionaries (some 55 MB, for suggesting a new street's 标识) and boto3 (only with S3
    configured) are loaded when first asked for, not with the app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BROKER_", "S3_"))}
    env["SHANGLIANG_INSTANCE"] = str(tmp_path)
    code = ("import sys; from shangliang import create_app; create_app(); "
            "print(sorted(m for m in ('pypinyin', 'boto3') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
