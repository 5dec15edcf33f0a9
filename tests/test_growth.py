"""Pages that stay flat as a street's topics grow, at 100,000 topics: the portal's home and 公示
read their published topics off an index (the plan, on PostgreSQL under RLS and on SQLite), and
the board's counts come from a few rows that agree with the topics."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, event, func, select, text

from conftest import SERVICES
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.procedures.operations import current_version, publish
from shangliang.topics.counts import recount
from shangliang.topics.models import Topic, TopicCounter
from support.databases import build_once, config, world  # noqa: F401
from support.procedures import SMALL

N = 100_000
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
# Of every ten topics: eight open at 点单, one closed as done, one refused (不予受理), both at 收单.
_SHAPE = """CASE WHEN i % 10 < 8 THEN 'dian' ELSE 'shou' END, 1,
       CASE WHEN i % 10 < 8 THEN 'open' ELSE 'closed' END,
       CASE i % 10 WHEN 8 THEN 'done' WHEN 9 THEN 'out_of_scope' END"""
_COLUMNS = ("tenant_id, id, number, procedure_version_id, step_key, round, status, closed_as, escalated, overdue, "
            "step_entered_at, title, description, channel, urgency, details, created_at, updated_at, version, "
            "published_at")
# Rows made by the database itself (generate_series, a recursive CTE): 100,000 in a second or two.
BULK = {
    "postgresql": f"""
INSERT INTO topics ({_COLUMNS})
SELECT :tenant, md5('bulk-' || i::text)::uuid, i + 1, :version, {_SHAPE},
       false, false, t_at, '议题 ' || i::text, '', 'wechat', 'normal', '{{}}', t_at, t_at, 1,
       CASE i % 10 WHEN 8 THEN t_at END
FROM (SELECT i, CAST(:start AS timestamptz) + i * interval '1 minute' AS t_at FROM generate_series(0, :n - 1) AS i) g""",
    "sqlite": f"""
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < :n - 1)
INSERT INTO topics ({_COLUMNS})
SELECT :tenant, printf('%032x', i + 1), i + 1, :version, {_SHAPE},
       0, 0, t_at, '议题 ' || i, '', 'wechat', 'normal', '{{}}', t_at, t_at, 1,
       CASE i % 10 WHEN 8 THEN t_at END
FROM (SELECT i, strftime('%Y-%m-%d %H:%M:%S', :start, '+' || i || ' minutes') || '.000000' AS t_at FROM g)""",
}

# a board column's count (topics/_board.html), after its overdue mark if it has one
COUNT = r'<span class="counts">(?:<span class="late"[^>]*>[^<]*</span>)?<span class="count">(\d+)</span>'


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """燕山街道 with N topics (its procedure: SMALL), built once for the module."""
    def build(world):
        with tenant_context(world.yanshan.id):
            publish(world.yanshan, None, SMALL)
            version = current_version(world.yanshan)
            conn = db.connection()
            start = START if SERVICES else START.strftime("%Y-%m-%d %H:%M:%S")
            conn.execute(text(BULK[conn.dialect.name]), {"tenant": world.yanshan.id, "start": start, "n": N,
                                                         "version": version.id if SERVICES else version.id.hex})
            db.add(TopicCounter(tenant_id=world.yanshan.id, last=N))
            recount(world.yanshan.id)

    made = build_once(request, tmp_path_factory, build)
    if SERVICES:  # as autovacuum would on a live database (the embedded SQLite file is never analysed)
        owner = create_engine(made.config.database_admin_url)  # ANALYZE is the tables' owner's
        with owner.begin() as c:
            c.execute(text("ANALYZE"))
        owner.dispose()
    return made


@pytest.fixture
def big_street(built):
    return built.world.yanshan


def statements_of(app, client, url) -> list[tuple[str, object]]:
    """Every (SQL, parameters) the request ran."""
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def concluded_statement(app, client, url) -> tuple[str, object]:
    found = [(s, p) for s, p in statements_of(app, client, url)
             if "FROM topics" in s and "ORDER BY topics.published_at DESC" in s]
    assert len(found) == 1, found
    return found[0]


def plan(statement: str, parameters) -> dict | list:
    """The plan of the statement as the page ran it, inside the street's scope (and its RLS)."""
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
    return [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from nodes(child)


@pytest.mark.parametrize("url, limit", [("/t/yanshan/", 4), ("/t/yanshan/gongshi", 11),
                                        ("/t/yanshan/gongshi?page=50", 11)])
def test_the_portal_reads_concluded_topics_off_an_index_at_100k_topics(app, client, big_street, url, limit):
    statement, parameters = concluded_statement(app, client, url)
    with app.app_context(), tenant_context(big_street.id):
        steps = plan(statement, parameters)
    if SERVICES:
        every = list(nodes(steps))
        assert not [n for n in every if n["Node Type"] == "Sort"], every  # no top-N sort of the closed topics
        scan = next(n for n in every if n.get("Index Name") == "ix_topics_tenant_published")
        assert scan["Node Type"] == "Index Scan" and scan["Scan Direction"] == "Backward", scan
        offset = 490 if "page=50" in url else 0
        # The rows read are the rows shown (and the one more that says whether there is a next page).
        assert scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) <= offset + limit, scan
    else:
        assert any("USING INDEX ix_topics_tenant_published" in s for s in steps), steps
        assert not any("TEMP B-TREE" in s for s in steps), steps  # the order is the index's: no sort


def test_the_portal_shows_the_newest_concluded_topics(client, big_street):
    html = client.get("/t/yanshan/").get_data(as_text=True)
    newest = [i for i in range(N - 1, N - 100, -1) if i % 10 == 8][:4]  # done, latest updated first
    shown = [int(n) for n in re.findall(r"议题 (\d+)", html)]
    assert shown[:4] == newest, shown


def test_the_board_counts_a_big_street_from_its_counts(app, as_user, big_street):
    board = as_user("yanshan-admin")
    html = board.get("/t/yanshan/topics/").get_data(as_text=True)
    assert dict(re.findall(r'<span>(点单|收单)</span>\s*' + COUNT, html)) == \
        {"点单": str(N * 8 // 10), "收单": "0"}
    closed = board.get("/t/yanshan/topics/?status=closed").get_data(as_text=True)
    assert re.search(r'<span>收单</span>\s*' + COUNT, closed).group(1) == str(N // 5)
    with app.app_context(), tenant_context(big_street.id):
        assert db.scalar(select(func.count()).select_from(Topic).where(Topic.status == "open")) == N * 8 // 10
