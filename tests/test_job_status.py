"""Jobs' true status (issue 16): a job delivered twice at once runs once and changes no status the
second time; a retry resumes; a job whose worker died is taken up again once its lease runs out,
and a stale 'running' blocks nothing; one copy of each periodic job per period whatever the number
of workers; a killed export's temporary files are removed.

Deterministic: a second delivery is run at a chosen point inside the first (a thread joined there),
a dead worker is a delivery whose heartbeat never comes, and time is a clock the test moves.
Real worker processes killed with SIGKILL are in test_brokers.py.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from conftest import csrf_token
from shangliang.core import jobs, leases, scratch
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import OutboxMessage
from shangliang.core.storage import tenant_prefix
from shangliang.core.tenancy import tenant_context
from shangliang.roster import imports
from shangliang.roster.tasks import import_roster
from shangliang.transfer import export
from shangliang.transfer.models import TenantExport
from shangliang.transfer.tasks import export_tenant
from support.clock import Clock
from support.procs import TESTS, app_env
from support.queries import job_runs, outbox
from test_roster import GOOD, HEADER, csv_bytes, people, street, the_import, upload  # noqa: F401 (fixture)
from test_transfer import PAGE, empty_store, yanshan  # noqa: F401 (fixtures)


def job_of(app, actor) -> OutboxMessage:
    with app.app_context():
        [row] = db.scalars(select(OutboxMessage).where(OutboxMessage.actor == actor.actor_name)
                           .order_by(OutboxMessage.created_at.desc()).limit(1))
        return row


def in_thread(fn):
    """Run `fn` in a thread of its own (its own session, as a worker thread has) and wait for it."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive(), "a delivery hung"
    return out


def exports_of(app, tenant_id) -> list[TenantExport]:
    with app.app_context(), tenant_context(tenant_id):
        rows = list(db.scalars(select(TenantExport).order_by(TenantExport.created_at)))
        db.expunge_all()
        return rows


def zips(app, tenant_id) -> list[str]:
    return sorted(app.extensions["storage"].list_keys(tenant_prefix(tenant_id) + "exports/"))


@pytest.fixture
def clock(monkeypatch):
    """The time leases and periodic rounds are read by, moved by the test."""
    c = Clock(utcnow())
    monkeypatch.setattr(leases, "utcnow", c)
    monkeypatch.setattr(jobs, "utcnow", c)
    return c


# ---------------------------------------------------------------- delivered twice

def test_an_import_delivered_twice_at_once_runs_once_and_ends_done(app, as_user, street, monkeypatch):  # noqa: F811
    upload(as_user("yanshan-admin"), "名册.csv", csv_bytes([HEADER, *GOOD]))
    row, job = the_import(app, street), job_of(app, import_roster)
    deliver = lambda: import_roster.fn(street.id, str(job.id), str(row.id))  # noqa: E731
    seen = {}
    real = imports.drop_pairs

    def second_delivery_meanwhile(s, ids):
        """The first delivery has read which people exist and is about to write them: the broker
        hands the same message to another worker, which runs it to its end."""
        if "second" not in seen:
            seen["second"] = in_thread(deliver)
            seen["during"] = in_thread(lambda: the_import(app, street))["value"]
        return real(s, ids)

    monkeypatch.setattr(imports, "drop_pairs", second_delivery_meanwhile)
    first = in_thread(deliver)

    assert "error" not in first and "error" not in seen["second"], (first, seen["second"])
    during = seen["during"]
    assert (during.status, during.created_count, during.done_rows) == ("running", 0, 0)  # the second changed nothing
    after = the_import(app, street)
    assert (after.status, after.error) == ("done", None)
    assert (after.created_count, after.updated_count, after.unchanged_count, after.done_rows) == (4, 0, 0, 4)
    assert len(people(app, street)) == 4
    assert len(job_runs(app, street, job.id)) == 1


