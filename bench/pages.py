"""Pages against the fixed cost of a request, served as in production, in one run.

    .venv/bin/python bench/pages.py                  # wrk -t2 -c16 -d20s per measure, 3 repetitions
    BENCH_SECONDS=3 .venv/bin/python bench/pages.py  # a quick run
    (BENCH_REPEAT=n repetitions; BENCH_STREET=slug, default yanshan, signed in as <slug>-admin;
    BENCH_TODAY=YYYY-MM-DD the demo's last day, default today; BENCH_BROKER=redis://… or '' for none,
    default Redis on 127.0.0.1:6379 when it answers; WEB_WORKERS/WEB_THREADS as for the conf)

A scratch PostgreSQL database on 127.0.0.1 (bench/benchmarks.py's Scratch: migrated by alembic as
`shangliang db upgrade` does) gets `shangliang demo load --today`. Two gunicorn servers run with
infra/gunicorn.conf.py, the same workers and threads: the app (shangliang.wsgi, as the
`shangliang_app` role under forced RLS, SHANGLIANG_ENV=production) with one bench route,
`/t/<slug>/bench/bare` (bench/pages_wsgi.py), and a hello-world Flask app. wrk (Debian package;
`make bench` installs it) measures, interleaved in each repetition: hello-world, the bare route,
the board, a topic page (signed in as the street's administrator) and the portal home
(anonymous, as residents see it), then /healthz alone. Prints each ratio's min / median / max
over the repetitions, worker memory after the repetition against hello-world's (resident and
proportional sets), and every /healthz answer that was not 200: polled ten times a second
during the page runs (as a load balancer would) and under wrk of its own, with why (the checks
the body names).
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import shangliang  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from benchmarks import Scratch  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
STREET = os.environ.get("BENCH_STREET", "yanshan")
PASSWORD = "shangliang-demo"  # every demo login's (cli.DEMO_PASSWORD)
WRK = ("-t2", "-c16", "--timeout", "30s")  # slow pages must count as slow, not as wrk's 2 s timeouts
POLL_MS = 100
LOADS: list[subprocess.Popen] = []  # every wrk started, stopped at the end if still running
GOALS = {"bare": ">= 0.5", "board": ">= 0.35", "topic": ">= 0.35", "portal": ">= 0.5", "rss": "<= 1.5"}

# wrk counts every answer by status and keeps the first body of each non-200 one; with
# POLL_MS set it waits that long between requests, as a load balancer's health check does.
LUA = """
counts, samples = {}, {}
local pause = tonumber(os.getenv("POLL_MS") or "0")
if pause > 0 then function delay() return pause end end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status ~= 200 then
    local why = {}
    for check, err in string.gmatch(body or "", '"(%w+)":%s*"error: ([%w_.]+)"') do
      why[#why + 1] = check .. " " .. err
    end
    local key = status .. " " .. (#why > 0 and table.concat(why, ", ") or "(no failing check named)")
    samples[key] = (samples[key] or 0) + 1
  end
end
threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do io.write(string.format("STATUS %d %d\\n", status, n)) end
    for key, n in pairs(t:get("samples")) do io.write(string.format("WHY %d %s\\n", n, key)) end
  end
end
"""


# ---------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(scratch: Scratch) -> dict:
    """What a production web node is given (config.from_env), plus where this checkout's code is."""
    env = dict(os.environ, DATABASE_URL=scratch.app_url, DATABASE_ADMIN_URL=scratch.admin_url,
               SECRET_KEY=secrets.token_urlsafe(48), SHANGLIANG_ENV="production",
               SHANGLIANG_INSTANCE=str(scratch.tmp),
               PYTHONPATH=os.pathsep.join([str(Path(shangliang.__file__).parents[1]), str(ROOT / "bench")]))
    broker = os.environ.get("BENCH_BROKER")
    if broker is None:
        with socket.socket() as s:
            s.settimeout(1)
            broker = "redis://127.0.0.1:6379/14" if s.connect_ex(("127.0.0.1", 6379)) == 0 else ""
    for name in [n for n in env if n.startswith("S3_") or n.startswith("BROKER_")]:
        del env[name]  # this run's services only: the object store is the instance folder
    if broker:
        env |= {"BROKER_URL": broker, "BROKER_NAMESPACE": f"shangliang-bench-{uuid.uuid4().hex[:8]}"}
    return env


class Server:
    """gunicorn -c infra/gunicorn.conf.py <app> on a free loopback port, its log in a file."""

    def __init__(self, name: str, target: str, env: dict, ready_path: str, log_dir: Path):
        self.name, self.port = name, free_port()
        self.log = log_dir / f"gunicorn-{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "infra" / "gunicorn.conf.py"), target],
                cwd=ROOT, env=env | {"BIND": f"127.0.0.1:{self.port}"}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)  # Ctrl-C reaches the bench, which stops the server itself
        self.ready_path, self.env = ready_path, env

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                up = get(self.port, self.ready_path)[0] == 200
                if up and len(self.workers()) >= self.expected_workers(self.env):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} server not ready after 90 s:\n{self.tail()}")
            time.sleep(0.3)

    @staticmethod
    def expected_workers(env: dict) -> int:
        return int(env.get("WEB_WORKERS") or os.cpu_count() * 2 + 1)  # as the conf reckons them

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
        except OSError:
            return []

    def worker_mb(self, measure: str) -> float:
        """The largest worker's resident set (`Rss`) or proportional set (`Pss`: pages shared with
        the master and the other workers counted by share, what a worker adds to the machine's
        memory); the largest is the one longest in use (max_requests recycles workers)."""
        sizes = []
        for pid in self.workers():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue  # recycled meanwhile
            sizes.append(int(re.search(rf"^{measure}:\s+(\d+) kB", rollup, re.M).group(1)) / 1024)
        return max(sizes)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])


