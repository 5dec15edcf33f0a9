"""Databases of a module's own, for data that is expensive to build and is built once per module.

conftest's `config` gives every test the session's database, emptied at its start (services) or
a fresh copy of the migrated SQLite template (embedded); data built once for a module would be
wiped by the next test. Here a module gets a database of its own, copied from a migrated
template (PostgreSQL: CREATE DATABASE … TEMPLATE, a file copy; SQLite: the template file), and a
test that changes the module's data gets a copy of the module's database in the same way.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import current_app
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from conftest import APP_ROLE, PG_ADMIN, PG_HOST, REDIS_URL, RUN_ID, SERVICES, World, migrate
from shangliang import create_app
from shangliang.accounts.models import User
from shangliang.config import Config
from shangliang.core.db import Session, db
from shangliang.core.jobs import OutboxMessage, relay
from shangliang.tenants.models import Tenant

_template: dict = {}


def services_config(request, instance: Path, database: str) -> Config:
    """The services' Config (conftest's `config`), on `database`."""
    s3 = request.getfixturevalue("s3_server")
    return Config(instance_path=instance, database_url=f"postgresql+psycopg://{APP_ROLE}@{PG_HOST}:5432/{database}",
                  database_admin_url=f"{PG_ADMIN}/{database}", secret_key="s" * 48, env="development",
                  broker_url=REDIS_URL, broker_namespace=f"shangliang-test-{RUN_ID}", s3=dict(s3),
                  jobs_queue=f"test-{RUN_ID}-{uuid.uuid4().hex[:8]}")


def embedded_config(instance: Path) -> Config:
    url = f"sqlite:///{instance / 'shangliang.db'}"
    return Config(instance_path=instance, database_url=url, database_admin_url=url, secret_key="s" * 48,
                  env="development")


def _admin():
    return create_engine(f"{PG_ADMIN}/postgres", isolation_level="AUTOCOMMIT")


def _pg_template(request) -> str:
    """A migrated database nobody connects to, the template of every module's: made once per run.
    (The session's own database cannot be the template: it is in use and holds the last test's rows.)"""
    if "name" not in _template:
        request.getfixturevalue("pg_database")  # the role the app connects as
        name = f"shangliang_test_{RUN_ID}_template"
        engine = _admin()
        with engine.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        migrate(f"{PG_ADMIN}/{name}", f"postgresql+psycopg://{APP_ROLE}@{PG_HOST}:5432/{name}", Path("/tmp"))
        _template["name"] = name
        request.config.add_cleanup(lambda: _drop(name))
    return _template["name"]


def _create_from(template: str, name: str, deadline: float = 30.0) -> None:
    """CREATE DATABASE … TEMPLATE needs the template to have no connections: a connection being
    returned by the previous test's engine may still be closing, so wait for it."""
    engine = _admin()
    give_up = time.monotonic() + deadline
    try:
        while True:
            try:
                with engine.connect() as c:
                    c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                return
            except OperationalError as exc:
                if "being accessed by other users" not in str(exc) or time.monotonic() > give_up:
                    raise
                time.sleep(0.05)
    finally:
        engine.dispose()


def _drop(name: str) -> None:
    engine = _admin()
    with engine.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _database_of(config: Config) -> str:
    return config.database_url.rsplit("/", 1)[1]


def own_database(request, instance: Path, cleanup: Callable | None = None) -> Config:
    """A Config on a new, empty, migrated database of the caller's own, dropped when the
    requesting fixture ends (or by `cleanup`, which takes the function that drops it)."""
    instance.mkdir(parents=True, exist_ok=True)
    if SERVICES:
        name = f"shangliang_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        _create_from(_pg_template(request), name)
        (cleanup or request.addfinalizer)(lambda: _drop(name))
        return services_config(request, instance, name)
    shutil.copy(request.getfixturevalue("sqlite_template"), instance / "shangliang.db")
    return embedded_config(instance)


def copy_of(request, config: Config, instance: Path) -> Config:
    """A Config on a copy of `config`'s database and stored files, for a test that changes them.
    Every engine on the original must have been disposed (conftest's `app` does at its end)."""
    if SERVICES:
        instance.mkdir(parents=True, exist_ok=True)
        name = f"shangliang_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        _create_from(_database_of(config), name)
        request.addfinalizer(lambda: _drop(name))
        return services_config(request, instance, name)
    # the files (objects/) with the database: the story's attachments point at them
    shutil.copytree(config.instance_path, instance, dirs_exist_ok=True)
    return embedded_config(instance)


