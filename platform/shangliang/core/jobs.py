"""Background jobs: a transactional outbox in front of dramatiq.

A job is an `OutboxMessage` row added in the same transaction as the change that
causes it. After the commit it is relayed to the broker (RabbitMQ with publisher
confirms, or Redis); a rollback drops it with everything else. Rows that could not
be sent (broker down, process killed between commit and send) are swept up by the
relay loop in the worker. Actors take the tenant id first, run inside that tenant and
record the job id in the same transaction as their effect, so a message delivered
twice has one effect. A delivery runs a job only while it holds the job's lease (core/leases.py):
a second delivery at the same time does nothing, and the job of a worker that died is sent again
once its lease has run out (`recover`, in every worker's relay loop).
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis, dq_name
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import leases, scratch
from .db import Session as ScopedSession, db, new_id, utcnow
from .job_models import JobRun, OutboxMessage, PeriodicRound
from .leases import LeaseLost
from .tenancy import current_tenant_id, tenant_context

log = logging.getLogger(__name__)

MAX_RETRIES = 5
MIN_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 5 * 60_000
SWEEP_AFTER = timedelta(seconds=5)  # leave fresh rows to the after-commit relay


# ---------------------------------------------------------------- broker

_actors: dict[str, dramatiq.Actor] = {}
_periodic_tenants = None  # registered by tenants: the ids of the tenants periodic jobs run in
_state = {"broker": None, "queue": "default", "engine": None, "send_after_commit": True,
          "lease": timedelta(minutes=1)}
__all__ = ["JobRun", "LeaseLost", "OutboxMessage", "PeriodicRound"]  # the models, where they were always found


def make_broker(url: str | None, *, namespace: str = "shangliang", heartbeat_ms: int = 60_000):
    if not url:
        return StubBroker()
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        # No maintenance by chance: `recover` asks for it every round (`redis_maintenance`).
        return RedisBroker(url=url, namespace=namespace, heartbeat_timeout=heartbeat_ms, maintenance_chance=0)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ValueError(f"unsupported broker scheme {scheme!r}")


def use_broker(broker, *, queue: str = "default") -> None:
    """Bind every tenant actor to `broker`; called once at start-up (and by tests)."""
    dramatiq.set_broker(broker)
    _state["broker"], _state["queue"] = broker, queue
    for actor in _actors.values():
        actor.broker, actor.queue_name = broker, queue
        broker.declare_actor(actor)


def broker():
    return _state["broker"]


# Until configured, actors bind to a stub so that importing a tasks module never connects.
use_broker(StubBroker())


def tenant_actor(fn=None, *, max_retries: int = MAX_RETRIES, time_limit_ms: int = 10 * 60_000):
    """Declare a job. `fn(tenant_id, *args)` runs inside that tenant, at most once per job."""

    def wrap(fn):
        name = f"{fn.__module__.removeprefix('shangliang.')}.{fn.__name__}"

        def run(tenant_id: int, job_id: str, *args):
            _run_once(name, fn, tenant_id, uuid.UUID(job_id), args)

        run.__name__ = run.__qualname__ = fn.__name__
        run.__module__ = fn.__module__
        actor = dramatiq.Actor(run, broker=_state["broker"], actor_name=name, queue_name=_state["queue"],
                               priority=0, options={"max_retries": max_retries, "min_backoff": MIN_BACKOFF_MS,
                                                    "max_backoff": MAX_BACKOFF_MS, "time_limit": time_limit_ms})
        actor.work = fn  # the plain function, for callers that must run it inline
        _actors[name] = actor
        return actor

    return wrap(fn) if fn else wrap


def _run_once(name, fn, tenant_id, job_id, args) -> None:
    with tenant_context(tenant_id):
        try:
            if db.scalar(select(JobRun.job_id).where(JobRun.job_id == job_id)) is not None:
                log.info("job %s already done, skipping", job_id)
                return
            lease = leases.take(_state["engine"], job_id, tenant_id, name, args, _state["lease"])
            if lease is None:
                log.info("job %s is being run by another delivery, skipping", job_id)
                return
            with lease:
                _run_leased(lease, name, fn, tenant_id, job_id, args)
        except IntegrityError:
            # A parallel delivery committed first; our effect rolls back with the JobRun row.
            db.rollback()
            if db.scalar(select(JobRun.job_id).where(JobRun.job_id == job_id)) is None:
                raise  # no: the effect itself was refused, a failure to retry like any other
            log.info("job %s finished elsewhere first", job_id)
        except BaseException:
            db.rollback()
            raise
        finally:
            db.remove()


def _run_leased(lease, name, fn, tenant_id, job_id, args) -> None:
    try:
        fn(tenant_id, *args)
        leases.hold(db)  # still ours: the effect commits, the lease ends with it
        lease.end(db)
        db.add(JobRun(tenant_id=tenant_id, job_id=job_id, actor=name))
        db.commit()
    except LeaseLost:
        db.rollback()
        log.warning("job %s: this delivery lost its lease to another; it leaves the job to it", job_id)
    except BaseException:
        db.rollback()
        try:
            with Session(bind=_state["engine"]) as s, s.begin():  # its retry takes the lease again
                lease.end(s)
        except Exception:  # the database is away: the lease runs out by itself
            log.warning("job %s: could not give up its lease", job_id, exc_info=True)
        raise


# ---------------------------------------------------------------- outbox

def enqueue(actor: dramatiq.Actor | str, *args, tenant_id: int | None = None) -> uuid.UUID:
    """Record a job in the current transaction; it is sent only if the transaction commits.

    `actor` may be given by name ("notifications.tasks.welcome_member"): an operation then queues
    a job of a module above it without importing it (the app and the worker import every tasks
    module, so the name is known by the time anything is sent)."""
    tid = tenant_id or current_tenant_id()
    if tid is None:
        raise RuntimeError("jobs run inside a tenant: enqueue with a tenant set")
    name = actor if isinstance(actor, str) else actor.actor_name
    if name not in _actors:
        raise ValueError(f"{name} is not a tenant_actor")
    msg = OutboxMessage(id=new_id(), tenant_id=tid, actor=name, args=list(args))
    db.add(msg)
    db.info.setdefault("outbox", []).append(msg.id)
    return msg.id


@event.listens_for(Session, "after_commit")
def _relay_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: nothing is committed yet
    ids = session.info.pop("outbox", None)
    if ids and _state["engine"] is not None and _state["send_after_commit"]:
        try:
            relay(ids)
        except Exception:  # the change is committed either way; the sweep sends what is left
            log.exception("outbox relay after commit failed")


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous) -> None:
    if not previous.nested:  # a savepoint's rollback leaves the enclosing transaction's jobs
        session.info.pop("outbox", None)


def relay(ids=None, *, limit: int = 200) -> int:
    """Send pending outbox rows to the broker; returns how many were sent.

    With `ids`, only those rows (right after their commit); without, the backlog
    older than SWEEP_AFTER. A send that fails leaves the row for the next sweep.
    """
    engine = _state["engine"]
    sent = 0
    with Session(bind=engine) as s:
        q = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        q = q.where(OutboxMessage.id.in_(ids)) if ids else q.where(OutboxMessage.created_at < utcnow() - SWEEP_AFTER)
        q = q.order_by(OutboxMessage.created_at).limit(limit)
        if engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        for msg in s.scalars(q).all():
            actor = _actors.get(msg.actor)
            if actor is None:  # not declared in this process: skip it, it must not hold up the rest
                msg.attempts += 1
                msg.last_error = f"LookupError: unknown actor {msg.actor}"[:500]
                log.error("outbox row %s names an unknown actor %s", msg.id, msg.actor)
                continue
            try:
                actor.send_with_options(args=(msg.tenant_id, str(msg.id), *msg.args))
            except Exception as exc:  # broker down: keep the row, try again later
                msg.attempts += 1
                msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
                log.warning("outbox relay failed for %s: %s", msg.id, msg.last_error)
                break
            msg.sent_at = utcnow()
            sent += 1
        s.commit()
    return sent


def lease_time() -> timedelta:
    """How long a job stays with a delivery that stopped renewing it (BROKER_HEARTBEAT_MS)."""
    return _state["lease"]


def recover() -> int:
    """Send again the jobs whose worker died (their lease ran out); returns how many. Also has the
    Redis broker hand back the messages of dead workers now, rather than by chance."""
    redis_maintenance(_state["broker"], _state["queue"])
    with Session(bind=_state["engine"]) as s:
        ids = leases.expired(s)
        s.commit()
    for job_id in ids:
        log.warning("job %s: its worker stopped renewing its lease; sending it again", job_id)
    return relay(ids) if ids else 0


def redis_maintenance(broker, queue: str) -> None:
    """dramatiq's Redis queue maintenance, run now: it moves the unacked messages of workers whose
    heartbeat is older than the heartbeat timeout back to their queue (dispatch.lua)."""
    if type(broker).__name__ != "RedisBroker":
        return
    for name in (queue, dq_name(queue)):
        broker.scripts["dispatch"](keys=[broker.namespace], args=[
            "qsize", current_millis(), name, broker.broker_id, broker.heartbeat_timeout, broker.dead_message_ttl,
            1, broker._max_unpack_size()])


class RelayLoop(threading.Thread):
    """Sweeps the outbox every few seconds, and every quarter of a lease sends again the jobs of
    dead workers and removes their scratch files; runs in the worker (and the embedded server)."""

    def __init__(self, interval: float = 2.0):
        super().__init__(name="outbox-relay", daemon=True)
        self.interval, self.stopping = interval, threading.Event()

    def run(self) -> None:
        every = leases.beat_every(lease_time())
        next_recovery = 0.0
        while not self.stopping.wait(self.interval):
            try:
                relay()
                next_recovery -= self.interval
                if next_recovery <= 0:
                    next_recovery = every
                    recover()
                    scratch.sweep()
            except Exception:
                log.exception("outbox sweep failed")
            finally:
                ScopedSession.remove()

    def stop(self) -> None:
        self.stopping.set()


def configure(engine, broker_url: str | None, *, queue: str = "default", namespace: str = "shangliang",
              heartbeat_ms: int = 60_000, send_after_commit: bool = True):
    """`send_after_commit=False` for short-lived commands on the embedded default: their
    in-memory broker dies with them, so their jobs wait in the outbox for the server's sweep."""
    _state["engine"], _state["send_after_commit"] = engine, send_after_commit
    _state["lease"] = timedelta(milliseconds=heartbeat_ms)
    use_broker(make_broker(broker_url, namespace=namespace, heartbeat_ms=heartbeat_ms), queue=queue)


