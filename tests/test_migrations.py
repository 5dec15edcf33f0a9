"""Alembic: upgrade from empty, downgrade to empty, and no drift between models and migrations."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from conftest import PG_ADMIN, SERVICES
from shangliang.cli import alembic_config
from shangliang.config import Config
from shangliang.models import metadata


@pytest.fixture
def empty_database(tmp_path):
    if not SERVICES:
        url = f"sqlite:///{tmp_path / 'm.db'}"
        yield url
        return
    name = f"shangliang_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_ADMIN}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{PG_ADMIN}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_downgrade_upgrade_without_drift(empty_database, tmp_path):
    cfg = Config(instance_path=Path(tmp_path), database_url=empty_database, database_admin_url=empty_database,
                 secret_key="m" * 40)
    ac = alembic_config(cfg)
    command.upgrade(ac, "head")
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())

    command.downgrade(ac, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(ac, "head")
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_revisions_are_date_prefixed_and_linear():
    versions = Path(__file__).resolve().parents[1] / "migrations" / "versions"
    files = sorted(p.name for p in versions.glob("*.py"))
    assert files and all(name[:4].isdigit() and name[4] == "_" for name in files)
    heads = [p for p in versions.glob("*.py") if "down_revision = None" in p.read_text()]
    assert len(heads) == 1