# ---------------------------------------------------------------- data built once per module

@dataclasses.dataclass
class Built:
    """What a module's `built` fixture made once: its database (config), conftest's World on it,
    and the module's own data. `shared`: tests read it in place unless they ask for `writes`;
    otherwise every test gets a copy."""
    config: Config
    world: World
    data: Any
    shared: bool = True


def build_once(request, tmp_path_factory, build: Callable[[World], Any], shared: bool = True) -> Built:
    """For a module's `built` fixture (scope="module"): conftest's World and `build(world)`, in an
    app context of their own, on a database of the module's own."""
    config = own_database(request, tmp_path_factory.mktemp("built"))
    app = create_app(config)
    with app.app_context():
        world = World()
        data = build(world)
        db.commit()
    Session.remove()
    app.extensions["engine"].dispose()  # the database may now be copied
    return Built(config, world, data, shared)


@pytest.fixture
def writes():
    """Asked for by a test that changes a shared `built`: it gets a copy of its own."""


@pytest.fixture
def fresh():
    """Asked for by a test that must not see the module's `built` data: it gets a new database
    with conftest's World alone on it, as conftest would give it."""


@pytest.fixture
def config(request, tmp_path, built) -> Config:
    """In a module with a `built` fixture, conftest's `app` and everything on it (clients, jobs,
    the live server) run on the module's database, or on a copy of it for a test that writes."""
    if "fresh" in request.fixturenames:
        return own_database(request, tmp_path / "instance")
    if not built.shared or "writes" in request.fixturenames:
        return copy_of(request, built.config, tmp_path / "instance")
    return built.config


@pytest.fixture
def world(request, built) -> World:
    if "fresh" in request.fixturenames:
        with request.getfixturevalue("app").app_context():
            return World()
    return built.world


# ---------------------------------------------------------------- conftest's World, built once per run

_world: dict = {}


def _world_template(request) -> Config:
    """A database holding conftest's World, built the first time a test asks for one. Its files
    live under the session's base temp dir, its PostgreSQL copy is dropped at the run's end."""
    if "config" not in _world:
        instance = request.getfixturevalue("tmp_path_factory").mktemp("world")
        config = own_database(request, instance, cleanup=request.config.add_cleanup)
        app = create_app(config)
        with app.app_context():
            World()
        Session.remove()
        app.extensions["engine"].dispose()
        _unsend(config)
        _world["config"] = config
    return _world["config"]


def _unsend(config: Config) -> None:
    """The World's jobs (welcome notices) went to the template's broker: mark them unsent, so that
    each copy sends them to its own test's broker, as building the World there would."""
    engine = create_engine(config.database_admin_url)
    with engine.begin() as c:
        c.execute(update(OutboxMessage).values(sent_at=None))
    engine.dispose()


def world_rows(request) -> tuple[list, list]:
    """conftest's World as rows of each table and the sequences' values, read once per process off
    the World's template database: a services test empties the session's database and writes
    these back (a few statements) instead of building the World again (about a hundred)."""
    if "rows" not in _world:
        from shangliang.models import metadata

        engine = create_engine(_world_template(request).database_admin_url)
        with engine.connect() as c:
            tables = [(t, [dict(r._mapping) for r in c.execute(select(t))]) for t in metadata.sorted_tables]
            sequences = c.execute(text("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
                                       " WHERE last_value IS NOT NULL")).all()
        engine.dispose()
        _world["rows"] = ([(t, rows) for t, rows in tables if rows], sequences)
    return _world["rows"]


def world_template_file(request) -> Path:
    """The embedded World's template: a SQLite file each test copies."""
    return _world_template(request).instance_path / "shangliang.db"


def loaded_world() -> World:
    """conftest's World as a copy of the template database holds it (call in an app context)."""
    world = World.__new__(World)
    tenants = {t.slug: t for t in db.scalars(select(Tenant))}
    world.platform, world.lixia, world.chengguan = tenants["platform"], tenants["lixia"], tenants["chengguan"]
    world.yanshan, world.langshan, world.guangwumen = tenants["yanshan"], tenants["langshan"], tenants["guangwumen"]
    world.users = {u.username: u for u in db.scalars(select(User))}
    world.operator = world.users["operator"]
    world.users_by_id = {u.id: name for name, u in world.users.items()}
    db.commit()
    with OrmSession(bind=current_app.extensions["engine"]) as s:
        pending = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))))
    if pending:  # (relay() without ids sweeps the whole backlog)
        relay(pending)
    return world