def stop(servers: list[Server]) -> None:
    """Gracefully (SIGTERM: workers finish what they serve), all at once: each takes seconds."""
    for s in servers:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
    for s in servers:
        try:
            s.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            s.proc.kill()  # its workers notice their parent gone and exit
            s.proc.wait()


# ---------------------------------------------------------------- HTTP

def get(port: int, path: str, cookie: str = "", method: str = "GET", body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def sign_in(port: int, username: str) -> str:
    """POST /login with the form's CSRF token; the Cookie header of the signed-in session. The
    cookies are Secure (production), which an HTTP client's cookie jar would not send back here."""
    jar = SimpleCookie()

    def keep(headers):
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar.load(value)

    status, headers, page = get(port, "/login")
    keep(headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urlencode({"username": username, "password": PASSWORD, "csrf_token": token, "next": ""})
    status, headers, page = get(port, "/login", "; ".join(f"{k}={m.value}" for k, m in jar.items()), "POST", form)
    keep(headers)
    if status != 302:
        raise RuntimeError(f"sign-in as {username} answered {status}: {page[:300]}")
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def wrk(url: str, seconds: int, cookie: str = "", lua: Path | None = None, poll: bool = False):
    args = ["wrk", *(("-t1", "-c1") if poll else WRK), f"-d{seconds}s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    if lua:
        args += ["-s", str(lua)]
    env = dict(os.environ, POLL_MS=str(POLL_MS if poll else 0))
    proc = subprocess.Popen(args + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    LOADS.append(proc)
    return proc


def result(proc) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    statuses: dict[int, int] = {}
    for code, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M):
        statuses[int(code)] = statuses.get(int(code), 0) + int(n)
    why: dict[str, int] = {}
    for n, key in re.findall(r"^WHY (\d+) (.+)$", out, re.M):
        why[key] = why.get(key, 0) + int(n)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non2xx": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
            "statuses": statuses, "why": why}


# ---------------------------------------------------------------- the run

def demo_load(env: dict) -> None:
    today = os.environ.get("BENCH_TODAY") or date.today().isoformat()
    cli = Path(sys.executable).with_name("shangliang")
    done = subprocess.run([str(cli), "demo", "load", "--today", today], env=env, cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"shangliang demo load failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def a_topic(scratch: Scratch) -> int:
    """The street's newest open topic: one with actions to offer and people to suggest."""
    engine = create_engine(scratch.admin_url)
    try:
        with engine.connect() as c:
            return c.scalar(text("SELECT t.number FROM topics t JOIN tenants s ON s.id = t.tenant_id "
                                 "WHERE s.slug = :slug AND t.status = 'open' ORDER BY t.number DESC LIMIT 1"),
                            {"slug": STREET})
    finally:
        engine.dispose()


def measure(hello: Server, app: Server, cookie: str, topic: int, lua: Path) -> dict:
    targets = [("hello", hello, "/", ""), ("bare", app, f"/t/{STREET}/bench/bare", cookie),
               ("board", app, f"/t/{STREET}/topics/", cookie), ("topic", app, f"/t/{STREET}/topics/{topic}", cookie),
               ("portal", app, f"/t/{STREET}/", "")]
    for name, server, path, c in targets:
        status, _h, body = get(server.port, path, c)
        if status != 200:
            raise RuntimeError(f"{name} {path} answered {status}, not 200: {body[:300]}")
    print(f"warming up ({len(targets)} × {min(3, SECONDS)} s)", flush=True)
    for name, server, path, c in targets:
        result(wrk(server.url(path), min(3, SECONDS), c))
    runs = {name: [] for name, *_ in targets} | {"healthz": [], "polled": [], "rss_app": [], "rss_hello": [],
                                                   "pss_app": [], "pss_hello": []}
    for rep in range(REPEAT):
        for name, server, path, c in targets:
            load = wrk(server.url(path), SECONDS, c)
            poller = wrk(app.url("/healthz"), SECONDS, lua=lua, poll=True) if server is app else None
            got = result(load)
            if got["non2xx"] or got["socket_errors"]:
                raise RuntimeError(f"{name}: {got['non2xx']} non-2xx answers, {got['socket_errors']} socket errors")
            runs[name].append(got["rps"])
            if poller:
                runs["polled"].append(result(poller))
        runs["healthz"].append(result(wrk(app.url("/healthz"), SECONDS, lua=lua)))
        for measure in ("rss", "pss"):
            runs[f"{measure}_app"].append(app.worker_mb(measure.capitalize()))
            runs[f"{measure}_hello"].append(hello.worker_mb(measure.capitalize()))
        print(f"  repetition {rep + 1}/{REPEAT}: " + ", ".join(f"{n} {runs[n][-1]:,.1f}" for n, *_ in targets)
              + f" req/s; /healthz {runs['healthz'][-1]['rps']:,.0f} req/s", flush=True)
    return runs


def spread(values: list[float]) -> str:
    return f"{min(values):7.3f} {statistics.median(values):7.3f} {max(values):7.3f}"


def span(values: list[float], unit: str = "") -> str:
    return f"{min(values):,.1f}-{max(values):,.1f}" + (f" {unit}" if unit else "")


def healthz_line(label: str, results: list[dict]) -> str:
    total = sum(sum(r["statuses"].values()) for r in results)
    bad = sum(n for r in results for code, n in r["statuses"].items() if code != 200)
    why: dict[str, int] = {}
    for r in results:
        for key, n in r["why"].items():
            why[key] = why.get(key, 0) + n
    reasons = "; ".join(f"{n} × {key}" for key, n in sorted(why.items(), key=lambda kv: -kv[1]))
    share = f" ({bad / total:.1%})" if total else ""
    return f"  {label}: {bad:,} of {total:,} answers not 200{share}" + (f": {reasons}" if reasons else "")


def report(runs: dict, topic: int, env: dict) -> None:
    hello, bare = runs["hello"], runs["bare"]
    threads = env.get("WEB_THREADS") or 4
    print()
    print(f"bench/pages.py: demo on PostgreSQL as shangliang_app under forced RLS; gunicorn -c infra/gunicorn.conf.py "
          f"({Server.expected_workers(env)} workers × {threads} threads, gthread), broker "
          f"{env.get('BROKER_URL') or 'none'}; wrk {' '.join(WRK[:2])} -d{SECONDS}s; {REPEAT} interleaved repetitions; "
          f"{os.cpu_count()} cores")
    print(f"  pages of {STREET} signed in as {STREET}-admin (topic {topic}), the portal anonymous")
    print()
    print(f"  {'measure':<46} {'min':>7} {'median':>7} {'max':>7}   goal     req/s (or MB)")
    rows = [("bare tenant route / hello-world (req/s)", [b / h for b, h in zip(bare, hello)], "bare",
             f"bare {span(bare)}, hello {span(hello)}")]
    for key, label in (("board", "board page / bare route"), ("topic", "topic page / bare route"),
                       ("portal", "portal home / bare route")):
        rows.append((label, [p / b for p, b in zip(runs[key], bare)], key, span(runs[key])))
    for measure in ("rss", "pss"):
        app_mb, hello_mb = runs[f"{measure}_app"], runs[f"{measure}_hello"]
        rows.append((f"worker {measure.upper()} after warm-up / hello-world worker", [a / h for a, h in zip(app_mb, hello_mb)],
                     "rss", f"{span(app_mb, 'MB')} / {span(hello_mb, 'MB')}"))
    for label, ratios, key, raw in rows:
        print(f"  {label:<46} {spread(ratios)}   {GOALS[key]:<8} {raw}")
    print()
    print("/healthz (503 'degraded' when a check fails; answers counted by wrk's Lua, why from the body's checks):")
    print(healthz_line(f"polled every {POLL_MS} ms during the {len(runs['polled'])} app page runs", runs["polled"]))
    rps = [r["rps"] for r in runs["healthz"]]
    print(healthz_line(f"under wrk {' '.join(WRK[:2])} of its own ({span(rps, 'req/s')})", runs["healthz"]))


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench/pages.py needs wrk: `make wrk` (apt-get install wrk)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill runs the clean-up below, as Ctrl-C does
    print("scratch database, migrated", flush=True)
    scratch = Scratch()
    servers: list[Server] = []
    try:
        env = app_env(scratch)
        print(f"shangliang demo load into {scratch.name}", flush=True)
        demo_load(env)
        topic = a_topic(scratch)
        lua = scratch.tmp / "healthz.lua"
        lua.write_text(LUA)
        print("starting gunicorn: the app and hello-world", flush=True)
        servers.append(Server("app", "pages_wsgi:shangliang()", env, "/healthz", scratch.tmp))
        servers.append(Server("hello", "pages_wsgi:hello()", env, "/", scratch.tmp))
        app, hello = servers
        for s in servers:
            s.wait_ready()
        cookie = sign_in(app.port, f"{STREET}-admin")
        report(measure(hello, app, cookie, topic, lua), topic, env)
    except Exception:
        for s in servers:
            print(f"--- last lines of {s.log.name}:\n{s.tail(15)}", file=sys.stderr)
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not leave the servers or the database
        for proc in LOADS:
            if proc.poll() is None:
                proc.kill()
        stop(servers)
        scratch.drop()
        shutil.rmtree(scratch.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
