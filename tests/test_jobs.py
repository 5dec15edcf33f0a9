"""Background jobs: the outbox, delivery after commit, retries, idempotency, tenancy.

Runs in both modes: embedded (SQLite, dramatiq's StubBroker) and services (PostgreSQL
under RLS, Redis). Stopping brokers and killing workers is in test_brokers.py.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import pytest
from dramatiq.errors import ConnectionClosed
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from conftest import PASSWORD
from shangliang.accounts.models import Membership, User
from shangliang.accounts.operations import add_membership, create_user
from shangliang.core import jobs
from shangliang.core.db import db, utcnow
from shangliang.core.jobs import OutboxMessage, enqueue
from shangliang.core.tenancy import tenant_context
from shangliang.notifications.tasks import welcome_member
from support import actors, queries
from support.brokers import Recorder, dead_letters
from support.procs import TESTS, app_env, wait_for
from support.queries import WELCOME, job_runs, notes, outbox, unsent


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture(autouse=True)
def fresh_queue(app):
    """Services mode shares one Redis queue per run: drop what earlier tests left in it."""
    broker = jobs.broker()
    if hasattr(broker, "flush_all"):
        broker.flush_all()
    yield
    if hasattr(broker, "flush_all"):
        broker.flush_all()


@pytest.fixture
def recorder(app, world, run_jobs):
    """The world's own welcome jobs delivered first; then every send and delivery is recorded."""
    run_jobs()
    rec = Recorder()
    jobs.broker().add_middleware(rec)
    return rec


def queue(app) -> str:
    return app.config["SHANGLIANG"].jobs_queue


def add_member_by_form(client):
    return queries.add_member_by_form(client, PASSWORD)


def sweep_now(monkeypatch):
    """The sweep leaves rows younger than SWEEP_AFTER to the after-commit relay; a test need not wait."""
    monkeypatch.setattr(jobs, "SWEEP_AFTER", timedelta(0))


# ---------------------------------------------------------------- the outbox

def test_job_is_written_in_the_changes_transaction_and_sent_only_after_commit(app, world, recorder, run_jobs):
    with app.app_context(), tenant_context(world.yanshan.id):
        user = create_user("newcomer", "新来的委员", PASSWORD)
        add_membership(world.yanshan, None, user, "member")
        db.flush()
        [row] = db.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
        assert (row.actor, row.tenant_id, row.args) == (welcome_member.actor_name, world.yanshan.id, [user.id, "member"])
        # Outside the transaction neither the row nor the membership exists, and the broker has nothing.
        with app.extensions["engine"].connect() as other:
            assert other.scalar(select(func.count()).select_from(OutboxMessage.__table__)
                                .where(OutboxMessage.__table__.c.id == row.id)) == 0
        assert recorder.sent == []
        db.commit()

    [message] = recorder.sent
    assert message.actor_name == welcome_member.actor_name
    assert list(message.args) == [world.yanshan.id, str(row.id), user.id, "member"]
    [after] = [m for m in outbox(app) if m.id == row.id]
    assert after.sent_at is not None and after.attempts == 0

    run_jobs()
    [note] = notes(app, world.yanshan, kind=WELCOME, user=user)
    assert note.title == "您已加入燕山街道"
    assert [r.tenant_id for r in job_runs(app, world.yanshan, row.id)] == [world.yanshan.id]


def test_rolled_back_change_sends_nothing(app, world, recorder, run_jobs):
    before = len(outbox(app))
    with app.app_context(), tenant_context(world.yanshan.id):
        user = create_user("newcomer", "新来的委员", PASSWORD)
        add_membership(world.yanshan, None, user, "member")
        db.flush()
        db.rollback()
        # The same session commits something else afterwards: the dropped job stays dropped.
        create_user("someone-else", "另一个人", PASSWORD)
        db.commit()

    assert len(outbox(app)) == before
    run_jobs()
    assert recorder.sent == [] and recorder.processed == []
    assert notes(app, world.yanshan, kind=WELCOME, user=user) == []


