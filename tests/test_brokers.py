"""Jobs against real brokers and real worker processes (services mode only).

- the broker stops: requests still succeed, and their jobs run once it is back;
- a worker is killed with SIGKILL in the middle of a job: the job runs again, once;
- a job that keeps failing is dead-lettered by the broker after its retries;

each on Redis and on RabbitMQ. Every test has its own queue (and Redis namespace), removed
afterwards. Redis is "stopped" by stopping a private redis-server; RabbitMQ (too slow to
boot per test) by cutting it off the network through a TCP proxy, which to the app and the
worker is the same thing: connections drop and new ones are refused.
"""
from __future__ import annotations

import dataclasses
import uuid

import dramatiq
import pytest
from sqlalchemy import select

from conftest import AMQP_URL, PASSWORD, REDIS_URL, RUN_ID, World, login
from shangliang import create_app
from shangliang.accounts.models import User
from shangliang.core import jobs
from shangliang.core.db import Session, db
from shangliang.core.jobs import enqueue
from shangliang.core.tenancy import tenant_context
from support import actors
from support.brokers import dead_letters, remove_queues
from support.procs import RedisServer, TcpProxy, start_worker, wait_for
from support.queries import WELCOME, add_member_by_form, job_runs, notes, outbox, unsent

pytestmark = pytest.mark.services

RABBIT_PORT = 5672


@pytest.fixture
def make_app(config):
    """An app on its own broker, queue and namespace; everything it left in the broker is removed."""
    made = []

    def make(broker_url: str, *, heartbeat_ms: int = 60_000):
        suffix = f"{RUN_ID}-{uuid.uuid4().hex[:8]}"
        cfg = dataclasses.replace(config, broker_url=broker_url, jobs_queue=f"jobs-test-{suffix}",
                                  broker_namespace=f"shangliang-test-{suffix}", broker_heartbeat_ms=heartbeat_ms)
        app = create_app(cfg)
        app.config["TESTING"] = True
        made.append((app, jobs.broker(), cfg.jobs_queue))
        return app, cfg

    yield make
    for app, broker, queue in made:
        Session.remove()
        app.extensions["engine"].dispose()
        try:
            remove_queues(broker, queue)
        except Exception as exc:  # a stopped private broker has nothing left to remove
            print(f"cleanup of {queue}: {exc}")


@pytest.fixture
def procs():
    """Workers started by a test; stopped at the end, before its queues are removed."""
    started = []
    yield started
    for p in reversed(started):
        p.stop()


@pytest.fixture
def infra():
    """Private brokers and proxies; stopped last, after the queues in them are removed.

    (Request it before `make_app`, and `procs` after, so that teardown runs in that order.)
    """
    started = []
    yield started
    for p in reversed(started):
        p.stop()


def pending(broker, queue: str) -> int:
    """Messages the broker still holds for the queue (waiting, delayed, or handed out and not acked)."""
    if type(broker).__name__ == "RedisBroker":
        ns = broker.namespace
        return sum(broker.client.hlen(f"{ns}:{q}.msgs") for q in (queue, f"{queue}.DQ"))
    ready, delayed, _dead = broker.get_queue_message_counts(queue)
    return ready + delayed


# ---------------------------------------------------------------- the broker stops

@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_requests_succeed_with_the_broker_stopped_and_their_jobs_run_once_it_is_back(kind, infra, make_app, procs,
                                                                                      tmp_path):
    if kind == "redis":
        broker_server = RedisServer(tmp_path / "redis")
        broker_server.start()
        url = broker_server.url
    else:
        broker_server = TcpProxy(RABBIT_PORT)
        broker_server.start()
        url = f"amqp://guest:guest@127.0.0.1:{broker_server.port}/%2F"
    infra.append(broker_server)
    app, cfg = make_app(url)
    with app.app_context():
        world = World()
    # The production worker command: consumes, and sweeps the outbox every 2 s.
    worker = start_worker(cfg, tmp_path / "worker.log", command=["worker", "--threads", "2"])
    procs.append(worker)
    client = app.test_client()
    login(client, "yanshan-admin")

    broker_server.stop()
    resp = add_member_by_form(client, PASSWORD)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    with app.app_context():
        newcomer = db.scalar(select(User).where(User.username == "newcomer"))
    assert newcomer is not None  # committed, broker or not
    [row] = unsent(app)
    assert row.args == [newcomer.id, "member"] and row.attempts >= 1 and row.last_error
    assert notes(app, world.yanshan, kind=WELCOME, user=newcomer) == []

    broker_server.start()
    wait_for(lambda: notes(app, world.yanshan, kind=WELCOME, user=newcomer), timeout=30,
             what=f"the welcome job to run once {kind} is back", details=worker.tail)
    [after] = [m for m in outbox(app) if m.id == row.id]
    assert after.sent_at is not None
    assert len(notes(app, world.yanshan, kind=WELCOME, user=newcomer)) == 1
    assert len(job_runs(app, world.yanshan, row.id)) == 1


