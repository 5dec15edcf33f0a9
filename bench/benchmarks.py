"""Benchmarking (对标) at platform scale, in one run, on PostgreSQL (always: the rollups are
set-based SQL, and the app connects as the non-owner role `shangliang_app` under forced RLS, as
in production and `make test-services`).

    .venv/bin/python bench/benchmarks.py               # 1,000 streets, 50 counties, 2,000,000 topics
    .venv/bin/python bench/benchmarks.py --scale 0.02  # 20 streets in 2 counties, 40,000 topics: a quick run
    (or BENCH_SCALE=0.02; BENCH_WORKERS=n loader processes, default 2; BENCH_EXPLAIN=0 skips the
    EXPLAIN ANALYZE of the rebuild's slowest statement; BENCH_KEEP=1 keeps the database to look into)

A fresh database is created (and dropped at the end) on 127.0.0.1:5432 and migrated with alembic.
Streets run the five built-in procedures in turn, each with its roster (members with logins),
stations and communities. Each street gets 2,000 topics over the last year, lived through its
procedure by benchmarks/history.py (the generator behind `make demo`: every event as act() would
log it, evidence, claims, transfers, 复盘, topics still open), with the weekly meetings that
consulted them and its duty shifts. Streets differ in quality (Profile.drawn). Rows are made as
tuples and COPYed by loader processes (as the tables' owner, foreign-key triggers off for the
load: the rows are consistent by construction; the plain indexes are built after the load, then
VACUUM ANALYZE as autovacuum would). Minutes, meeting topics and work items, which the rollups do
not read, are left out.

Then it prints:
1. the county page (`/t/<county>/benchmarks/?period=<last month>`, 20 streets) against a bare
   endpoint on the same server: medians over HTTP (werkzeug, threaded) and their ratio;
2. SQL statements of the county page for a county of 100 streets and one of 1,000 (streets with
   rollup rows copied from real streets: the page reads rollups only) — they must be equal;
3. the incremental rollup after 1,000 new transitions (act() on recent open topics across the
   streets, by their administrators) — the periodic job's pass over every street, then the
   counties whose periods changed — against the full rebuild: the ratio;
4. the full rebuild against one bare SQL aggregate over the same rows (topics joined with their
   events, grouped by street), run in the same RLS scope: the ratio; and the rebuild's slowest
   statements, with EXPLAIN (ANALYZE, BUFFERS) of the slowest written to a file.
"""
from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402

from shangliang.demo import history  # noqa: E402
from shangliang.demo.history import Cast, Member, Profile, Street  # noqa: E402
from shangliang.demo.history_store import RosterPerson, plan_meetings, plan_shifts  # noqa: E402
from shangliang.benchmarks.rollups import LAG  # noqa: E402
from shangliang.procedures.schema import parse  # noqa: E402

PG = "127.0.0.1:5432"
APP_ROLE = "shangliang_app"
PASSWORD = "bench-password-123"
TZ = "Asia/Shanghai"
PROCEDURES = ("qibu_dingdan", "sanji_liangti_yizhuan", "sihuan_babu", "four_plus_x", "tiyi_banping")
TOPICS_PER_STREET = 2000
STREETS, COUNTIES = 1000, 50
TRANSITIONS = 1000
PAGE_REPEAT, BARE_REPEAT = 25, 300
EXPLAIN_FILE = Path(tempfile.gettempdir()) / "bench_benchmarks_explain.txt"
A_YEAR_AGO = datetime.now(timezone.utc) - timedelta(days=400)


# ---------------------------------------------------------------- the scratch database

class Scratch:
    """A database created for this run and dropped after it, migrated like tests/conftest.py."""

    def __init__(self):
        from conftest import migrate

        self.name = f"shangliang_bench_{uuid.uuid4().hex[:8]}"
        self.server = create_engine(f"postgresql+psycopg://postgres@{PG}/postgres", isolation_level="AUTOCOMMIT")
        with self.server.connect() as c:
            if not c.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}):
                c.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"))
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.admin_url = f"postgresql+psycopg://postgres@{PG}/{self.name}"
        self.app_url = f"postgresql+psycopg://{APP_ROLE}@{PG}/{self.name}"
        self.dsn = f"postgresql://postgres@{PG}/{self.name}"  # the loaders' (psycopg) connections
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-benchmarks-"))
        migrate(self.admin_url, self.app_url, self.tmp)

    def owner(self):
        return psycopg.connect(self.dsn, autocommit=True)

    def drop(self):
        with self.server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.server.dispose()


@contextmanager
def timed(label: str, out: dict):
    t0 = time.perf_counter()
    yield
    out[label] = time.perf_counter() - t0
    print(f"  {label}: {out[label]:.1f} s", flush=True)


# ---------------------------------------------------------------- tenants, people, places