def test_request_that_fails_after_enqueueing_delivers_nothing(app, world, recorder, run_jobs, as_user, monkeypatch):
    from shangliang.accounts import operations

    real, pending = operations.add_membership, []

    def add_then_fail(*args, **kwargs):
        membership = real(*args, **kwargs)
        db.flush()  # membership, audit entry and outbox row are now written, in the request's transaction
        pending.append(db.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.sent_at.is_(None))))
        raise RuntimeError("the request fails after enqueueing")

    monkeypatch.setattr(operations, "add_membership", add_then_fail)
    before = len(outbox(app))
    resp = add_member_by_form(as_user("yanshan-admin"))

    assert resp.status_code == 500
    assert pending == [1]  # the job existed inside the failed transaction ...
    assert len(outbox(app)) == before  # ... and went with it
    run_jobs()
    assert recorder.sent == [] and recorder.processed == []
    with app.app_context():
        assert db.scalar(select(User).where(User.username == "newcomer")) is None


def test_crash_between_commit_and_send_loses_nothing(app, config, world, recorder, run_jobs, monkeypatch):
    nobody = world.users["nobody"]
    # Another process commits a membership and is killed before it can hand the job to the broker.
    proc = subprocess.run([sys.executable, str(TESTS / "support" / "crash_after_commit.py"),
                           str(world.yanshan.id), str(nobody.id), "member"],
                          env=app_env(config), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 17, proc.stdout + proc.stderr

    [row] = unsent(app)
    assert (row.actor, row.args, row.attempts) == (welcome_member.actor_name, [nobody.id, "member"], 0)
    with app.app_context(), tenant_context(world.yanshan.id):
        assert db.get(Membership, {"tenant_id": world.yanshan.id, "user_id": nobody.id, "role": "member"})
    assert recorder.sent == []

    # The relay loop (in every worker) sweeps up what was committed but never sent.
    sweep_now(monkeypatch)
    loop = jobs.RelayLoop(interval=0.05)
    loop.start()
    try:
        wait_for(lambda: not unsent(app), timeout=10, what="the relay loop to send the orphaned outbox row")
    finally:
        loop.stop()
        loop.join(timeout=5)
    assert [list(m.args)[1] for m in recorder.sent] == [str(row.id)]
    run_jobs()
    assert len(notes(app, world.yanshan, kind=WELCOME, user=nobody)) == 1


def test_broker_refusing_a_send_keeps_the_job_until_the_sweep(app, world, recorder, run_jobs, as_user, monkeypatch):
    broker = jobs.broker()
    real_enqueue = broker.enqueue

    def refuse(message, *, delay=None):
        raise ConnectionClosed(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(broker, "enqueue", refuse)
    resp = add_member_by_form(as_user("yanshan-admin"))
    assert resp.status_code == 302  # the request succeeds: its change is committed with its job

    [row] = unsent(app)
    assert row.attempts == 1 and row.last_error.startswith("ConnectionClosed")
    with app.app_context():
        newcomer = db.scalar(select(User).where(User.username == "newcomer"))
    assert newcomer is not None

    monkeypatch.setattr(broker, "enqueue", real_enqueue)  # the broker is back
    sweep_now(monkeypatch)
    assert jobs.relay() == 1
    assert unsent(app) == []
    run_jobs()
    assert len(notes(app, world.yanshan, kind=WELCOME, user=newcomer)) == 1


def test_failing_relay_after_commit_does_not_fail_the_committed_request(app, world, recorder, run_jobs, as_user,
                                                                        monkeypatch):
    real_relay = jobs.relay

    def relay_fails(ids=None, **kw):
        raise OperationalError("SELECT ... FROM job_outbox", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(jobs, "relay", relay_fails)
    resp = add_member_by_form(as_user("yanshan-admin"))
    assert resp.status_code == 302
    [row] = unsent(app)

    monkeypatch.setattr(jobs, "relay", real_relay)
    sweep_now(monkeypatch)
    assert jobs.relay() == 1
    run_jobs()
    assert [list(m.args)[1] for m in recorder.sent] == [str(row.id)]
    with app.app_context():
        newcomer = db.scalar(select(User).where(User.username == "newcomer"))
    assert len(notes(app, world.yanshan, kind=WELCOME, user=newcomer)) == 1


def test_savepoints_neither_send_early_nor_drop_the_outer_jobs(app, world, recorder, run_jobs):
    user = world.users["yanshan-member"]
    with app.app_context(), tenant_context(world.yanshan.id):
        before = enqueue(actors.note, user.id, "before the savepoints")
        db.flush()
        with db.begin_nested():
            released = enqueue(actors.note, user.id, "in a released savepoint")
        savepoint = db.begin_nested()
        enqueue(actors.note, user.id, "in a rolled-back savepoint")
        db.flush()
        savepoint.rollback()
        assert recorder.sent == []  # nothing leaves before the real commit
        db.commit()

    assert sorted(list(m.args)[1] for m in recorder.sent) == sorted([str(before), str(released)])
    assert unsent(app) == []
    run_jobs()
    assert sorted(n.title for n in notes(app, world.yanshan, kind="test.note")) == \
        ["before the savepoints", "in a released savepoint"]


def test_outbox_row_for_an_unknown_actor_does_not_hold_up_the_rest(app, world, recorder, run_jobs):
    user = world.users["yanshan-member"]
    old = utcnow() - timedelta(minutes=5)
    with app.app_context():
        stray = OutboxMessage(tenant_id=world.yanshan.id, actor="retired.actor", args=[], created_at=old)
        good = OutboxMessage(tenant_id=world.yanshan.id, actor=actors.note.actor_name, args=[user.id, "still sent"],
                             created_at=old + timedelta(seconds=1))
        db.add_all([stray, good])
        db.commit()

    assert jobs.relay() == 1
    rows = {m.id: m for m in outbox(app)}
    assert rows[good.id].sent_at is not None
    assert rows[stray.id].sent_at is None and rows[stray.id].attempts == 1
    assert rows[stray.id].last_error.startswith("LookupError")
    run_jobs()
    assert [n.title for n in notes(app, world.yanshan, kind="test.note")] == ["still sent"]


# ---------------------------------------------------------------- delivery: once, retries, dead letters

def test_message_delivered_twice_has_one_effect(app, world, recorder, run_jobs):
    user = world.users["yanshan-member"]
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.note, user.id, "only once")
        db.commit()
    [message] = recorder.sent
    jobs.broker().enqueue(message)  # the broker hands the same message out a second time
    run_jobs()

    deliveries = [exc for m, exc in recorder.processed if m.message_id == message.message_id]
    assert deliveries == [None, None]  # both deliveries ran to completion ...
    assert len(notes(app, world.yanshan, kind="test.note")) == 1  # ... with one effect
    assert len(job_runs(app, world.yanshan, job_id)) == 1


def test_parallel_deliveries_of_one_job_have_one_effect(app, world):
    """A second delivery while the first runs finds the job's lease held: it does nothing, at once."""
    user, key, job_id = world.users["yanshan-member"], uuid.uuid4().hex, uuid.uuid4()
    actors.BARRIERS[key] = threading.Barrier(2)
    errors = []

    def deliver():
        try:
            actors.meet_then_note.fn(world.yanshan.id, str(job_id), user.id, key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=deliver)
    first.start()  # it runs the job, and waits inside it for this test
    wait_for(lambda: actors.BARRIERS[key].n_waiting == 1, timeout=10, what="the first delivery to be running")
    second = threading.Thread(target=deliver)
    second.start()
    second.join(timeout=30)
    assert not second.is_alive(), "the second delivery waited for the first"
    assert notes(app, world.yanshan, kind="test.parallel") == []  # and did nothing
    actors.BARRIERS[key].wait(timeout=10)  # let the first one finish
    first.join(timeout=30)
    assert not first.is_alive(), "a delivery hung"
    assert errors == []
    assert len(notes(app, world.yanshan, kind="test.parallel")) == 1
    assert len(job_runs(app, world.yanshan, job_id)) == 1


def test_production_jobs_retry_with_backoff_a_bounded_number_of_times(app):
    opts = welcome_member.options
    assert (opts["max_retries"], opts["min_backoff"], opts["max_backoff"]) == (5, 1_000, 300_000)
    assert "Retries" in [type(m).__name__ for m in jobs.broker().middleware]


def test_failing_job_retries_with_backoff_then_is_dead_lettered(app, world, recorder):
    key = uuid.uuid4().hex
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.always_fails, key)
        db.commit()

    [dead] = wait_for(lambda: dead_letters(jobs.broker(), queue(app)), timeout=20,
                      what="the failing job to be dead-lettered", details=lambda: f"attempts: {actors.ATTEMPTS}")
    attempts = actors.ATTEMPTS[key]
    assert len(attempts) == 3  # the first try and max_retries=2 retries, then no more
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2, gaps  # min_backoff 100 ms, doubling
    assert dead.actor_name == actors.always_fails.actor_name
    assert list(dead.args)[:2] == [world.yanshan.id, str(job_id)]
    assert dead.options["retries"] >= 2  # as stored by the broker (the stub's copy also counts the last failure)
    assert job_runs(app, world.yanshan, job_id) == []


def test_job_whose_effect_the_database_refuses_is_dead_lettered_not_dropped(app, world, recorder):
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.dangling_reference, 10**6)  # no such user: the foreign key refuses
        db.commit()

    def settled():
        ran = [exc for m, exc in recorder.processed if m.actor_name == actors.dangling_reference.actor_name]
        assert None not in ran, "the job's own IntegrityError was taken for 'done elsewhere': the job is lost"
        return dead_letters(jobs.broker(), queue(app))

    [dead] = wait_for(settled, timeout=20, what="the job to be dead-lettered")
    assert list(dead.args)[1] == str(job_id)
    assert job_runs(app, world.yanshan, job_id) == []
    assert notes(app, world.yanshan, kind="test.dangling") == []


