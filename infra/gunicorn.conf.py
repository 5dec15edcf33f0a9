"""gunicorn settings for the web process: `gunicorn -c infra/gunicorn.conf.py shangliang.wsgi:app`.

Web nodes are stateless (sessions in the database, files in object storage), so
scale out by running more of them behind nginx.
"""
import gc
import multiprocessing
import os
import sys

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 200
# The app is built once, in the master, and each worker is a fork of it: a recycled worker starts in
# milliseconds instead of importing and building the app again (about a second and a half of CPU,
# every 2,000 requests per worker), and the workers share the app's pages (memory per worker is
# what it changes, not the whole app). Connections the master opened (its start-up checks) are never
# shared: core/db and core/storage give a forked process its own.
preload_app = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_field_size = 8190


def pre_fork(server, worker):
    """Objects the master built are never collected again: the collector touching them in a worker
    would copy every shared page it visits (gc.freeze, as the gc module's documentation advises)."""
    gc.freeze()


def on_starting(server):
    """Check configuration once in the master: a bad setting stops start-up with one line."""
    from shangliang.config import ConfigError, check_services, from_env

    try:
        cfg = from_env()
        from shangliang.core.db import make_engine
        from shangliang.core.storage import make_storage

        engine = make_engine(cfg.database_url)
        check_services(cfg, engine, make_storage(cfg))
        engine.dispose()
    except ConfigError as exc:
        print(f"shangliang: configuration error: {exc}", file=sys.stderr, flush=True)
        os._exit(2)