def setup_tenants(app, scratch: Scratch, n_streets: int, n_counties: int) -> dict:
    """The platform and counties through the app; streets, their procedure versions, logins,
    rosters, stations and communities as rows (what the console and the roster import leave)."""
    from shangliang.accounts.operations import add_membership, create_user
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.demo import ensure_platform
    from shangliang.tenants.operations import create_tenant

    with app.app_context():
        platform = ensure_platform()
        viewer = create_user("county-viewer", "区县管理员", PASSWORD)
        counties = []
        for i in range(n_counties):
            county = create_tenant(None, kind="county", slug=f"county-{i}", name=f"对标区{i:02d}")
            with tenant_context(county.id):
                add_membership(county, None, viewer, "county_admin")
            counties.append(county.id)
        db.commit()
        pw_hash, viewer_id, platform_id = viewer.password_hash, viewer.id, platform.id
    rnd = random.Random("bench-tenants")
    n_templates = min(TEMPLATES, n_streets)
    with scratch.owner() as conn:
        streets = _street_rows(conn, counties, n_streets, n_templates)
        users = _users(conn, streets, pw_hash)
        for s in streets:
            s["subs"] = _roster(conn, s, users[s["id"]], rnd)
    return {"platform": platform_id, "counties": counties, "viewer": viewer_id, "streets": streets,
            "templates": n_templates}


