"""gunicorn settings for the web process: `gunicorn -c infra/gunicorn.conf.py shangliang.wsgi:app`.

Web nodes are stateless (sessions in the database, files in object storage), so
scale out by running more of them behind nginx.
"""
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
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_field_size = 8190
preload_app = False


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