def start_inprocess_worker(threads: int = 2):
    """The embedded default: a dramatiq worker inside the web process, on the stub broker."""
    scratch.sweep()  # what a process killed before this one left
    worker = dramatiq.Worker(_state["broker"], worker_threads=threads)
    worker.start()
    loop = RelayLoop()
    loop.start()
    PeriodicLoop().start()
    return worker, loop


class PeriodicLoop(threading.Thread):
    """Enqueues each periodic job for every active street once every `interval` seconds.

    Every worker runs it and wakes a few times a period; the first to insert the period's
    PeriodicRound row queues the round, the others find the row and queue nothing."""

    def __init__(self, interval: float = 600.0):
        super().__init__(name="periodic-jobs", daemon=True)
        self.interval, self.stopping = interval, threading.Event()
        self.wake_every = min(60.0, interval / 4)

    def period_start(self, now: datetime) -> datetime:
        return datetime.fromtimestamp(int(now.timestamp() // self.interval * self.interval), timezone.utc)

    def tick(self) -> list[uuid.UUID]:
        """Writes the outbox rows for this period, unless another worker did; returns their ids."""
        with Session(bind=_state["engine"]) as s:
            s.add(PeriodicRound(name=f"every-{self.interval:g}s", period_start=self.period_start(utcnow())))
            try:
                s.flush()
            except IntegrityError:
                return []  # queued by another worker already
            tenants = _periodic_tenants(s)
            rows = [OutboxMessage(id=new_id(), tenant_id=tid, actor=actor.actor_name, args=[])
                    for actor in _periodic for tid in tenants]
            ids = [r.id for r in rows]
            s.add_all(rows)
            try:
                s.commit()
            except IntegrityError:
                return []  # another worker committed the period's row first
        return ids

    def run(self) -> None:
        while not self.stopping.wait(self.wake_every):
            try:
                ids = self.tick()
                if ids:
                    relay(ids)
            except Exception:
                log.exception("periodic tick failed")

    def stop(self) -> None:
        self.stopping.set()


_periodic: list[dramatiq.Actor] = []


def periodic_tenants_from(finder) -> None:
    """Tenants (above core) registers which tenants periodic jobs run in: `finder(session)` -> ids."""
    global _periodic_tenants
    _periodic_tenants = finder


def periodic(actor: dramatiq.Actor) -> dramatiq.Actor:
    """Mark a tenant actor taking no arguments to run for every street on each tick."""
    _periodic.append(actor)
    return actor