def _street_rows(conn, counties: list[int], n: int, n_templates: int) -> list[dict]:
    """Street i is in county i mod C; the streets of a county take different street-years."""
    streets = []
    for i in range(n):
        county = counties[i % len(counties)]
        template = (i % len(counties) * 7 + i // len(counties)) % n_templates
        row = conn.execute("INSERT INTO tenants (kind, parent_id, slug, name, status, households, timezone, "
                           "created_at) VALUES ('street', %s, %s, %s, 'active', %s, %s, %s) RETURNING id",
                           (county, f"street-{i}", f"对标街道{i:04d}", 3000 + (i * 37) % 9000, TZ, A_YEAR_AGO))
        streets.append({"id": row.fetchone()[0], "county": county, "template": template, "n": i,
                        "procedure": PROCEDURES[template % len(PROCEDURES)], "version_id": uuid.uuid4()})
    texts = {p: (ROOT / "tenants" / "procedures" / f"{p}.yaml").read_text("utf-8") for p in PROCEDURES}
    parsed = {p: parse(t) for p, t in texts.items()}
    with conn.cursor().copy("COPY procedure_versions (tenant_id, id, number, template_key, name, definition, "
                            "source_text, note, published_at) FROM STDIN") as cp:
        for s in streets:
            d = parsed[s["procedure"]]
            cp.write_row((s["id"], s["version_id"], 1, d["key"], d["name"]["zh"], json.dumps(d, ensure_ascii=False),
                          texts[s["procedure"]], "", A_YEAR_AGO))
    return streets


def _users(conn, streets: list[dict], pw_hash: str) -> dict[int, dict]:
    """An administrator and three members with logins per street."""
    out = {}
    with conn.cursor() as cur:
        for s in streets:
            names = [f"s{s['n']}-admin"] + [f"s{s['n']}-m{j}" for j in range(3)]
            ids = [cur.execute("INSERT INTO users (username, display_name, password_hash, is_active, created_at) "
                               "VALUES (%s, %s, %s, true, %s) RETURNING id", (u, u, pw_hash, A_YEAR_AGO)).fetchone()[0]
                   for u in names]
            for uid, role in zip(ids, ("street_admin", "member", "member", "member")):
                cur.execute("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (%s, %s, %s, %s)",
                            (s["id"], uid, role, A_YEAR_AGO))
            out[s["id"]] = {"admin": ids[0], "members": ids[1:]}
    return out


SPECIALTIES = (("物业", "停车管理"), ("养老", "医疗"), ("法律", "邻里纠纷"), ("供暖", "老旧小区改造"))
COMMUNITIES = (("东社区", ["东一网格", "东二网格"]), ("西社区", ["西一网格"]), ("南社区", ["南一网格", "南二网格"]))
# A street's people: P0-P2 members who log in (M0-M2), P3 a member who does not, then the others.
PEOPLE = (("member", "委员甲", COMMUNITIES[0][0]), ("member", "委员乙", COMMUNITIES[1][0]),
          ("member", "委员丙", COMMUNITIES[2][0]), ("member", "委员丁", None),
          ("community_secretary", "社区书记", COMMUNITIES[0][0]), ("department_contact", "城管联络员", None),
          ("resident_rep", "居民代表", None), ("grid_worker", "网格员", COMMUNITIES[1][0]))
STATIONS = (("协商议事室", "meeting_room", COMMUNITIES[0][0]), ("庭院网格e站", "grid_station", COMMUNITIES[1][0]))


def _specialties(template: int, j: int) -> tuple:
    return SPECIALTIES[(template + j) % len(SPECIALTIES)]


def _roster(conn, street: dict, logins: dict, rnd) -> dict[str, str]:
    """Its people, two stations and three communities; returns what its street-year's tokens
    stand for in this street (history.py wrote the template with tokens for ids)."""
    tid = street["id"]
    people = [(history.uuid7(A_YEAR_AGO, rnd), logins["members"][j] if j < 3 else None, *p)
              for j, p in enumerate(PEOPLE)]
    with conn.cursor().copy("COPY roster_people (tenant_id, id, user_id, kind, name, specialties, community, "
                            "organisation, note, active, created_at, updated_at) FROM STDIN") as cp:
        for j, (pid, uid, kind, name, community) in enumerate(people):
            spec = _specialties(street["template"], j) if kind == "member" else ()
            cp.write_row((tid, pid, uid, kind, name, json.dumps(spec, ensure_ascii=False), community,
                          "街道城管中心" if kind == "department_contact" else None, "", True, A_YEAR_AGO, A_YEAR_AGO))
    stations = [history.uuid7(A_YEAR_AGO, rnd) for _ in STATIONS]
    with conn.cursor().copy("COPY stations (tenant_id, id, name, kind, community, address, hours, active) "
                            "FROM STDIN") as cp:
        for sid, (name, kind, community) in zip(stations, STATIONS):
            cp.write_row((tid, sid, name, kind, community, "", "", True))
    with conn.cursor().copy("COPY communities (tenant_id, id, name, grids, position) FROM STDIN") as cp:
        for i, (name, grids) in enumerate(COMMUNITIES):
            cp.write_row((tid, history.uuid7(A_YEAR_AGO, rnd), name, json.dumps(grids, ensure_ascii=False), i))
    subs = {"T": str(tid), "V": str(street["version_id"]), "A": str(logins["admin"])}
    subs |= {f"M{j}": str(uid) for j, uid in enumerate(logins["members"])}
    subs |= {f"P{j}": str(p[0]) for j, p in enumerate(people)}
    subs |= {f"S{j}": str(sid) for j, sid in enumerate(stations)}
    return subs


# ---------------------------------------------------------------- generating and loading (in loader processes)
#
# 100 street-years are lived by history.py, with tokens (@@T@@, @@A@@, @@M0@@, @@P3@@ …) where a
# street's own ids go; each is loaded into ten streets with those filled in. Ids of topics, events
# and meetings repeat across streets: primary keys lead with the tenant, so they need not differ.

TEMPLATES = 100
TOKEN = re.compile(r'"?@@(\w+)@@"?')  # with its quotes where it stands for a number inside JSON


def _tok(name: str) -> str:
    return f"@@{name}@@"


def _hex_id(at: datetime, rnd) -> str:
    """history.uuid7 as 32 hex digits, which COPY takes for a uuid."""
    value = (int(at.timestamp() * 1000) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76 | rnd.getrandbits(12) << 64 | 0b10 << 62 | rnd.getrandbits(62)
    return f"{value:032x}"


def _field(v) -> str:
    if v is None:
        return "\\N"
    if v is True or v is False:
        return "t" if v else "f"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    elif not isinstance(v, str):
        return str(v)
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _line(row: dict, cols: tuple) -> str:
    return "\t".join([_field(row[c]) for c in cols]) + "\n"


def _event_line(e: dict) -> str:
    """_line for topic_events, spelt out: 30,000,000 of them. Steps, phases, actions and roles are
    keys (never escaped); comments and data are."""
    n = "\\N"
    data = json.dumps(e["data"], ensure_ascii=False).replace("\\", "\\\\") if e["data"] else "{}"
    return (f"{e['tenant_id']}\t{e['id']}\t{e['topic_id']}\t{e['seq']}\t{e['action']}\t{e['from_step'] or n}\t"
            f"{e['to_step'] or n}\t{e['phase_from'] or n}\t{e['phase_to'] or n}\t{e['round']}\t"
            f"{n if e['actor_id'] is None else e['actor_id']}\t{e['actor_role'] or n}\t{e['at']}\t"
            f"{_field(e['comment']) if e['comment'] else ''}\t{data}\n")


TOPIC_COLS = ("tenant_id", "id", "number", "procedure_version_id", "step_key", "round", "status", "closed_as",
              "escalated", "overdue", "step_entered_at", "due_at", "response_due_at", "deadline_at", "title",
              "description", "channel", "category", "urgency", "community", "grid", "place", "resident_name",
              "resident_phone", "details", "receipt_hash", "created_at", "created_by", "updated_at", "version")
EVENT_COLS = ("tenant_id", "id", "topic_id", "seq", "action", "from_step", "to_step", "phase_from", "phase_to",
              "round", "actor_id", "actor_role", "at", "comment", "data")
MEETING_COLS = ("tenant_id", "id", "number", "title", "form", "starts_at", "place", "station_id", "agenda", "status",
                "created_by", "created_at", "updated_at", "version")
PARTICIPANT_COLS = ("tenant_id", "id", "meeting_id", "person_id", "name", "group", "convener", "attended")
SHIFT_COLS = ("tenant_id", "id", "station_id", "day", "person_id", "status", "swapped_from", "note", "reminded_at",
              "updated_at")
COLUMNS = {"topics": TOPIC_COLS, "topic_events": EVENT_COLS, "meetings": MEETING_COLS,
           "meeting_participants": PARTICIPANT_COLS, "duty_shifts": SHIFT_COLS, "topic_counters": ("tenant_id", "last")}
_DEADLINES: dict = {}


def _street(template: int, steps: list[dict]) -> tuple[Street, random.Random, list, list]:
    """What history.py needs to live one street-year, with tokens for the street's own ids."""
    rnd = random.Random(f"bench-street-year-{template}")
    procedure = PROCEDURES[template % len(PROCEDURES)]
    members = [Member(_tok(f"M{j}"), _tok(f"P{j}"), _specialties(template, j)) for j in range(3)]
    cast = Cast(_tok("A"), members, [(n, list(g)) for n, g in COMMUNITIES], ["街道城管中心", "区住建局", "街道综治中心"])
    _DEADLINES.setdefault(procedure, history.Deadlines(steps, TZ))  # shared: its memo warms up once

    def evidence(kind, topic_id, actor_id, at):  # a key, no attachment row: the rollups never read files
        ext, name = ("jpg", "现场照片.jpg") if kind == "photo" else ("pdf", "调研材料.pdf")
        return {"kind": kind, "key": f"tenants/{_tok('T')}/files/{_hex_id(at, rnd)}.{ext}", "name": name}

    profile = Profile.drawn(rnd, monthly=TOPICS_PER_STREET / 12 * 1.05 / 1.054)
    street = Street(_tok("T"), TZ, _tok("V"), steps, cast, profile, evidence, deadlines=_DEADLINES[procedure],
                    new_id=_hex_id)
    people = [RosterPerson(_tok(f"P{j}"), name, kind, community) for j, (kind, name, community) in enumerate(PEOPLE)]
    stations = [(_tok(f"S{j}"), name, kind, community) for j, (name, kind, community) in enumerate(STATIONS)]
    return street, rnd, people, stations


def _year(street: Street, rnd, now: datetime):
    """Exactly TOPICS_PER_STREET topics over the year (drawn from the street's intake times)."""
    times = history.intake_times(rnd, history.window(now, TZ), now, TZ, street.profile.monthly)
    if len(times) > TOPICS_PER_STREET:
        times = sorted(rnd.sample(times, TOPICS_PER_STREET))
    for i, created in enumerate(times):
        yield history.live(street, rnd, i + 1, created, now)


def street_year(template: int, steps: list[dict], now: datetime) -> dict[str, str]:
    """One street-year as COPY text per table, with tokens: topics, events, meetings,
    participants, shifts, its counter."""
    street, rnd, people, stations = _street(template, steps)
    topics, events = [], []
    for topic, log in _year(street, rnd, now):
        topics.append(topic)
        events += log
    meetings = plan_meetings(_tok("T"), TZ, topics, events, people, stations, street.profile, rnd, _tok("A"), 1, now)
    shifts = plan_shifts(_tok("T"), TZ, [], [p for p in people if p.kind == "member"], history.window(now, TZ), now,
                         street.profile, rnd, stations)
    return {"topics": "".join(_line(t, TOPIC_COLS) for t in topics),
            "topic_events": "".join(_event_line(e) for e in events),
            "meetings": "".join(_line(m, MEETING_COLS) for m in meetings["meetings"]),
            "meeting_participants": "".join(_line(p, PARTICIPANT_COLS) for p in meetings["participants"]),
            "duty_shifts": "".join(_line(s, SHIFT_COLS) for s in shifts),
            "topic_counters": f"{_tok('T')}\t{len(topics)}\n", "_counts": (len(topics), len(events))}


def _fill(text_: str, subs: dict[str, str]) -> str:
    return TOKEN.sub(lambda m: subs[m.group(1)], text_)


def loader(args) -> tuple[int, int, dict]:
    """A loader process: its street-years, each lived once and COPYed into its streets."""
    dsn, jobs, now = args
    logging.disable(logging.CRITICAL)
    topics = events = 0
    spent = {"generating": 0.0, "copying": 0.0}
    with psycopg.connect(dsn) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers: consistent by construction
        conn.execute("SET synchronous_commit = off")
        for template, steps, streets in jobs:
            t0 = time.perf_counter()
            year = street_year(template, steps, now)
            t1 = time.perf_counter()
            spent["generating"] += t1 - t0
            for subs in streets:
                _copy_street(conn, year, subs)
                topics, events = topics + year["_counts"][0], events + year["_counts"][1]
            spent["copying"] += time.perf_counter() - t1
    return topics, events, spent


def _copy_street(conn, year: dict, subs: dict) -> None:
    with conn.cursor() as cur:
        for table, cols in COLUMNS.items():
            quoted = ", ".join(f'"{c}"' for c in cols)
            with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as cp:
                cp.write(_fill(year[table], subs))
    conn.commit()


def load(scratch: Scratch, world: dict, now: datetime, workers: int) -> tuple[int, int]:
    steps = {p: parse((ROOT / "tenants" / "procedures" / f"{p}.yaml").read_text("utf-8"))["steps"]
             for p in PROCEDURES}
    jobs = [(t, steps[PROCEDURES[t % len(PROCEDURES)]], [s["subs"] for s in world["streets"] if s["template"] == t])
            for t in range(world["templates"])]
    shares = [(scratch.dsn, jobs[w::workers], now) for w in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        done = pool.map(loader, shares)
    for w, (_t, _e, spent) in enumerate(done):
        print(f"    loader {w}: generating {spent['generating']:.0f} s, COPY {spent['copying']:.0f} s", flush=True)
    return sum(d[0] for d in done), sum(d[1] for d in done)


PLAIN_INDEXES = ("topics", "topic_events")


def drop_plain_indexes(scratch: Scratch) -> list[str]:
    """The non-unique indexes of the big tables, rebuilt after the load (faster than kept up)."""
    with scratch.owner() as conn:
        rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                            "AND indexname LIKE 'ix_%%'", (list(PLAIN_INDEXES),)).fetchall()
        for name, _def in rows:
            conn.execute(f'DROP INDEX "{name}"')
    return [d for _n, d in rows]


def finish_load(scratch: Scratch, indexes: list[str], out: dict) -> None:
    with scratch.owner() as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        with timed("indexes built", out):
            for d in indexes:
                conn.execute(d)
        with timed("VACUUM ANALYZE", out):
            conn.execute("VACUUM (ANALYZE)")


def check_filled(scratch: Scratch) -> None:
    """No token of a street-year was left unfilled (looked at in one street: they are all alike)."""
    with scratch.owner() as conn:
        tid = conn.execute("SELECT min(tenant_id) FROM topic_counters").fetchone()[0]
        left = conn.execute("SELECT (SELECT count(*) FROM topic_events WHERE tenant_id = %s AND data::text LIKE "
                            "'%%@@%%') + (SELECT count(*) FROM topics WHERE tenant_id = %s AND details::text LIKE "
                            "'%%@@%%')", (tid, tid)).fetchone()[0]
    assert left == 0, f"{left} rows with unfilled tokens"


# ---------------------------------------------------------------- measuring: rebuild, bare aggregate, incremental

class Statements:
    """Each SQL statement the engine runs, with its time, while on."""

    def __init__(self, engine):
        self.engine, self.rows, self.count = engine, [], 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, params, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()
        self.count += 1

    def _after(self, conn, cursor, statement, params, context, executemany):
        self.rows.append((time.perf_counter() - conn.info.pop("bench_t0"), statement, params))


def rebuild(app, platform_id: int, street_ids: list[int] | None = None) -> tuple[float, Statements, dict]:
    from shangliang.benchmarks import rollups
    from shangliang.core.db import db, utcnow

    with app.app_context():
        with Statements(app.extensions["engine"]) as st:
            t0 = time.perf_counter()
            written = rollups.rebuild(utcnow(), tenant_ids=street_ids, acting_tenant_id=platform_id, commit=db.commit)
            return time.perf_counter() - t0, st, written


BARE = ("SELECT t.tenant_id, count(*), sum(CASE WHEN e.action = 'rate' THEN 1 ELSE 0 END), max(e.at) "
        "FROM topics t JOIN topic_events e ON e.tenant_id = t.tenant_id AND e.topic_id = t.id GROUP BY t.tenant_id")


def bare_aggregate(app, scratch: Scratch, street_ids: list[int], platform_id: int) -> tuple[float, float, int]:
    """The same rows, one aggregate: as the app role in the rebuild's scope, and as the owner."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import cross_tenant

    with app.app_context():
        with cross_tenant(street_ids, reason="bench bare aggregate", actor_id=None, acting_tenant_id=platform_id):
            t0 = time.perf_counter()
            rows = db.execute(text(BARE)).all()
            app_role = time.perf_counter() - t0
        db.rollback()
    with scratch.owner() as conn:
        t0 = time.perf_counter()
        conn.execute(BARE).fetchall()
        owner = time.perf_counter() - t0
    return app_role, owner, len(rows)


def explain_slowest(scratch: Scratch, app, st: Statements, street_ids: list[int], platform_id: int) -> list[str]:
    """The plan of the rebuild's slowest statement, in the same scope, to a file: with ANALYZE
    and BUFFERS when it ran within BENCH_EXPLAIN_LIMIT seconds (default 300), else the plan alone
    (running it again would take as long)."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import cross_tenant

    secs, statement, params = max(st.rows, key=lambda r: r[0])
    analyze = secs <= float(os.environ.get("BENCH_EXPLAIN_LIMIT", "300"))
    with app.app_context():
        with cross_tenant(street_ids, reason="bench explain", actor_id=None, acting_tenant_id=platform_id):
            conn = db.connection()
            how = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
            plan = [r[0] for r in conn.exec_driver_sql(how + statement, params)]
        db.rollback()
    EXPLAIN_FILE.write_text(f"-- {secs:.1f} s in the rebuild; {how.strip()}\n{statement}\n\n" + "\n".join(plan)
                            + "\n", "utf-8")
    return plan


def transitions(app, scratch: Scratch, n: int, seed: str = "bench-transitions") -> dict:
    """n transitions by act() on recent open topics spread across the streets, by each street's
    administrator: 转交 or 提请 where the step offers one, otherwise whatever the step still asks
    for (written down, attached, consulted, signed, rated) and then on to the next step."""
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant
    from shangliang.topics import operations as ops
    from shangliang.topics.models import Topic

    with scratch.owner() as conn:
        pool = conn.execute("SELECT t.tenant_id, t.number, m.user_id FROM topics t JOIN memberships m ON "
                            "m.tenant_id = t.tenant_id AND m.role = 'street_admin' WHERE t.status = 'open' "
                            "AND t.created_at > now() - interval '60 days' ORDER BY md5(t.id::text || %s) LIMIT %s",
                            (seed, n * 3)).fetchall()
    moves, events, streets, files, rnd = {}, 0, set(), {}, random.Random(seed)
    with app.app_context():
        for tenant_id, number, admin in pool:
            if sum(moves.values()) >= n:
                break
            street = db.get(Tenant, tenant_id)
            with tenant_context(tenant_id, admin):
                topic = db.scalar(select(Topic).where(Topic.number == number))
                plan = _work(ops, topic, admin, rnd, lambda kind: _evidence_file(files, tenant_id, kind))
                for kind, to, data in plan:
                    ops.act(street, admin, {"street_admin"}, topic, kind, expected_version=topic.version, to=to,
                            data=data)
                db.commit()
            if plan:
                moves[plan[-1][0]] = moves.get(plan[-1][0], 0) + 1
                events += len(plan)
                streets.add(tenant_id)
    return {"moves": moves, "events": events, "streets": len(streets)}


def _work(ops, topic, admin, rnd, file_of) -> list[tuple]:
    """What the administrator does to move the topic on: [(action, to, data)], the move last."""
    offered = ops.available_actions(topic, {"street_admin"}, admin)
    for a in offered:
        if a.kind in ("transfer", "escalate") and rnd.random() < 0.3:
            return [(a.kind, a.to, {"department": "区住建局", "reason": "需要上级协调"})]
    move = next((a for a in offered if a.kind in ("advance", "close")), None)
    if move is None:
        return []
    plan = []
    for item in move.missing:
        kind, _, rest = item.partition(":")
        if kind == "field":
            plan.append(("record", None, {rest: {"urgency": "normal", "channel": "wechat"}.get(rest, "补充说明")}))
        elif kind in ("photos", "attachments"):
            plan += [("attach", None, {"attachment_id": file_of(kind)})] * int(rest)
        else:
            plan.append({"consultation_record": ("consult", None, {"agreement": "议定按方案办理"}),
                         "signatures": ("sign", None, {"resident_signature": "居民", "staff_signature": "经办人"}),
                         "rating": ("rate", None, {"level": "satisfied", "via": "回访"})}[kind])
    return plan + [(move.kind, move.to, {})]


def _evidence_file(files: dict, tenant_id: int, kind: str) -> str:
    """A checked file of the street to record as evidence (the bench stores no bytes)."""
    from shangliang.core.db import db
    from shangliang.core.storage import tenant_key
    from shangliang.files.models import Attachment

    if (tenant_id, kind) not in files:
        photo = kind == "photos"
        att = Attachment(tenant_id=tenant_id, owner_kind="topic", owner_id=uuid.uuid4(), status="ready",
                         key=tenant_key(tenant_id, "files", "jpg" if photo else "pdf"), kind="photo" if photo else
                         "document", filename="现场.jpg" if photo else "材料.pdf", size=1000, declared_size=1000,
                         content_type="image/jpeg" if photo else "application/pdf")
        db.add(att)
        db.flush()
        files[(tenant_id, kind)] = str(att.id)
    return files[(tenant_id, kind)]


def incremental(app, street_ids: list[int]) -> tuple[float, int]:
    """What the periodic job does: refresh every street (the loaded ones: the cheap streets of
    the two big counties have no topics), then the counties of the streets whose periods changed.
    Returns the time and the number of streets whose rows changed."""
    from shangliang.benchmarks import rollups
    from shangliang.core.db import db, utcnow
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    with app.app_context():
        streets = list(db.scalars(select(Tenant).where(Tenant.id.in_(street_ids)).order_by(Tenant.id)))
        db.commit()
        now, changed, rewritten = utcnow(), {}, 0
        t0 = time.perf_counter()
        for street in streets:
            with tenant_context(street.id):
                periods = rollups.refresh(street, now)
                db.commit()
            if periods:
                changed.setdefault(street.parent_id, set()).update(periods)
                rewritten += 1
        for county_id, periods in changed.items():
            with tenant_context(county_id):
                rollups.derive_county(db.get(Tenant, county_id), sorted(periods), now)
                db.commit()
        seconds = time.perf_counter() - t0
    return seconds, rewritten


# ---------------------------------------------------------------- the county page

def extra_counties(app, scratch: Scratch, viewer_id: int, sizes=(100, 1000)) -> dict[int, str]:
    """Counties of 100 and 1,000 streets whose streets carry rollup rows copied from real ones."""
    from shangliang.accounts.models import User
    from shangliang.accounts.operations import add_membership
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.operations import create_tenant

    out = {}
    with app.app_context():
        viewer = db.get(User, viewer_id)
        for size in sizes:
            county = create_tenant(None, kind="county", slug=f"county-of-{size}", name=f"{size}街道区")
            with tenant_context(county.id):
                add_membership(county, None, viewer, "county_admin")
            db.commit()
            out[size] = county.slug
            _cheap_streets(scratch, county.id, size)
    return out


def _cheap_streets(scratch: Scratch, county_id: int, size: int) -> None:
    with scratch.owner() as conn:
        new = [r[0] for r in conn.execute(
            "INSERT INTO tenants (kind, parent_id, slug, name, status, households, timezone, created_at) "
            "SELECT 'street', %s, 'c' || %s || '-' || g, '街道' || g, 'active', 5000, %s, now() "
            "FROM generate_series(1, %s) g RETURNING id", (county_id, county_id, TZ, size))]
        real = [r[0] for r in conn.execute("SELECT DISTINCT tenant_id FROM topic_counters ORDER BY 1")]
        src = [real[i % len(real)] for i in range(len(new))]
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'benchmark_rollups' "
            "AND column_name <> 'tenant_id' ORDER BY ordinal_position")]
        listed = ", ".join(f'r."{c}"' for c in cols)
        conn.execute(f"INSERT INTO benchmark_rollups (tenant_id, {', '.join(cols)}) SELECT m.new_id, {listed} "
                     "FROM benchmark_rollups r JOIN unnest(%s::int[], %s::int[]) AS m(new_id, src_id) "
                     "ON r.tenant_id = m.src_id", (new, src))
        conn.execute("ANALYZE tenants; ANALYZE benchmark_rollups")


