"""Alembic environment. Run through `shangliang db upgrade`, which passes the owner's URL
(DATABASE_ADMIN_URL) and the application role to grant to (the user of DATABASE_URL)."""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool, text

sys.path.insert(0, str(Path(__file__).parent))  # for rls.py beside this file

from shangliang.models import metadata  # noqa: E402

cfg = context.config
url = cfg.attributes.get("url") or cfg.get_main_option("sqlalchemy.url")
app_role = cfg.attributes.get("app_role")


def grant_to_app_role(conn) -> None:
    """Idempotent, after every upgrade: the app role may use the tables but owns none of them,
    and may only append to the audit log."""
    from sqlalchemy.sql import quoted_name

    role = conn.dialect.identifier_preparer.quote(quoted_name(app_role, quote=True))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    conn.execute(text(f"REVOKE UPDATE, DELETE ON audit_log FROM {role}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}"))


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
            if app_role and conn.dialect.name == "postgresql":
                grant_to_app_role(conn)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
