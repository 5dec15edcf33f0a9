from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .db import db
from .permissions import public
from ..config import check_broker

bp = Blueprint("health", __name__)


def _probe(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:  # report, never raise: this page is for load balancers and people
        return f"error: {type(exc).__name__}"


def _broker() -> None:
    url = current_app.config["SHANGLIANG"].broker_url
    if url:
        check_broker(url)


@bp.get("/healthz")
@public
def healthz():
    checks = {
        "database": _probe(lambda: db.execute(text("SELECT 1"))),
        "storage": _probe(current_app.extensions["storage"].check),
        "broker": _probe(_broker) if current_app.config["SHANGLIANG"].broker_url else "ok (in-process)",
    }
    ok = all(v.startswith("ok") for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if ok else 503
