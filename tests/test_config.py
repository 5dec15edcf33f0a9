"""Start-up: the embedded default needs nothing; a wrong setting stops with one line naming it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shangliang.config import ConfigError, from_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_embedded_default_needs_no_settings(tmp_path):
    cfg = from_env({"SHANGLIANG_INSTANCE": str(tmp_path)})
    assert cfg.embedded and cfg.database_url == f"sqlite:///{tmp_path / 'shangliang.db'}"
    assert cfg.broker_url is None and cfg.s3 is None and not cfg.production
    assert len(cfg.secret_key) >= 32
    assert from_env({"SHANGLIANG_INSTANCE": str(tmp_path)}).secret_key == cfg.secret_key  # kept


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://x@127.0.0.1/z"}, "SECRET_KEY"),
    ({"DATABASE_URL": "postgresql://x@127.0.0.1/z", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"BROKER_URL": "http://127.0.0.1:6379"}, "BROKER_URL"),
    ({"S3_ENDPOINT_URL": "http://127.0.0.1:9000"}, "S3_BUCKET"),
    ({"S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k"}, "S3_ACCESS_KEY_ID"),
    ({"S3_BUCKET": "b", "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL"),
    ({"MAX_CONTENT_LENGTH": "lots"}, "MAX_CONTENT_LENGTH"),
    ({"SHANGLIANG_ENV": "staging"}, "SHANGLIANG_ENV"),
    ({"DATABASE_LISTEN_URL": "mysql://x@y/z"}, "DATABASE_LISTEN_URL"),
    ({"DATABASE_LISTEN_URL": "sqlite:///listen.db"}, "DATABASE_LISTEN_URL"),
    ({"PUBLIC_BASE_URL": "shangliang.example.gov.cn"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "ftp://shangliang.example.gov.cn"}, "PUBLIC_BASE_URL"),
    ({"PUBLIC_BASE_URL": "https://shangliang.example.gov.cn/?x=1"}, "PUBLIC_BASE_URL"),
])
def test_wrong_settings_name_the_variable(tmp_path, env, variable):
    with pytest.raises(ConfigError) as err:
        from_env({"SHANGLIANG_INSTANCE": str(tmp_path), **env})
    assert err.value.variable == variable
    assert str(err.value).startswith(f"{variable}: ")


def test_change_notices_are_listened_for_on_postgresql_only_and_where_told(tmp_path):
    """core/changes.py: LISTEN needs a session of its own, which a pooler in transaction mode does
    not give, so it may go to another address, or be turned off (every request then reads)."""
    base = {"SHANGLIANG_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 40}
    assert from_env(base).listen_url is None  # SQLite: one process, nothing kept
    pg = {**base, "DATABASE_URL": "postgres://app@db:6432/shangliang"}
    assert from_env(pg).listen_url == "postgresql://app@db:6432/shangliang"
    direct = {**pg, "DATABASE_LISTEN_URL": "postgresql://app@db:5432/shangliang"}
    assert from_env(direct).listen_url == "postgresql://app@db:5432/shangliang"
    assert from_env({**pg, "DATABASE_LISTEN_URL": "off"}).listen_url is None


def _run(args, env_extra, tmp_path, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BROKER_", "S3_"))}
    env.update({"SHANGLIANG_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 40, **env_extra})
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("variable, value", [
    ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing"),
    ("BROKER_URL", "redis://127.0.0.1:1/0"),
    ("BROKER_URL", "amqp://guest:guest@127.0.0.1:1/%2F"),
    ("S3_BUCKET", "missing"),
])
def test_unreachable_service_stops_start_up_with_one_line(tmp_path, variable, value):
    extra = {variable: value}
    if variable == "S3_BUCKET":
        extra["S3_ENDPOINT_URL"] = "http://127.0.0.1:1"
    result = _run([str(BIN / "shangliang"), "check"], extra, tmp_path)
    assert result.returncode == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"shangliang: configuration error: {variable}: ")
    assert "Traceback" not in result.stderr


def test_gunicorn_stops_on_a_bad_setting(tmp_path):
    result = _run([str(BIN / "gunicorn"), "-c", "infra/gunicorn.conf.py", "--bind", "127.0.0.1:0",
                   "shangliang.wsgi:app"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}, tmp_path)
    assert result.returncode == 2
    assert "shangliang: configuration error: DATABASE_URL: cannot connect" in result.stderr
    assert "Traceback" not in result.stderr


def test_healthz_reports_each_service(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "broker"}


def test_healthz_names_what_is_wrong_with_the_broker_without_its_password(app, client, monkeypatch):
    """Issue 16: an unreachable broker read 'error: ConfigError', which names nothing."""
    from support.procs import free_port

    closed = free_port()  # bound and released: nothing listens there
    monkeypatch.setattr(app.config["SHANGLIANG"], "broker_url", f"redis://:s3cret-pw@127.0.0.1:{closed}/0")
    resp = client.get("/healthz")
    assert resp.status_code == 503
    broker = resp.get_json()["checks"]["broker"]
    assert broker.startswith("error: cannot reach redis://127.0.0.1:") and f":{closed}/0" in broker, broker
    assert "connection refused" in broker.lower(), broker
    assert "s3cret" not in resp.get_data(as_text=True)


def test_healthz_names_the_storage_that_fails(app, client, monkeypatch):
    store = app.extensions["storage"]

    def broken():
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(store, "check", broken)
    storage = client.get("/healthz").get_json()["checks"]["storage"]
    assert storage.startswith("error: ") and store.describe() in storage and "Permission denied" in storage, storage


def test_session_idle_minutes_is_read_from_the_environment(tmp_path):
    assert from_env({"SHANGLIANG_INSTANCE": str(tmp_path)}).session_idle_minutes == 30
    assert from_env({"SHANGLIANG_INSTANCE": str(tmp_path), "SESSION_IDLE_MINUTES": "15"}).session_idle_minutes == 15
    for wrong in ("0", "half an hour"):
        with pytest.raises(ConfigError) as err:
            from_env({"SHANGLIANG_INSTANCE": str(tmp_path), "SESSION_IDLE_MINUTES": wrong})
        assert err.value.variable == "SESSION_IDLE_MINUTES"
