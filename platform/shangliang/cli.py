"""The `shangliang` command: check, db, demo, serve, worker, operator."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from .config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "shangliang-demo"


def app_or_exit(**kw):
    """Start-up errors are one line naming the variable, then exit status 2. No traceback."""
    from . import create_app

    try:
        return create_app(**kw)
    except ConfigError as exc:
        click.echo(f"shangliang: configuration error: {exc}", err=True)
        sys.exit(2)


@click.group()
def main():
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # keep `make demo` output readable


@main.command()
def check():
    """Check the configuration and that every named service answers."""
    app = app_or_exit()
    cfg = app.config["SHANGLIANG"]
    click.echo(f"ok: database {cfg.database_url.split('@')[-1]}, storage {app.extensions['storage'].backend}, "
               f"broker {'in-process' if not cfg.broker_url else cfg.broker_url.split('@')[-1]}")


# ---------------------------------------------------------------- migrations

def alembic_config(cfg):
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.engine import make_url

    ac = AlembicConfig()
    ac.set_main_option("script_location", os.environ.get("SHANGLIANG_MIGRATIONS") or str(PROJECT_ROOT / "migrations"))
    ac.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    ac.attributes["url"] = cfg.database_admin_url
    app_user = make_url(cfg.database_url).username
    admin_user = make_url(cfg.database_admin_url).username
    ac.attributes["app_role"] = app_user if app_user and app_user != admin_user else None
    return ac


@main.group()
def db():
    """Database migrations (run with DATABASE_ADMIN_URL, the tables' owner)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision):
    from alembic import command

    from .config import from_env

    try:
        cfg = from_env()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None
    command.upgrade(alembic_config(cfg), revision)


@db.command()
@click.argument("revision")
def downgrade(revision):
    from alembic import command

    from .config import from_env

    command.downgrade(alembic_config(from_env()), revision)


# ---------------------------------------------------------------- demo

@main.group()
def demo():
    """Demo data: the five practices of the seeds."""


@demo.command("load")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Generate the history up to noon of this day (Asia/Shanghai) instead of now.")
def demo_load(today):
    from zoneinfo import ZoneInfo

    from .demo import load_demo

    now = today.replace(hour=12, tzinfo=ZoneInfo("Asia/Shanghai")) if today else None
    app = app_or_exit(command=True)
    with app.app_context():
        created = load_demo(DEMO_PASSWORD, now)
    click.echo(f"demo data: {created} tenants created")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    from .demo import demo_logins

    for login, what in demo_logins():
        click.echo(f"  {login:<20} {what}")


# ---------------------------------------------------------------- operator

@main.command("operator-create")
@click.argument("username")
@click.option("--name", default="平台运维")
@click.password_option()
def operator_create(username, name, password):
    """Create a platform operator (the first account of a new installation)."""
    from .accounts.operations import add_membership, create_user
    from .core.errors import Refused
    from .core.db import db as session
    from .core.tenancy import tenant_context
    from .demo import ensure_platform

    app = app_or_exit(command=True)
    with app.app_context():
        platform = ensure_platform()
        try:
            user = create_user(username, name, password)
            with tenant_context(platform.id, user.id):
                add_membership(platform, None, user, "platform_admin")
                session.commit()
        except Refused as exc:
            raise click.ClickException(f"{exc.field}: {exc.message}") from None
    click.echo(f"operator {username} created")


# ---------------------------------------------------------------- moving a tenant

@main.group()
def benchmarks():
    """Benchmarking (对标) rollups."""


@benchmarks.command("rebuild")
@click.option("--tenant", "slugs", multiple=True, help="only these streets (and their counties); default all")
def benchmarks_rebuild(slugs):
    """Recompute every street's and county's rollups from the topics (the periodic job keeps them
    up to date afterwards; this is for a first install, a restore or a changed definition)."""
    import time

    from sqlalchemy import select

    from .benchmarks.rollups import rebuild
    from .core.db import db as session, utcnow
    from .demo import ensure_platform
    from .tenants.models import Tenant

    app = app_or_exit(command=True)
    with app.app_context():
        ids = None
        if slugs:
            ids = list(session.scalars(select(Tenant.id).where(Tenant.slug.in_(slugs), Tenant.kind == "street")))
            unknown = set(slugs) - set(session.scalars(select(Tenant.slug).where(Tenant.id.in_(ids))))
            if unknown:
                raise click.ClickException(f"tenant: no street {', '.join(sorted(unknown))}")
        platform = ensure_platform()
        session.commit()
        started = time.monotonic()
        done = rebuild(utcnow(), tenant_ids=ids, acting_tenant_id=platform.id, commit=session.commit)
    click.echo(f"rebuilt {done['rows']} rows for {done['streets']} streets and {done['counties']} counties "
               f"in {time.monotonic() - started:.1f} s")


@main.group()
def tenant():
    """Export a tenant to a zip, import one made by another installation, or unarchive one."""


@tenant.command("export")
@click.argument("slug")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def tenant_export(slug, out):
    """Write SLUG's data and files to the zip OUT (synchronously, without the job queue)."""
    from sqlalchemy import select

    from .audit.operations import record
    from .core.db import db as session
    from .core.tenancy import tenant_context
    from .tenants.models import Tenant
    from .transfer.export import file_sha256, write_export

    app = app_or_exit(command=True)
    with app.app_context():
        row = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if row is None:
            raise click.ClickException(f"slug: no tenant {slug!r}")
        with tenant_context(row.id):
            manifest = write_export(row.id, out)
            sha256, size = file_sha256(out)
            record(row.id, None, "export.done", os.path.basename(out), {"via": "cli", "size": size, "sha256": sha256})
            session.commit()
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(f"{out}: {rows} rows in {len(manifest['tables'])} tables, {len(manifest['files'])} files, "
               f"{manifest['users']} users; {size} bytes, sha256 {sha256}")


@tenant.command("import")
@click.argument("zip_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--parent", "parent", help="slug of the county a street joins here (default: as exported)")
@click.option("--slug", "slug", help="a new slug, if the exported one is taken here")
def tenant_import(zip_path, parent, slug):
    """Create a tenant from an export ZIP_PATH; prints what was restored."""
    from .core.db import db as session
    from .core.errors import Refused
    from .core.storage import current_storage
    from .transfer.restore import discard, restore_tenant, summary_lines

    app = app_or_exit(command=True)
    with app.app_context():
        try:
            new = restore_tenant(zip_path, parent_slug=parent, slug=slug)
        except Refused as exc:
            raise click.ClickException(f"{exc.field or 'file'}: {exc}") from None
        try:  # the command's one transaction: refused or failed, nothing of the tenant remains
            session.commit()
        except BaseException:
            session.rollback()
            discard(current_storage(), new.import_report.keys)  # the files it wrote, too
            raise
        for line in summary_lines(new.import_report):
            click.echo(line)


@tenant.command("unarchive")
@click.argument("slug")
def tenant_unarchive(slug):
    """Bring an archived tenant back (as suspended: its county reactivates it when ready)."""
    from sqlalchemy import select

    from .audit.operations import record
    from .core.db import db as session
    from .core.tenancy import tenant_context
    from .tenants.models import Tenant

    app = app_or_exit(command=True)
    with app.app_context():
        row = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if row is None or row.status != "archived":
            raise click.ClickException(f"slug: no archived tenant {slug!r}")
        row.status = "suspended"
        with tenant_context(row.id):
            record(row.id, None, "tenant.unarchive", slug, {"via": "cli", "to": "suspended"})
            session.commit()
    click.echo(f"{slug}: archived → suspended; its county can reactivate it in the console")


# ---------------------------------------------------------------- processes

@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--threads", default=8, type=int)
def serve(host, port, threads):
    """Serve with gunicorn; with no BROKER_URL the job worker runs in the same process."""
    from gunicorn.app.base import BaseApplication

    from .core import jobs

    app = app_or_exit()

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")

        def load(self):
            if not app.config["SHANGLIANG"].broker_url:
                jobs.start_inprocess_worker()
            return app

    Server().run()


@main.command()
@click.option("--threads", default=4, type=int)
def worker(threads):
    """Run background jobs from BROKER_URL, and relay the outbox."""
    import dramatiq

    from .core import jobs, scratch

    app = app_or_exit()
    if not app.config["SHANGLIANG"].broker_url:
        raise click.ClickException("BROKER_URL: not set; the embedded server runs jobs in-process")
    scratch.sweep()  # the temporary files of jobs killed with an earlier worker
    w = dramatiq.Worker(jobs.broker(), worker_threads=threads)
    w.start()
    loop = jobs.RelayLoop()
    loop.start()
    ticker = jobs.PeriodicLoop()
    ticker.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"worker: {threads} threads on queue {app.config['SHANGLIANG'].jobs_queue}")
    stop.wait()
    ticker.stop()
    loop.stop()
    w.stop()