def test_an_export_delivered_twice_at_once_makes_one_zip(app, as_user, yanshan, monkeypatch):  # noqa: F811
    client = as_user("yanshan-admin")
    assert client.post(PAGE, data={"csrf_token": csrf_token(client)}).status_code == 302
    [row], job = exports_of(app, yanshan.id), job_of(app, export_tenant)
    deliver = lambda: export_tenant.fn(yanshan.id, str(job.id), str(row.id))  # noqa: E731
    seen = {}
    real = export.write_export

    def second_delivery_meanwhile(tenant_id, path, progress=None):
        if "second" not in seen:
            seen["second"] = in_thread(deliver)
            seen["during"] = in_thread(lambda: exports_of(app, yanshan.id))["value"]
        return real(tenant_id, path, progress)

    monkeypatch.setattr(export, "write_export", second_delivery_meanwhile)
    first = in_thread(deliver)

    assert "error" not in first and "error" not in seen["second"], (first, seen["second"])
    assert [r.status for r in seen["during"]] == ["running"]  # the second delivery changed nothing
    [after] = exports_of(app, yanshan.id)
    assert after.status == "done" and after.error is None
    assert zips(app, yanshan.id) == [after.key]  # one zip, the one the row names
    assert len(job_runs(app, yanshan, job.id)) == 1


# ---------------------------------------------------------------- retried after a failure

def test_an_import_retried_after_a_failure_resumes_and_counts_what_it_did(app, as_user, street,  # noqa: F811
                                                                          monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 2)
    upload(as_user("yanshan-admin"), "名册.csv", csv_bytes([HEADER, *GOOD]))
    row, job = the_import(app, street), job_of(app, import_roster)
    deliver = lambda: import_roster.fn(street.id, str(job.id), str(row.id))  # noqa: E731
    real, calls = imports._upsert_in, []

    def second_batch_fails_once(s, tenant_id, checked, counts):
        calls.append(len(checked))
        if len(calls) == 2:
            raise OperationalError("INSERT INTO roster_people …", {}, ConnectionError("server closed the connection"))
        return real(s, tenant_id, checked, counts)

    monkeypatch.setattr(imports, "_upsert_in", second_batch_fails_once)
    failed = in_thread(deliver)
    assert isinstance(failed.get("error"), OperationalError)
    row = the_import(app, street)
    assert row.status == "failed" and "OperationalError" in row.error
    assert (row.done_rows, row.created_count) == (2, 2)  # the first batch, with its people
    assert len(people(app, street)) == 2

    retried = in_thread(deliver)  # dramatiq's retry: the same message again
    assert "error" not in retried, retried
    row = the_import(app, street)
    assert (row.status, row.error) == ("done", None)
    assert (row.created_count, row.updated_count, row.unchanged_count, row.done_rows) == (4, 0, 0, 4)
    assert calls == [2, 2, 2]  # the retry wrote the second batch only
    assert len(people(app, street)) == 4
    assert len(job_runs(app, street, job.id)) == 1


# ---------------------------------------------------------------- a worker dies