# ---------------------------------------------------------------- tenancy

def test_jobs_carry_their_tenant_and_run_inside_it(app, config, world, recorder, run_jobs):
    key, admin = uuid.uuid4().hex, world.users["yanshan-admin"]
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.probe_scope, key, world.guangwumen.id, admin.id)
        db.commit()
    [message] = recorder.sent
    assert list(message.args)[0] == world.yanshan.id
    run_jobs()

    seen = actors.SEEN[key]
    assert seen["scope_tenant"] == world.yanshan.id and seen["scope_readable"] == (world.yanshan.id,)
    # Welcome notifications exist in yanshan and in guangwumen; the job sees its own tenant's only.
    assert notes(app, world.guangwumen, kind=WELCOME)
    assert seen["orm_tenants"] == [world.yanshan.id]
    assert seen["orm_count"] == len(notes(app, world.yanshan)) - 1  # all but its own probe note
    if not config.embedded:
        assert seen["sql_tenants"] == [world.yanshan.id]  # row-level security, past the ORM
    assert seen["stray_write"] == "TenantWriteRefused"
    assert notes(app, world.guangwumen, kind="test.stray") == []
    assert len(notes(app, world.yanshan, kind="test.probe")) == 1
    assert [r.tenant_id for r in job_runs(app, world.yanshan, job_id)] == [world.yanshan.id]

    # The real actor: each welcome lands in the tenant of its membership, nowhere else.
    staff = world.users["guangwumen-staff"]
    assert len(notes(app, world.guangwumen, kind=WELCOME, user=staff)) == 1
    assert notes(app, world.yanshan, kind=WELCOME, user=staff) == []


def test_enqueue_outside_a_tenant_is_refused(app, world):
    with app.app_context():
        with pytest.raises(RuntimeError, match="inside a tenant"):
            enqueue(actors.note, world.users["nobody"].id, "no tenant")
