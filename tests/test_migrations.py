"""Alembic: upgrade from empty, downgrade to empty, and no drift between models and migrations."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

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


def _alembic(database: str, tmp_path):
    return alembic_config(Config(instance_path=Path(tmp_path), database_url=database, database_admin_url=database,
                                 secret_key="m" * 40))


def test_upgrade_downgrade_upgrade_without_drift(empty_database, tmp_path):
    ac = _alembic(empty_database, tmp_path)
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


def test_topics_recorded_before_benchmarking_get_their_deadlines(empty_database, tmp_path):
    """Revision 0006 gives existing topics the response and completion deadlines they would have
    had at intake (七步订单: 点单 within 2 working days; the main path's 33 working days)."""
    from datetime import datetime, timezone

    import yaml

    from shangliang.procedures.schema import load
    from shangliang.topics.operations import add_time_limit, procedure_deadline

    ac = _alembic(empty_database, tmp_path)
    command.upgrade(ac, "0005")
    definition = load(yaml.safe_load((Path(__file__).resolve().parents[1] / "tenants" / "procedures" /
                                      "qibu_dingdan.yaml").read_text("utf-8")))
    created = datetime(2026, 3, 6, 2, 0, tzinfo=timezone.utc)  # a Friday in Shanghai
    engine = create_engine(empty_database)
    tables = {t: metadata.tables[t] for t in ("tenants", "procedure_versions", "topics")}
    with engine.begin() as c:
        c.execute(tables["tenants"].insert().values(id=1, kind="platform", slug="p", name="平台", status="active",
                                                   timezone="Asia/Shanghai", created_at=created))
        c.execute(tables["procedure_versions"].insert().values(
            tenant_id=1, id=uuid.uuid4(), number=1, template_key="qibu_dingdan", name="七步订单",
            definition=definition, source_text="", note="", published_at=created))
        version = c.execute(text("SELECT id FROM procedure_versions")).scalar()
        c.execute(text("INSERT INTO topics (tenant_id, id, number, procedure_version_id, step_key, round, status, "
                       "escalated, overdue, step_entered_at, title, description, channel, urgency, details, "
                       "created_at, updated_at, version) VALUES (1, :id, 1, :v, 'diandan', 1, 'open', false, "
                       "false, :at, 't', '', 'wechat', 'normal', '{}', :at, :at, 1)"),
                  {"id": uuid.uuid4().hex if not SERVICES else uuid.uuid4(), "v": version, "at": created})
    command.upgrade(ac, "head")
    with engine.connect() as c:
        topics = metadata.tables["topics"]
        due, deadline = c.execute(select(topics.c.response_due_at, topics.c.deadline_at)).one()
    engine.dispose()
    assert due == add_time_limit(created, {"working_days": 2}, "Asia/Shanghai")  # the Tuesday after
    assert deadline == procedure_deadline(definition["steps"], created, "Asia/Shanghai")
    assert (deadline - created).days > 33  # 33 working days and their weekends


VERSION_ID = uuid.uuid4()


def test_topics_recorded_before_the_board_kept_counts_are_counted(empty_database, tmp_path):
    """Revision 0009 fills the board's counts (a row per step and state) from the topics there."""
    ac = _alembic(empty_database, tmp_path)
    command.upgrade(ac, "0008")
    engine = create_engine(empty_database)
    with engine.begin() as c:
        c.execute(text("INSERT INTO tenants (id, kind, slug, name, status, timezone, created_at) "
                       "VALUES (1, 'platform', 'p', '平台', 'active', 'Asia/Shanghai', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO procedure_versions (tenant_id, id, number, template_key, name, definition, "
                       "source_text, note, published_at) VALUES (1, :v, 1, 'k', '工作法', '{}', '', '', "
                       "CURRENT_TIMESTAMP)"), {"v": VERSION_ID if SERVICES else VERSION_ID.hex})
        for number, step, status, overdue in ((1, "dian", "open", False), (2, "dian", "open", True),
                                              (3, "dian", "open", False), (4, "shou", "closed", True)):
            c.execute(text("INSERT INTO topics (tenant_id, id, number, procedure_version_id, step_key, round, status, "
                           "escalated, overdue, step_entered_at, title, description, channel, urgency, details, "
                           "created_at, updated_at, version) VALUES (1, :id, :n, :v, :step, 1, :status, false, "
                           ":overdue, CURRENT_TIMESTAMP, 't', '', 'wechat', 'normal', '{}', CURRENT_TIMESTAMP, "
                           "CURRENT_TIMESTAMP, 1)"),
                      {"id": uuid.uuid4() if SERVICES else uuid.uuid4().hex, "n": number, "v": VERSION_ID if SERVICES else VERSION_ID.hex,
                       "step": step, "status": status, "overdue": overdue})
    command.upgrade(ac, "head")
    with engine.connect() as c:
        rows = set(c.execute(text("SELECT tenant_id, step_key, state, topics FROM topic_step_counts")).all())
    engine.dispose()
    assert rows == {(1, "dian", "open", 2), (1, "dian", "overdue", 1), (1, "shou", "closed", 1)}


def test_tokens_made_before_personal_tokens_keep_working_as_system_tokens(empty_database, tmp_path):
    """Revision 0023: a role-bound token that acted as the admin who made it keeps its role and gets
    every scope, with no owner (it acts as no person from now on); a token must have an owner or a
    role, never both, never neither."""
    from sqlalchemy.exc import IntegrityError

    ac = _alembic(empty_database, tmp_path)
    command.upgrade(ac, "0022")
    engine = create_engine(empty_database)
    token_id = uuid.uuid4()
    with engine.begin() as c:
        c.execute(text("INSERT INTO tenants (id, kind, slug, name, status, timezone, created_at) "
                       "VALUES (1, 'platform', 'p', '平台', 'active', 'Asia/Shanghai', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO users (id, username, display_name, password_hash, is_active, created_at) "
                       "VALUES (7, 'admin', '管理员', 'x', true, CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO api_tokens (tenant_id, id, name, role, token_hash, created_by, created_at) "
                       "VALUES (1, :id, '12345', 'staff', 'h', 7, CURRENT_TIMESTAMP)"),
                  {"id": token_id if SERVICES else token_id.hex})
    command.upgrade(ac, "head")
    with engine.connect() as c:
        row = c.execute(text("SELECT owner_id, role, scopes, created_by, expires_at FROM api_tokens")).one()
    assert tuple(row) == (None, "staff", "read topics upload manage", 7, None)
    for owner, role in ((7, "staff"), (None, None)):
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text("INSERT INTO api_tokens (tenant_id, id, name, owner_id, role, scopes, token_hash, "
                           "created_at) VALUES (1, :id, 'x', :owner, :role, 'read', 'h', CURRENT_TIMESTAMP)"),
                      {"id": uuid.uuid4() if SERVICES else uuid.uuid4().hex, "owner": owner, "role": role})
    engine.dispose()
