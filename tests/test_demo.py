"""`make demo`'s data step, as the command runs it: the five practices of the seeds, loaded once."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from datetime import date
from types import SimpleNamespace

import pytest

from conftest import SERVICES
from shangliang.topics.operations import replay

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]

# The history is generated up to a fixed day, so that the figures (and the twelve months they
# cover) are the same whatever day the suite runs: the generator is seeded by the street.
TODAY = date(2026, 6, 15)
pytestmark = pytest.mark.skipif(SERVICES, reason="the demo runs on the embedded default")


def shangliang(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BROKER_", "S3_"))}
    env["SHANGLIANG_INSTANCE"] = str(tmp_path)
    return subprocess.run([str(BIN / "shangliang"), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)


def test_demo_load_creates_the_seed_tenants_once_and_keeps_their_jobs(tmp_path):
    shangliang(tmp_path, "db", "upgrade")
    out = shangliang(tmp_path, "demo", "load", "--today", TODAY.isoformat()).stdout
    assert "14 tenants created" in out and "shangliang-demo" in out
    for login in ("operator", "lixia-admin", "yanshan-admin", "guangchuan-admin"):
        assert login in out
    db = sqlite3.connect(tmp_path / "shangliang.db")
    tenants = dict(db.execute("SELECT slug, kind FROM tenants"))
    assert tenants == {"platform": "platform", "lixia": "county", "chengguan": "county", "chongchuan": "county",
                       "yanggu": "county", "decheng": "county", "yanshan": "street", "guangwumen": "street",
                       "langshan": "street", "shizilou": "street", "guangchuan": "street", "jiefanglu": "street",
                       "qianfoshan": "street", "quanchenglu": "street", "yaojia": "street"}
    parents = dict(db.execute("SELECT s.slug, c.slug FROM tenants s JOIN tenants c ON s.parent_id = c.id"))
    assert parents == {"yanshan": "lixia", "guangwumen": "chengguan", "langshan": "chongchuan",
                       "shizilou": "yanggu", "guangchuan": "decheng", "jiefanglu": "lixia", "qianfoshan": "lixia",
                       "quanchenglu": "lixia", "yaojia": "lixia"}
    procedures = dict(db.execute("SELECT t.slug, p.template_key FROM procedure_versions p "
                                 "JOIN tenants t ON t.id = p.tenant_id"))
    assert procedures == {"yanshan": "qibu_dingdan", "guangwumen": "sanji_liangti_yizhuan",
                          "langshan": "sihuan_babu", "shizilou": "four_plus_x", "guangchuan": "tiyi_banping",
                          "jiefanglu": "four_plus_x", "qianfoshan": "sihuan_babu", "quanchenglu": "tiyi_banping",
                          "yaojia": "sanji_liangti_yizhuan"}
    # The command's jobs wait in the outbox for the server's worker: none was handed to a broker
    # that died with the command. (Welcomes: 15 administrators, 11 demo members, a grid worker and 4 department contacts
    # with a login.)
    assert db.execute("SELECT count(*), count(sent_at) FROM job_outbox").fetchone() == (31, 0)
    # 办理公示 is reviewed: the year's concluded topics were published, the last week's await review
    published, waiting = db.execute("SELECT count(published_at), sum(published_at IS NULL AND publication IS NULL) "
                                    "FROM topics WHERE status = 'closed' AND closed_as = 'done'").fetchone()
    assert published > 100 and waiting > 0
    # each 转交 of the history is a transfer to a department on the street's or its county's list
    assert db.execute("SELECT count(*) FROM topic_events WHERE action = 'transfer'").fetchone() == \
        db.execute("SELECT count(*) FROM topic_transfers").fetchone()
    roster = "SELECT (SELECT count(*) FROM roster_people), (SELECT count(*) FROM stations), " \
             "(SELECT count(*) FROM duty_shifts WHERE status = 'planned'), (SELECT count(*) FROM audit_log)"
    first = db.execute(roster).fetchone()
    assert first[:3] == (50, 13, 27)  # tenants/demo/roster.yaml: every street's roster, stations and week
    pairs = "SELECT p.name, g.community || g.grid FROM member_grid_pairs g JOIN roster_people p ON p.id = g.person_id"
    assert sorted(db.execute(pairs)) == [  # 燕山's 委员-网格员结对; 立功社区 6 网格 is left as a gap
        ("刘芳", "立功社区5 网格"), ("张建国", "燕子山社区1 网格"), ("张建国", "燕子山社区2 网格"),
        ("李明华", "燕子山社区3 网格"), ("李明华", "燕子山社区4 网格"), ("王秀兰", "立功社区5 网格"),
        ("赵文斌", "燕子山社区3 网格")]
    generated = db.execute(HISTORY).fetchone()
    check_history(db)
    db.close()
    again = shangliang(tmp_path, "demo", "load", "--today", TODAY.isoformat()).stdout
    assert "0 tenants created" in again
    db = sqlite3.connect(tmp_path / "shangliang.db")
    assert db.execute(roster).fetchone() == first  # loading again changes nothing
    assert db.execute("SELECT count(*) FROM member_grid_pairs").fetchone() == (7,)
    assert db.execute(HISTORY).fetchone() == generated  # …and the year of history is not made twice
    db.close()


HISTORY = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in (
    "topics", "topic_events", "meetings", "meeting_participants", "duty_shifts", "attachments", "benchmark_rollups"))
STREETS = ("yanshan", "guangwumen", "langshan", "shizilou", "guangchuan", "jiefanglu", "qianfoshan", "quanchenglu",
           "yaojia")


def twelve_months() -> list[str]:
    """The twelve whole months before TODAY's."""
    months = [(TODAY.year * 12 + TODAY.month - 1 - k) for k in range(12, 0, -1)]
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in months]


