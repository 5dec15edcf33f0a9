"""Processes and plumbing for the job tests: bounded waits, worker processes, a private
redis-server and a TCP proxy that can take a broker off the network and bring it back."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
WORKER_SCRIPT = TESTS / "support" / "worker.py"


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.05, details=lambda: ""):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = details()
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}" + (f"\n{extra}" if extra else ""))
        time.sleep(interval)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def app_env(cfg, **extra) -> dict:
    """The environment that makes `create_app()` in another process match `cfg`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "BROKER_", "DATABASE_"))}
    env.update({
        "DATABASE_URL": cfg.database_url,
        "DATABASE_ADMIN_URL": cfg.database_admin_url,
        "SECRET_KEY": cfg.secret_key,
        "SHANGLIANG_ENV": "development",
        "SHANGLIANG_INSTANCE": str(cfg.instance_path),
        "JOBS_QUEUE": cfg.jobs_queue,
        "BROKER_NAMESPACE": cfg.broker_namespace,
        "BROKER_HEARTBEAT_MS": str(cfg.broker_heartbeat_ms),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
        "dramatiq_restart_delay": "200",  # reconnect a lost consumer after 0.2 s, not 3 s
        # this checkout's code, whatever the shared virtualenv's editable install points at
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS.parent / "platform"), os.environ.get("PYTHONPATH")])),
    })
    if cfg.broker_url:
        env["BROKER_URL"] = cfg.broker_url
    env.update(extra)
    return env


class Proc:
    """A child process in its own process group, output to a log file."""

    def __init__(self, args, env, log: Path, cwd=TESTS.parent):
        self.log = log
        self._fh = open(log, "ab")
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._fh, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, n: int = 40) -> str:
        return f"--- {self.log.name} (last {n} lines) ---\n" + "\n".join(self.output().splitlines()[-n:])

    def wait_output(self, text: str, timeout: float) -> None:
        def seen():
            if self.popen.poll() is not None and text not in self.output():
                raise AssertionError(f"process exited ({self.popen.returncode}) before printing {text!r}\n"
                                     + self.tail())
            return text in self.output()

        wait_for(seen, timeout=timeout, what=f"{text!r} from pid {self.pid}", details=self.tail)

    def sigkill(self) -> None:
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._fh.close()


def start_worker(cfg, log: Path, *, command=None, **env) -> Proc:
    """`command=None`: tests/support/worker.py (with the test actors); or e.g. ["worker"] for the CLI."""
    if command is None:
        args, ready = [sys.executable, str(WORKER_SCRIPT)], "worker ready"
    else:
        args, ready = [str(Path(sys.executable).with_name("shangliang")), *command], "worker: "
    proc = Proc(args, app_env(cfg, **env), log)
    try:
        proc.wait_output(ready, timeout=30)
    except BaseException:
        proc.stop()
        raise
    return proc


class RedisServer:
    """A private, non-persistent redis-server on a free loopback port that tests may stop."""

    def __init__(self, workdir: Path):
        self.port, self.workdir, self.proc = free_port(), workdir, None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed"
        self.proc = Proc([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", str(self.workdir), "--daemonize", "no"], dict(os.environ),
                         self.workdir / "redis.log", cwd=self.workdir)
        wait_for(lambda: port_open(self.port), timeout=10, what=f"redis-server on port {self.port}",
                 details=self.proc.tail)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        wait_for(lambda: not port_open(self.port), timeout=10, what=f"redis-server on {self.port} to stop")


class TcpProxy:
    """Forwards a loopback port to a broker; `stop()` takes the broker off the network (the
    listener is closed and every open connection is cut), `start()` brings it back."""

    def __init__(self, upstream_port: int):
        self.upstream_port, self.port = upstream_port, free_port()
        self._listener = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = threading.Event()

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.1)
        self._listener = sock
        self._running.set()
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def stop(self) -> None:
        self._running.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, set()
        for c in conns:
            _cut(c)

    def _accept(self, listener) -> None:
        while self._running.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                _cut(client)
                continue
            client.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _cut(src)
            _cut(dst)
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)


def _cut(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
