"""Creating a street costs the same at 10 tenants and at 10,000 (shared schema, no per-tenant DDL).

    .venv/bin/python bench/tenant_create.py                 # embedded SQLite in a temp folder
    BENCH_PG=1 .venv/bin/python bench/tenant_create.py      # a scratch PostgreSQL database on 127.0.0.1

Prints the median time of one provisioning as the county's console does it (street, three
communities with grids, its procedure adopted from a built-in, a one-time invitation for its
administrator, audit entries; committed) at ~10 tenants and at 10,000, and their ratio, from
one run. The filler tenants between the two samples are made the cheap way (create_tenant).
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from shangliang import create_app  # noqa: E402
from shangliang.accounts.operations import create_user  # noqa: E402
from shangliang.config import Config  # noqa: E402
from shangliang.core.db import db  # noqa: E402
from shangliang.tenants.models import Tenant  # noqa: E402
from shangliang.core.tenancy import tenant_context  # noqa: E402
from shangliang.console.operations import provision  # noqa: E402
from shangliang.tenants.operations import create_tenant  # noqa: E402

SAMPLE = 200
TARGET = 10_000


def setup() -> tuple[Config, callable]:
    from conftest import migrate

    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    if os.environ.get("BENCH_PG"):
        name = f"shangliang_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

        def drop():
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
        drop = lambda: None  # noqa: E731
    migrate(url, url, tmp)
    return Config(instance_path=tmp, database_url=url, database_admin_url=url, secret_key="b" * 40), drop


COMMUNITIES = "兴文社区：一网格，二网格\n红星社区：三网格\n光明社区：四网格，五网格，六网格"


def timed_batch(county, admin, n, prefix) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        with tenant_context(county.id, admin.id):
            provision(county, admin.id, {"slug": f"{prefix}-{i}", "name": f"街道 {prefix} {i}", "households": "5000",
                                         "communities": COMMUNITIES, "procedure": "qibu_dingdan",
                                         "invite_note": "管理员"})
            db.commit()
        times.append(time.perf_counter() - t0)
    return times


def fill(county, admin, n) -> None:
    for i in range(n):
        create_tenant(None, kind="street", slug=f"fill-{i}", name=f"街道 {i}", parent=county, admin=admin)
        if i % 500 == 0:
            db.commit()
    db.commit()


def main() -> None:
    cfg, drop = setup()
    app = create_app(cfg)
    try:
        with app.app_context():
            county = create_tenant(None, kind="county", slug="bench-county", name="基准区")
            admin = create_user("bench-admin", "基准管理员", "bench-password-123")
            db.commit()
            timed_batch(county, admin, 8, "warm")  # 10 tenants (with platform-less county and warm-up)
            small = timed_batch(county, admin, SAMPLE, "small")
            count = db.scalar(select(func.count()).select_from(Tenant))
            fill(county, admin, TARGET - count)
            count = db.scalar(select(func.count()).select_from(Tenant))
            large = timed_batch(county, admin, SAMPLE, "large")
            total = db.scalar(select(func.count()).select_from(Tenant))
    finally:
        app.extensions["engine"].dispose()
        drop()
    s, l = statistics.median(small), statistics.median(large)
    print(f"backend: {'postgresql' if os.environ.get('BENCH_PG') else 'sqlite'}")
    print(f"median street provisioning at ~10 tenants:     {s * 1000:.2f} ms  ({SAMPLE} samples)")
    print(f"median street provisioning at {count:,} tenants: {l * 1000:.2f} ms  ({SAMPLE} samples, {total:,} at end)")
    print(f"ratio large/small: {l / s:.2f}")


if __name__ == "__main__":
    main()
