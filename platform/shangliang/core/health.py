"""GET /healthz: each service the process needs, "ok" or what is wrong with it in words an
operator can act on (which database, folder, bucket or broker, and why), never a password."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .db import db
from .permissions import public
from ..config import ConfigError, check_broker, first_line, safe_url

bp = Blueprint("health", __name__)


def _probe(fn, where: str = "") -> str:
    try:
        fn()
        return "ok"
    except ConfigError as exc:  # check_broker's own words name the broker already
        return f"error: {exc.problem}"
    except Exception as exc:  # report, never raise: this page is for load balancers and people
        return f"error: {where}: {first_line(exc)}" if where else f"error: {first_line(exc)}"


def _database() -> str:
    cfg = current_app.config["SHANGLIANG"]
    return _probe(lambda: db.execute(text("SELECT 1")), f"cannot use {safe_url(cfg.database_url)}")


def _storage() -> str:
    store = current_app.extensions["storage"]
    return _probe(store.check, f"cannot use {store.describe()}")


def _broker() -> str:
    url = current_app.config["SHANGLIANG"].broker_url
    return _probe(lambda: check_broker(url)) if url else "ok (in-process)"


CHECKS = {"database": _database, "storage": _storage, "broker": _broker}


@bp.get("/healthz")
@public
def healthz():
    checks = {name: check() for name, check in CHECKS.items()}
    ok = all(v.startswith("ok") for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503