def test_an_export_whose_worker_died_blocks_nothing_and_is_taken_up_again(app, as_user, yanshan, clock,  # noqa: F811
                                                                         monkeypatch):
    monkeypatch.setattr(leases, "beat_every", lambda lease: 3600.0)  # its heartbeat never comes: "dead"
    client = as_user("yanshan-admin")
    assert client.post(PAGE, data={"csrf_token": csrf_token(client)}).status_code == 302
    [row], job = exports_of(app, yanshan.id), job_of(app, export_tenant)
    started, release = threading.Event(), threading.Event()
    real = export.write_export

    def stuck(tenant_id, path, progress=None):
        if not started.is_set():  # the first delivery: its worker stops here and is never heard of again
            started.set()
            release.wait(timeout=60)
        return real(tenant_id, path, progress)

    monkeypatch.setattr(export, "write_export", stuck)
    dead = {}
    zombie = threading.Thread(target=lambda: dead.update(in_thread(
        lambda: export_tenant.fn(yanshan.id, str(job.id), str(row.id)))))
    zombie.start()
    assert started.wait(timeout=30)
    assert [r.status for r in exports_of(app, yanshan.id)] == ["running"]

    # Within its lease it is running: a second export waits.
    assert client.post(PAGE, data={"csrf_token": csrf_token(client)}).status_code == 409
    assert jobs.recover() == 0
    # Past it, nobody holds it: a new export may start, and the job is sent again.
    clock.now += jobs.lease_time() + timedelta(seconds=1)
    assert client.post(PAGE, data={"csrf_token": csrf_token(client)}).status_code == 302
    assert jobs.recover() == 1
    assert jobs.recover() == 0  # once
    [again] = [m for m in outbox(app) if m.id == job.id]  # handed to the broker again, held by nobody
    assert again.sent_at is not None and again.runner is None and "lease ran out" in again.last_error
    for job_id, export_id in ((job.id, row.id), (job_of(app, export_tenant).id, exports_of(app, yanshan.id)[1].id)):
        assert "error" not in in_thread(lambda: export_tenant.fn(yanshan.id, str(job_id), str(export_id)))
    rows = exports_of(app, yanshan.id)
    assert [r.status for r in rows] == ["done", "done"]
    assert len(job_runs(app, yanshan, job.id)) == 1

    release.set()  # the stuck worker wakes: it no longer holds the job, and leaves no trace
    zombie.join(timeout=60)
    assert dead == {"value": None}  # it ended quietly: no failure, no retry
    assert [r.status for r in exports_of(app, yanshan.id)] == ["done", "done"]
    assert zips(app, yanshan.id) == sorted(r.key for r in rows)


# ---------------------------------------------------------------- periodic jobs

def test_two_workers_queue_one_copy_of_each_periodic_job_a_period(app, world, clock):
    clock.now = clock.now.replace(hour=3, minute=0, second=30, microsecond=0)
    loops = [jobs.PeriodicLoop(interval=600), jobs.PeriodicLoop(interval=600)]
    barrier = threading.Barrier(2)

    def tick(loop):
        barrier.wait(timeout=10)
        return loop.tick()

    results = [{}, {}]
    threads = [threading.Thread(target=lambda i=i: results[i].update(in_thread(lambda: tick(loops[i]))))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all("error" not in r for r in results), results
    ids = [i for r in results for i in r["value"]]
    with app.app_context():
        rows = list(db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))))
        tenants = jobs._periodic_tenants(db)
    per_round = len(jobs._periodic) * len(tenants)
    assert per_round > 0 and len(rows) == per_round  # one copy, not two
    assert sorted(len(r["value"]) for r in results) == [0, per_round]

    clock.now += timedelta(minutes=9)  # the same period: nothing
    assert loops[0].tick() == [] and loops[1].tick() == []
    clock.now += timedelta(minutes=1)  # the next one: one more copy
    assert len(loops[1].tick()) == per_round and loops[0].tick() == []


# ---------------------------------------------------------------- temporary files

def test_temporary_files_of_a_killed_export_are_removed(app, config, yanshan, tmp_path):  # noqa: F811
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.run([sys.executable, str(TESTS / "support" / "killed_export.py"), str(yanshan.id)],
                          env=app_env(config, TMPDIR=str(tmp)), capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stdout + proc.stderr
    left = [p for p in tmp.rglob("*") if p.is_file()]
    assert left, "the killed export wrote nothing to remove"

    fresh = scratch.sweep(Path(tmp), now=utcnow())
    assert fresh == 0 and [p for p in tmp.rglob("*") if p.is_file()] == left  # kept while it may be running
    removed = scratch.sweep(Path(tmp), now=utcnow() + scratch.STALE_AFTER + timedelta(seconds=1))
    assert removed >= 1 and [p for p in tmp.rglob("*") if p.is_file()] == []
    assert os.path.isdir(tmp)
