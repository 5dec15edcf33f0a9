"""The public portal against a bare endpoint on the same server, in one run.

    .venv/bin/python bench/portal.py                 # embedded SQLite in a temp folder
    BENCH_PG=1 .venv/bin/python bench/portal.py      # a scratch PostgreSQL database on 127.0.0.1

A branded street (logo, hotlines, stations), its procedure, and 200 concluded topics for the
公示 list are loaded; a real HTTP server (werkzeug, threaded) serves the app with one extra
route that returns a fixed string through the same middleware. Prints the median latency of
each page over HTTP, the bare endpoint's, their ratios, and queries per page.
"""
from __future__ import annotations

import http.client
import io
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import logging  # noqa: E402

from sqlalchemy import event  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from shangliang import create_app  # noqa: E402
from shangliang.core.db import db  # noqa: E402
from shangliang.core.permissions import public  # noqa: E402
from shangliang.core.tenancy import tenant_context  # noqa: E402
from shangliang.tenants.operations import create_tenant  # noqa: E402
from tenant_create import setup  # noqa: E402

REPEAT = 300
TOPICS = 200


def load(app) -> None:
    from PIL import Image

    from shangliang.branding import operations as brand
    from shangliang.procedures.operations import adopt
    from shangliang.topics.operations import create_topic

    with app.app_context():
        county = create_tenant(None, kind="county", slug="bench-county", name="基准区")
        street = create_tenant(None, kind="street", slug="bench-street", name="基准街道", parent=county)
        db.commit()
        with tenant_context(street.id):
            adopt(street, None, "sanji_liangti_yizhuan")
            logo = io.BytesIO()
            Image.new("RGB", (256, 256), "#8c1d18").save(logo, "PNG")
            row = brand.save_version(street, None, {
                "display_name": "基准街道政协委员工作室", "brand_name": "有事好商量", "slogan": "有事莫心急 下楼来商量",
                "intro": "居民提出议题，委员认领，部门协商。", "primary_colour": "#8c1d18", "accent_colour": "#0b5cad",
                "text_colour": "#ffffff", "hotlines": "街道热线: 0531-12345678\n12345: 12345",
                "mailbox": "街道办一楼", "stations": "委员工作室 | 文化路 1 号 | 周一至周五 9:00-17:00",
                "footer": "基准街道"}, {"logo": logo.getvalue()})
            brand.publish(street, None, row.number)
            for i in range(TOPICS):
                t = create_topic(street, None, {"title": f"议题 {i}", "channel": "portal"})
                t.status, t.closed_as, t.details = "closed", "done", {"outcome": f"已办结 {i}"}
            db.commit()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(port, path, engine) -> tuple[float, int]:
    count = [0]

    def before(*_a):
        count[0] += 1

    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for i in range(REPEAT):
        if i == REPEAT - 1:
            event.listen(engine, "before_cursor_execute", before)
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        times.append(time.perf_counter() - t0)
        assert resp.status == 200, (path, resp.status)
    event.remove(engine, "before_cursor_execute", before)
    conn.close()
    return statistics.median(times[20:]), count[0]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cfg, drop = setup()
    app = create_app(cfg)

    @public
    def bare():
        return "ok"

    app.add_url_rule("/bench/bare", "bench_bare", bare)
    server = None
    try:
        load(app)
        server = serve(app)
        engine = app.extensions["engine"]
        rows = [(name, *measure(server.server_port, path, engine)) for name, path in (
            ("bare endpoint", "/bench/bare"), ("portal home", "/t/bench-street/"),
            ("raise form", "/t/bench-street/raise"), ("公示 list", "/t/bench-street/gongshi"),
            ("brand css", None), ("logo", None)) if path]
        with app.test_request_context():
            from shangliang.branding.brand import current_brand
            from shangliang.tenants.models import Tenant
            from sqlalchemy import select

            street = db.scalar(select(Tenant).where(Tenant.slug == "bench-street"))
            with tenant_context(street.id):
                b = current_brand(street)
                css, logo = b.css_url, b.logo_url
        rows += [("brand css", *measure(server.server_port, css, engine)),
                 ("logo", *measure(server.server_port, logo, engine))]
    finally:
        if server:
            server.shutdown()
        engine = app.extensions["engine"]
        engine.dispose()
        drop()
    bare_ms = rows[0][1]
    print(f"backend: {cfg.database_url.split(':')[0]}; median of {REPEAT - 20} requests over HTTP, same server")
    print(f"{'page':<14} {'ms':>7} {'ratio to bare':>14} {'queries':>8}")
    for name, t, q in rows:
        print(f"{name:<14} {t * 1000:>7.2f} {t / bare_ms:>14.2f} {q:>8}")


if __name__ == "__main__":
    main()
