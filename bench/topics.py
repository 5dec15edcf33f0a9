"""Topic pages at 10,000 and at 100,000 topics: queries per request and latency, in one run.

    .venv/bin/python bench/topics.py              # embedded SQLite in a temp folder
    BENCH_PG=1 .venv/bin/python bench/topics.py   # a scratch PostgreSQL database on 127.0.0.1

Two streets run the same procedure (七步订单); one gets 10,000 topics, the other 100,000,
spread over the steps, each with its intake event. For the board, the topic list, a topic
page and the street's public portal (its home page with the latest concluded topics, and the
公示 list), it prints the SQL statements per request in each street (they must be equal) and
the ratio of median latencies, 100k / 10k (the goal: at most 1.2 for each).
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import event, insert, text  # noqa: E402

from shangliang import create_app  # noqa: E402
from shangliang.accounts.operations import create_user  # noqa: E402
from shangliang.core.db import db, new_id, utcnow  # noqa: E402
from shangliang.core.tenancy import tenant_context  # noqa: E402
from shangliang.procedures.operations import adopt, current_version  # noqa: E402
from shangliang.tenants.operations import create_tenant  # noqa: E402
from shangliang.topics.counts import recount  # noqa: E402
from shangliang.topics.models import Topic, TopicCounter, TopicEvent  # noqa: E402
from conftest import login  # noqa: E402
from tenant_create import setup  # noqa: E402

SIZES = {"small-street": 10_000, "large-street": 100_000}
REPEAT = 15
WARMUP = 3
PASSWORD = "bench-password-123"
STAFF_PAGES = (("board", "/topics/"), ("list", "/topics/list"), ("list p.50", "/topics/list?page=50"),
               ("topic page", "/topics/5000"))
PUBLIC_PAGES = (("portal home", "/"), ("公示", "/gongshi"), ("公示 p.50", "/gongshi?page=50"))


def load(tenant, n: int) -> None:
    """Rows straight into the tables, in batches: what years of use would leave behind."""
    version = current_version(tenant)
    steps = version.steps
    rnd = random.Random(tenant.id)
    now = utcnow()
    for start in range(0, n, 5000):
        topics, events = [], []
        for i in range(start, min(n, start + 5000)):
            step = steps[rnd.randrange(len(steps))]
            tid = new_id()
            created = now - timedelta(minutes=n - i)
            closed = step["phase"] == "closure" and rnd.random() < 0.8
            topics.append(dict(tenant_id=tenant.id, id=tid, number=i + 1, procedure_version_id=version.id,
                               step_key=step["key"], round=1, status="closed" if closed else "open",
                               closed_as="done" if closed else None, escalated=False, overdue=rnd.random() < 0.05,
                               step_entered_at=created, due_at=created + timedelta(days=3), title=f"议题 {i}",
                               description="楼道灯不亮", channel="hotline_12345", category="市政", urgency="normal",
                               community=f"社区{i % 7}", details={}, created_at=created, updated_at=created, version=1))
            events.append(dict(tenant_id=tenant.id, id=new_id(), topic_id=tid, seq=1, action="create",
                               to_step=steps[0]["key"], phase_to="intake", round=1, at=created, comment="", data={}))
        db.execute(insert(Topic), topics)
        db.execute(insert(TopicEvent), events)
        db.commit()
    db.add(TopicCounter(tenant_id=tenant.id, last=n))  # the next intake continues the numbering
    recount(tenant.id)  # the board's counts, as the demo's history and a tenant import make them
    db.commit()


def measure(app, clients: dict, path: str) -> dict[str, tuple[int, float]]:
    """Per street: SQL statements per request and the median latency. The streets' requests are
    interleaved, after a warm-up (compiled statements, templates, caches), so that whatever the
    machine does meanwhile falls on both alike."""
    engine = app.extensions["engine"]
    count = [0]

    def before(*_a):
        count[0] += 1

    for slug, client in clients.items():
        for _ in range(WARMUP):
            client.get(f"/t/{slug}{path}")
    times: dict[str, list[float]] = {slug: [] for slug in clients}
    queries: dict[str, int] = {}
    event.listen(engine, "before_cursor_execute", before)
    try:
        for _ in range(REPEAT):
            for slug, client in clients.items():
                count[0] = 0
                t0 = time.perf_counter()
                resp = client.get(f"/t/{slug}{path}")
                times[slug].append(time.perf_counter() - t0)
                assert resp.status_code == 200, (slug, path, resp.status_code)
                queries[slug] = count[0]
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return {slug: (queries[slug], statistics.median(times[slug])) for slug in clients}


def main() -> None:
    cfg, drop = setup()
    app = create_app(cfg)
    try:
        with app.app_context():
            county = create_tenant(None, kind="county", slug="bench-county", name="基准区")
            db.commit()
            for slug, n in SIZES.items():
                admin = create_user(f"{slug}-admin", "管理员", PASSWORD)
                street = create_tenant(None, kind="street", slug=slug, name=slug, parent=county, admin=admin)
                db.commit()
                with tenant_context(street.id, admin.id):
                    adopt(street, admin.id, "qibu_dingdan")
                    db.commit()
                    t0 = time.perf_counter()
                    load(street, n)
                    print(f"loaded {n:,} topics into {slug} in {time.perf_counter() - t0:.1f} s")
            # Planner statistics, as autovacuum would gather them on a live database.
            with app.extensions["engine"].connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        staff, residents = {}, {}  # residents see the portal with nobody signed in
        for slug in SIZES:
            staff[slug], residents[slug] = app.test_client(), app.test_client()
            login(staff[slug], f"{slug}-admin", PASSWORD)
        results = {name: measure(app, staff, path) for name, path in STAFF_PAGES}
        results.update({name: measure(app, residents, path) for name, path in PUBLIC_PAGES})
    finally:
        app.extensions["engine"].dispose()
        drop()
    print(f"backend: {'postgresql' if os.environ.get('BENCH_PG') else 'sqlite'}; "
          f"median of {REPEAT} requests per page and street, the streets interleaved")
    print(f"{'page':<12} {'queries 10k':>11} {'queries 100k':>12} {'ms 10k':>8} {'ms 100k':>8} {'ratio':>6}")
    for name, _path in STAFF_PAGES + PUBLIC_PAGES:
        (q1, t1), (q2, t2) = results[name]["small-street"], results[name]["large-street"]
        print(f"{name:<12} {q1:>11} {q2:>12} {t1 * 1000:>8.1f} {t2 * 1000:>8.1f} {t2 / t1:>6.2f}")


if __name__ == "__main__":
    main()