# ---------------------------------------------------------------- a worker is killed mid-job

@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_worker_killed_mid_job_loses_no_job(kind, make_app, procs, tmp_path):
    # Redis hands a dead worker's unacked messages back after its heartbeat times out (2 s here);
    # RabbitMQ as soon as the dead worker's connection drops.
    app, cfg = make_app(REDIS_URL if kind == "redis" else AMQP_URL, heartbeat_ms=2_000)
    broker, queue = jobs.broker(), cfg.jobs_queue
    with app.app_context():
        world = World()
    member = world.users["yanshan-member"]
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "hold").touch()

    first = start_worker(cfg, tmp_path / "worker-1.log")
    procs.append(first)
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.slow_note, member.id, str(markers))
        db.commit()
    wait_for(lambda: list(markers.glob("started-*")), timeout=20, what="the slow job to start", details=first.tail)

    first.sigkill()  # mid-job: it is waiting on the hold file, its transaction not committed
    assert notes(app, world.yanshan, kind="test.slow") == []
    assert job_runs(app, world.yanshan, job_id) == []

    (markers / "hold").unlink()
    second = start_worker(cfg, tmp_path / "worker-2.log")
    procs.append(second)
    wait_for(lambda: notes(app, world.yanshan, kind="test.slow"), timeout=30,
             what=f"the killed worker's job to run again ({kind})", details=second.tail)
    second.stop()  # graceful: anything it still held goes back to the broker, where we would see it

    starts = sorted(p.name.split("-")[1] for p in markers.glob("started-*"))
    assert starts == sorted([str(first.pid), str(second.pid)])  # ran in both workers ...
    assert len(notes(app, world.yanshan, kind="test.slow")) == 1  # ... with one effect
    assert len(job_runs(app, world.yanshan, job_id)) == 1
    assert pending(broker, queue) == 0  # and nothing is left to deliver it again
    assert unsent(app) == []


# ---------------------------------------------------------------- dead letters

@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_failing_job_is_dead_lettered_by_the_broker_after_bounded_retries(kind, make_app):
    app, cfg = make_app(REDIS_URL if kind == "redis" else AMQP_URL)
    broker, queue = jobs.broker(), cfg.jobs_queue
    with app.app_context():
        world = World()
    key = uuid.uuid4().hex
    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.always_fails, key)
        db.commit()

    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        [dead] = wait_for(lambda: dead_letters(broker, queue), timeout=20, what=f"a dead letter on {kind}",
                          details=lambda: f"attempts: {actors.ATTEMPTS.get(key)}")
    finally:
        worker.stop()
    attempts = actors.ATTEMPTS[key]
    assert len(attempts) == 3  # first try + max_retries=2
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2, gaps
    assert dead.actor_name == actors.always_fails.actor_name
    assert list(dead.args)[:2] == [world.yanshan.id, str(job_id)]
    assert pending(broker, queue) == 0
    assert job_runs(app, world.yanshan, job_id) == []


# ---------------------------------------------------------------- publisher confirms

def test_rabbitmq_sends_are_confirmed_so_a_vanished_queue_loses_no_job(make_app):
    """With publisher confirms (and `mandatory`), a message RabbitMQ cannot route comes back as an
    error instead of vanishing: the queue is declared again and the message sent again."""
    import pika

    app, cfg = make_app(AMQP_URL)
    broker, queue = jobs.broker(), cfg.jobs_queue
    assert broker.confirm_delivery
    with app.app_context():
        world = World()  # its welcome jobs declare the queue and wait in it
    conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        conn.channel().queue_delete(queue)  # gone behind the app's back (an operator, a broker reset)
    finally:
        conn.close()

    with app.app_context(), tenant_context(world.yanshan.id):
        job_id = enqueue(actors.note, world.users["yanshan-member"].id, "confirmed")
        db.commit()
    [row] = [m for m in outbox(app) if m.id == job_id]
    assert row.sent_at is not None and row.attempts == 0
    assert broker.get_queue_message_counts(queue)[0] == 1  # the job is in the (declared again) queue