def check_history(db) -> None:
    """The county pages have figures to show: a year of topics per street, with ratings, rolled up
    for the streets and their counties; every log replays to its topic; streets differ."""
    rows = {(slug, period): (collected, rated, satisfied, due, on_time) for slug, period, collected, rated, satisfied,
            due, on_time in db.execute(
        "SELECT t.slug, r.period, r.collected, r.rated, r.rated_very_satisfied + r.rated_satisfied, r.response_due, "
        "r.responded_on_time FROM benchmark_rollups r JOIN tenants t ON t.id = r.tenant_id")}
    parents = dict(db.execute("SELECT s.slug, c.slug FROM tenants s JOIN tenants c ON s.parent_id = c.id"))
    months = twelve_months()
    for slug in STREETS:
        assert all(rows[(slug, m)][0] > 0 for m in months), f"{slug}: a month without topics"
        assert sum(rows[(slug, m)][1] > 0 for m in months) >= 10, f"{slug}: months without satisfaction figures"
    for county in set(parents.values()):  # each county's row sums its streets' (历下区 has five)
        for m in months:
            assert list(rows[(county, m)][:3]) == [sum(rows[(s, m)][i] for s in STREETS if parents[s] == county)
                                                   for i in range(3)]
    year = {slug: [sum(rows[(slug, m)][i] for m in months) for i in range(5)] for slug in STREETS}
    rate = {slug: (y[4] / y[3], y[2] / y[1]) for slug, y in year.items()}  # response, satisfaction
    assert rate["yanshan"][0] > rate["shizilou"][0] + 0.2 and rate["guangchuan"][1] > rate["shizilou"][1] + 0.05
    logs: dict = {}
    for topic_id, action, to_step in db.execute("SELECT topic_id, action, to_step FROM topic_events ORDER BY seq"):
        logs.setdefault(topic_id, []).append(SimpleNamespace(action=action, to_step=to_step))
    topics = db.execute("SELECT id, step_key, round, status, escalated FROM topics").fetchall()
    assert len(topics) > 1000
    for topic_id, step_key, rnd, status, escalated in topics:
        assert replay(logs[topic_id]) == {"step_key": step_key, "round": rnd, "status": status,
                                          "escalated": bool(escalated)}
    assert db.execute("SELECT count(*) FROM topic_counters c WHERE c.last != "
                      "(SELECT max(number) FROM topics t WHERE t.tenant_id = c.tenant_id)").fetchone() == (0,)
