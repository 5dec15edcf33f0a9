"""`make demo`'s data step, as the command runs it: the five practices of the seeds, loaded once."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SERVICES

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(SERVICES, reason="the demo runs on the embedded default")


def shangliang(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BROKER_", "S3_"))}
    env["SHANGLIANG_INSTANCE"] = str(tmp_path)
    return subprocess.run([str(BIN / "shangliang"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)


def test_demo_load_creates_the_seed_tenants_once_and_keeps_their_jobs(tmp_path):
    shangliang(tmp_path, "db", "upgrade")
    out = shangliang(tmp_path, "demo", "load").stdout
    assert "10 tenants created" in out and "shangliang-demo" in out
    for login in ("operator", "lixia-admin", "yanshan-admin", "guangchuan-admin"):
        assert login in out
    db = sqlite3.connect(tmp_path / "shangliang.db")
    tenants = dict(db.execute("SELECT slug, kind FROM tenants"))
    assert tenants == {"platform": "platform", "lixia": "county", "chengguan": "county", "chongchuan": "county",
                       "yanggu": "county", "decheng": "county", "yanshan": "street", "guangwumen": "street",
                       "langshan": "street", "shizilou": "street", "guangchuan": "street"}
    parents = dict(db.execute("SELECT s.slug, c.slug FROM tenants s JOIN tenants c ON s.parent_id = c.id"))
    assert parents == {"yanshan": "lixia", "guangwumen": "chengguan", "langshan": "chongchuan",
                       "shizilou": "yanggu", "guangchuan": "decheng"}
    procedures = dict(db.execute("SELECT t.slug, p.template_key FROM procedure_versions p "
                                 "JOIN tenants t ON t.id = p.tenant_id"))
    assert procedures == {"yanshan": "qibu_dingdan", "guangwumen": "sanji_liangti_yizhuan",
                          "langshan": "sihuan_babu", "shizilou": "four_plus_x", "guangchuan": "tiyi_banping"}
    # The command's jobs wait in the outbox for the server's worker: none was handed to a broker
    # that died with the command. (Welcomes: 11 administrators, 7 demo members with a login.)
    assert db.execute("SELECT count(*), count(sent_at) FROM job_outbox").fetchone() == (18, 0)
    roster = "SELECT (SELECT count(*) FROM roster_people), (SELECT count(*) FROM stations), " \
             "(SELECT count(*) FROM duty_shifts), (SELECT count(*) FROM audit_log)"
    first = db.execute(roster).fetchone()
    assert first[:3] == (38, 9, 19)  # tenants/demo/roster.yaml: every street's roster, stations and week
    db.close()
    again = shangliang(tmp_path, "demo", "load").stdout
    assert "0 tenants created" in again
    db = sqlite3.connect(tmp_path / "shangliang.db")
    assert db.execute(roster).fetchone() == first  # loading again changes nothing
    db.close()
