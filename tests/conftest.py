"""Test harness. Two modes, one suite:

- embedded (default, `make test`): SQLite file, local object files, stub broker;
- services (`make test-services`, SHANGLIANG_TEST_SERVICES=1): PostgreSQL as a non-owner
  role under forced RLS, Redis as broker, moto's S3 server on loopback. A missing
  service fails the run: it was asked for.
"""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from contextlib import contextmanager
from pathlib import Path

import sys

# Tests exercise the checkout they live in, whatever an editable install elsewhere points at
# (a second worktree sharing one virtualenv, a benchmark from a git worktree).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

import pytest  # noqa: E402
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from shangliang import create_app
from shangliang.core import changes
from shangliang.config import Config

SERVICES = os.environ.get("SHANGLIANG_TEST_SERVICES") == "1"
PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_ADMIN = f"postgresql+psycopg://postgres@{PG_HOST}:5432"
APP_ROLE = "shangliang_app"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
PASSWORD = "correct-horse-battery"
RUN_ID = uuid.uuid4().hex[:8]


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs services: run `make test-services`")
    for item in items:
        if "services" in item.keywords and not SERVICES:
            item.add_marker(skip)


# ---------------------------------------------------------------- outside network guard

@pytest.fixture(autouse=True, scope="session")
def no_outside_network():
    """Tests talk to loopback only; anything else is a bug (and is refused here)."""
    real = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1", "")
                                          or host.startswith("/")):
            raise OSError(f"tests may not reach {host}")
        return real(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = real


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashing():
    """Argon2id at 19 MiB costs ~25 ms per hash and the suite makes thousands (every `world` has
    ten people). Tests hash with the same algorithm at its smallest cost; test_accounts checks
    the production parameters, and subprocess tests (demo, config) run with them."""
    from argon2 import PasswordHasher

    from shangliang.accounts import passwords

    real = passwords._hasher
    passwords._hasher = PasswordHasher(**{**passwords.PARAMETERS, "time_cost": 1, "memory_cost": 8})
    yield
    passwords._hasher = real


@pytest.fixture(autouse=True, scope="session")
def url_rules_compiled_once():
    """Every test builds its own app, and werkzeug writes and compiles two URL builders per rule
    (ast, then compile()): 0.2 s an app, a sixth of the suite. The same rule gives the same code
    (the builder takes the rule as its first argument), so each is compiled once per process."""
    from werkzeug.routing.rules import Rule

    real, compiled = Rule._compile_builder, {}

    def once(self, append_unknown=True):
        try:
            key = (self.rule, self.host, self.subdomain, tuple(self._trace),
                   tuple(sorted((self.defaults or {}).items())), append_unknown)
            hash(key)
        except (TypeError, AttributeError):
            return real(self, append_unknown)
        if key not in compiled:
            compiled[key] = real(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = once
    yield
    Rule._compile_builder = real


# ---------------------------------------------------------------- databases

def migrate(admin_url: str, app_url: str, instance: Path) -> None:
    from alembic import command

    from shangliang.cli import alembic_config

    cfg = Config(instance_path=instance, database_url=app_url, database_admin_url=admin_url, secret_key="x" * 40)
    command.upgrade(alembic_config(cfg), "head")


@pytest.fixture(scope="session")
def pg_database():
    """A fresh database owned by `postgres`, used by the app as the non-owner APP_ROLE."""
    if not _reachable(PG_HOST, 5432):
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (services run)")
    name = f"shangliang_test_{RUN_ID}"
    admin = create_engine(f"{PG_ADMIN}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE})
        if not exists:
            try:
                c.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"))
            except DBAPIError:  # another test process (pytest -n) made it meanwhile
                pass
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin_url = f"{PG_ADMIN}/{name}"
    app_url = f"postgresql+psycopg://{APP_ROLE}@{PG_HOST}:5432/{name}"
    migrate(admin_url, app_url, Path("/tmp"))
    yield {"admin_url": admin_url, "app_url": app_url, "name": name}
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrate(url, url, path.parent)
    return path


_cleaners: dict = {}


def _truncate_pg(admin_url: str) -> None:
    """Empty every table before a test and start ids at 1 again. DELETE, not TRUNCATE: a TRUNCATE
    of every table makes new files for each of them (0.2 s a test), a DELETE of the few rows a
    test left costs a millisecond. Triggers (the append-only audit log's) and foreign keys are off meanwhile: the
    tables' owner may do that (session_replication_role), the application role may not."""
    from shangliang.models import metadata

    if admin_url not in _cleaners:
        _cleaners[admin_url] = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    names = [t.name for t in reversed(metadata.sorted_tables)]
    with _cleaners[admin_url].connect() as c:
        c.execute(text("SET session_replication_role = replica; "
                       + "; ".join(f"DELETE FROM {n}" for n in names)
                       + "; SET session_replication_role = origin; "
                       # ids start at 1 again, as after TRUNCATE … RESTART IDENTITY
                       "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))


def _write_rows(admin_url: str, tables: list, sequences: list) -> None:
    """Rows into the emptied tables, as the owner with triggers and foreign keys off (as
    `_truncate_pg`), and the sequences where they stood."""
    with _cleaners[admin_url].connect() as c, c.begin():
        c.execute(text("SET LOCAL session_replication_role = replica"))
        for table, rows in tables:
            c.execute(table.insert(), rows)
        for name, value in sequences:
            c.execute(text("SELECT setval(:name, :value)"), {"name": name, "value": value})


@pytest.fixture(autouse=True, scope="session")
def clean_redis_namespace():
    """Jobs sent by tests that never run a worker would pile up in Redis across runs."""
    yield
    if SERVICES and _reachable("127.0.0.1", 6379):
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"shangliang-test-{RUN_ID}*", count=1000))
        if keys:
            client.delete(*keys)


# ---------------------------------------------------------------- S3 (moto server)

@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    from support.procs import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    bucket = f"shangliang-test-{RUN_ID}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    yield {"endpoint_url": endpoint, "bucket": bucket, "region": "us-east-1", "access_key": "test",
           "secret_key": "test", "public_endpoint_url": None}
    server.stop()


# ---------------------------------------------------------------- the app

@pytest.fixture
def config(request, tmp_path) -> Config:
    if SERVICES:
        if not _reachable("127.0.0.1", 6379):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 (services run)")
        pg = request.getfixturevalue("pg_database")
        s3 = request.getfixturevalue("s3_server")
        _truncate_pg(pg["admin_url"])
        if "world" in request.fixturenames:  # the World's rows written back, not built again
            from support.databases import world_rows

            _write_rows(pg["admin_url"], *world_rows(request))
        return Config(instance_path=tmp_path, database_url=pg["app_url"], database_admin_url=pg["admin_url"],
                      secret_key="s" * 48, env="development", broker_url=REDIS_URL,
                      broker_namespace=f"shangliang-test-{RUN_ID}", s3=dict(s3),
                      # a queue per test: jobs one test leaves behind never reach the next one's worker
                      jobs_queue=f"test-{RUN_ID}-{uuid.uuid4().hex[:8]}")
    if "world" in request.fixturenames:  # a copy of a database that holds the World already
        from support.databases import world_template_file

        template = world_template_file(request)
    else:
        template = request.getfixturevalue("sqlite_template")
    db_path = tmp_path / "shangliang.db"
    shutil.copy(template, db_path)
    url = f"sqlite:///{db_path}"
    return Config(instance_path=tmp_path, database_url=url, database_admin_url=url, secret_key="s" * 48,
                  env="development")


@pytest.fixture
def app(config):
    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    from shangliang.core.db import Session

    Session.remove()
    app.extensions["engine"].dispose()
    changes.close_feeds()  # the feed's connection too: a module's database may be copied next


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


# ---------------------------------------------------------------- factories

class World:
    """Two counties, three streets, an admin for each, and a few people.

    lixia (county) ─ yanshan (street), langshan (street)
    chengguan (county) ─ guangwumen (street)
    """

    def __init__(self):
        from shangliang.accounts.operations import add_membership, create_user
        from shangliang.core.db import db
        from shangliang.core.tenancy import tenant_context
        from shangliang.demo import ensure_platform
        from shangliang.tenants.operations import create_tenant

        self.platform = ensure_platform()
        self.users = {}

        def user(name):
            u = create_user(name, name, PASSWORD)
            self.users[name] = u
            return u

        self.operator = user("operator")
        with tenant_context(self.platform.id):
            add_membership(self.platform, None, self.operator, "platform_admin")
        self.lixia = create_tenant(None, kind="county", slug="lixia", name="历下区", admin=user("lixia-admin"))
        self.chengguan = create_tenant(None, kind="county", slug="chengguan", name="城关区",
                                       admin=user("chengguan-admin"))
        self.yanshan = create_tenant(None, kind="street", slug="yanshan", name="燕山街道", parent=self.lixia,
                                     admin=user("yanshan-admin"))
        self.langshan = create_tenant(None, kind="street", slug="langshan", name="狼山镇街道", parent=self.lixia,
                                      admin=user("langshan-admin"))
        self.guangwumen = create_tenant(None, kind="street", slug="guangwumen", name="广武门街道",
                                        parent=self.chengguan, admin=user("guangwumen-admin"))
        with tenant_context(self.yanshan.id):
            add_membership(self.yanshan, None, user("yanshan-staff"), "staff")
            add_membership(self.yanshan, None, user("yanshan-member"), "member")
        with tenant_context(self.guangwumen.id):
            add_membership(self.guangwumen, None, user("guangwumen-staff"), "staff")
        user("nobody")
        db.commit()
        self.users_by_id = {u.id: name for name, u in self.users.items()}

    def tenant(self, slug):
        return {t.slug: t for t in (self.platform, self.lixia, self.chengguan, self.yanshan, self.langshan,
                                    self.guangwumen)}[slug]


@pytest.fixture
def world(app):
    """conftest's `config` put the World's rows in this test's database (building it once per
    process): here it is read back."""
    from support.databases import loaded_world

    with app.app_context():
        return loaded_world()


def login(client, username, password=PASSWORD):
    client.get("/login")
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


def csrf_token(client) -> str:
    import re

    html = client.get("/login", follow_redirects=True).get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else ""


@pytest.fixture
def as_user(app):
    """as_user('yanshan-admin') → a test client signed in as that user."""

    def make(username):
        c = app.test_client()
        login(c, username)
        # The home page reads the person's roles, which the process then keeps until they change
        # (core/permissions.memberships_of): statement counts that follow see a page's own cost.
        c.get("/")
        return c

    return make


# ---------------------------------------------------------------- query counting

def changes_settled(app) -> None:
    """Every change committed so far taken in by this process's change feed (services mode;
    the embedded mode keeps nothing): a statement count that follows does not depend on when
    a change notice happens to arrive."""
    from shangliang.core import changes

    url = app.config["SHANGLIANG"].listen_url
    if url:
        feed = changes.feed_for(url)
        assert feed.poll(), "no live change feed"
        feed.sync()


@contextmanager
def count_queries(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def query_counter(app):
    return lambda: count_queries(app.extensions["engine"])


# ---------------------------------------------------------------- jobs

@pytest.fixture
def run_jobs(app):
    """Deliver every job sent so far and wait until the queue is empty."""
    import dramatiq

    from shangliang.core import jobs

    broker = jobs.broker()
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()

    def drain():
        broker.join(app.config["SHANGLIANG"].jobs_queue, timeout=30_000)
        worker.join()

    yield drain
    worker.stop()
    if hasattr(broker, "flush_all"):
        broker.flush_all()


def uploaded_key(tenant_id: int, owner_kind: str = "topic", owner_id=None) -> str:
    """A photo really stored under the tenant's prefix, with the attachment row a checked upload
    leaves (status ready), as evidence for a topic's `attach` (by key). The row is flushed in
    the caller's transaction, or committed when there is none."""
    from flask import current_app

    from shangliang.core.db import db
    from shangliang.core.storage import tenant_key
    from shangliang.core.tenancy import current_scope, tenant_context
    from shangliang.files.models import Attachment

    key = tenant_key(tenant_id, "photos", "jpg")
    body = b"\xff\xd8\xff\xe0 photo"
    current_app.extensions["storage"].put(key, body, "image/jpeg")
    outer = current_scope()
    with tenant_context(tenant_id):
        db.add(Attachment(tenant_id=tenant_id, owner_kind=owner_kind, owner_id=owner_id or uuid.uuid4(), key=key,
                          filename="现场.jpg", declared_size=len(body), status="ready", kind="photo",
                          content_type="image/jpeg", size=len(body), sha256=uuid.uuid4().hex * 2))
        if outer is None:
            db.commit()
    return key


def cli_env(config) -> dict:
    """The environment that points `shangliang` commands at this test's database and storage."""
    env = {"SHANGLIANG_INSTANCE": str(config.instance_path), "DATABASE_URL": config.database_url,
           "DATABASE_ADMIN_URL": config.database_admin_url, "SECRET_KEY": config.secret_key,
           "SHANGLIANG_ENV": "development"}
    if config.s3:
        env.update(S3_BUCKET=config.s3["bucket"], S3_ENDPOINT_URL=config.s3["endpoint_url"],
                   S3_ACCESS_KEY_ID="test", S3_SECRET_ACCESS_KEY="test")
    return env