def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def session_cookie(port: int) -> str:
    """Sign in as the county administrator over HTTP; the cookie header for later requests."""
    import requests

    s = requests.Session()
    page = s.get(f"http://127.0.0.1:{port}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = s.post(f"http://127.0.0.1:{port}/login", data={"username": "county-viewer", "password": PASSWORD,
                                                       "csrf_token": token}, allow_redirects=False)
    assert r.status_code == 302, r.text[:300]
    return "; ".join(f"{k}={v}" for k, v in s.cookies.items())


def measure(port: int, path: str, repeat: int, cookie: str, engine) -> tuple[float, int]:
    """Median latency over one kept-alive connection (the first few warm up), and the SQL
    statements of the last request."""
    count = [0]

    def before(*_a):
        count[0] += 1

    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for i in range(repeat):
        if i == repeat - 1:
            event.listen(engine, "before_cursor_execute", before)
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        body = resp.read()
        times.append(time.perf_counter() - t0)
        assert resp.status == 200, (path, resp.status, body[:300])
    event.remove(engine, "before_cursor_execute", before)
    conn.close()
    return statistics.median(times[min(5, repeat // 5):]), count[0]


def pages(app, county_slug: str, big: dict[int, str], period: str) -> dict:
    server = serve(app)
    engine = app.extensions["engine"]
    try:
        port = server.server_port
        cookie = session_cookie(port)
        out = {"bare": measure(port, "/bench/bare", BARE_REPEAT, cookie, engine),
               "county": measure(port, f"/t/{county_slug}/benchmarks/?period={period}", PAGE_REPEAT, cookie, engine)}
        for size, slug in big.items():
            out[size] = measure(port, f"/t/{slug}/benchmarks/?period={period}", max(5, PAGE_REPEAT // 5), cookie,
                                engine)
    finally:
        server.shutdown()
    return out


# ---------------------------------------------------------------- the run

def make_app(scratch: Scratch):
    from shangliang import create_app
    from shangliang.config import Config
    from shangliang.core.permissions import public

    app = create_app(Config(instance_path=scratch.tmp, database_url=scratch.app_url,
                            database_admin_url=scratch.admin_url, secret_key="b" * 40))

    @public
    def bare():
        return "ok"

    app.add_url_rule("/bench/bare", "bench_bare", bare)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    args = parser.parse_args()
    n_streets = max(2, round(STREETS * args.scale))
    n_counties = max(2, min(n_streets, round(COUNTIES * args.scale)))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    t = {}
    scratch = Scratch()
    app = make_app(scratch)
    try:
        print(f"building {n_streets:,} streets in {n_counties} counties, {n_streets * TOPICS_PER_STREET:,} topics "
              f"({workers} loader processes) in {scratch.name}", flush=True)
        with timed("tenants, rosters, procedures", t):
            world = setup_tenants(app, scratch, n_streets, n_counties)
        indexes = drop_plain_indexes(scratch)
        # The year ends a little before the rollups run, so that the first incremental pass sees the
        # 1,000 new transitions (and deadlines passing meanwhile), not the last minutes of the load.
        now = datetime.now(timezone.utc) - LAG - timedelta(minutes=5)
        with timed("topics, events, meetings, shifts generated and COPYed", t):
            n_topics, n_events = load(scratch, world, now, workers)
        finish_load(scratch, indexes, t)
        check_filled(scratch)
        street_ids = [s["id"] for s in world["streets"]]
        print_report(report(app, scratch, world, street_ids, n_topics, n_events, t))
    finally:
        app.extensions["engine"].dispose()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept database {scratch.name} (BENCH_KEEP)")
        else:
            scratch.drop()


def report(app, scratch, world, street_ids, n_topics, n_events, t) -> dict:
    from shangliang.benchmarks.periods import of

    print("measuring", flush=True)
    r = {"t": t, "street_ids": street_ids, "counties": len(world["counties"]), "n_topics": n_topics,
         "n_events": n_events}
    r["full"], r["st"], written = rebuild(app, world["platform"])
    print(f"  full rebuild: {r['full']:.1f} s ({written})", flush=True)
    if os.environ.get("BENCH_EXPLAIN", "1") != "0":
        explain_slowest(scratch, app, r["st"], street_ids, world["platform"])
    r["bare_app"], r["bare_owner"], _groups = bare_aggregate(app, scratch, street_ids, world["platform"])
    print(f"  bare aggregate: {r['bare_app']:.1f} s", flush=True)
    r["moved"] = transitions(app, scratch, TRANSITIONS)
    r["incr"], r["touched"] = incremental(app, street_ids)
    print(f"  incremental pass: {r['incr']:.1f} s", flush=True)
    big = extra_counties(app, scratch, world["viewer"])
    r["period"] = of(datetime.now(timezone.utc), TZ).previous().key  # the last whole month
    with scratch.owner() as conn:
        county = conn.execute("SELECT slug FROM tenants WHERE id = %s", (world["counties"][0],)).fetchone()[0]
        r["in_county"] = conn.execute("SELECT count(*) FROM tenants WHERE parent_id = %s",
                                      (world["counties"][0],)).fetchone()[0]
    r["got"] = pages(app, county, big, r["period"])
    return r


def print_report(r: dict) -> None:
    t, st = r["t"], r["st"]
    (bare_ms, _bq), (page_ms, page_q) = r["got"]["bare"], r["got"]["county"]
    (ms100, q100), (ms1000, q1000) = r["got"][100], r["got"][1000]
    print()
    print(f"bench/benchmarks.py: {len(r['street_ids']):,} streets in {r['counties']} counties, "
          f"{r['n_topics']:,} topics, {r['n_events']:,} topic events; PostgreSQL, app as {APP_ROLE} under RLS")
    print(f"loading: rosters {t['tenants, rosters, procedures']:.0f} s, topics generated and COPYed "
          f"{t['topics, events, meetings, shifts generated and COPYed']:.0f} s, indexes {t['indexes built']:.0f} s, "
          f"VACUUM ANALYZE {t['VACUUM ANALYZE']:.0f} s")
    print(f"1. county page ({r['in_county']} streets, period {r['period']}) against a bare endpoint, same server, "
          f"median over HTTP")
    print(f"   county page {page_ms * 1000:9.1f} ms   bare endpoint {bare_ms * 1000:6.2f} ms   "
          f"ratio {page_ms / bare_ms:,.0f}   ({page_q} SQL statements)")
    print(f"2. SQL statements per county page: 100 streets {q100}, 1,000 streets {q1000}  "
          f"({'equal' if q100 == q1000 else 'NOT EQUAL'}; latency {ms100 * 1000:.0f} ms and {ms1000 * 1000:.0f} ms)")
    moved = r["moved"]
    acts = ", ".join(f"{k} {v}" for k, v in sorted(moved["moves"].items()))
    print(f"3. incremental rollup after {sum(moved['moves'].values()):,} new transitions ({acts}; with the evidence "
          f"they needed, {moved['events']:,} events) in {moved['streets']} streets ({r['touched']} streets' rows "
          f"rewritten): the periodic pass over every street {r['incr']:.1f} s, "
          f"full rebuild {r['full']:.1f} s, ratio {r['incr'] / r['full']:.3f}")
    print(f"4. full rebuild {r['full']:.1f} s against one bare aggregate over the same rows "
          f"{r['bare_app']:.1f} s (same RLS scope; {r['bare_owner']:.1f} s as the owner, without RLS): "
          f"ratio {r['full'] / r['bare_app']:.1f} ({r['full'] / r['bare_owner']:.1f} to the owner's)")
    print(f"   the rebuild ran {len(st.rows)} statements; the slowest (the plan of the first in {EXPLAIN_FILE}):")
    for secs, statement, _p in sorted(st.rows, key=lambda x: -x[0])[:5]:
        print(f"   {secs:7.1f} s  {' '.join(statement.split())[:110]}")

if __name__ == "__main__":
    main()
