"""The endpoints the county's 12345 platform calls, under /api/v1/t/<county>/hotline/:

    POST orders                  a work order, new or updated (201 new, 200 otherwise)
    GET  orders/<number>         where it stands: its street and topic, or the queue
    POST orders/<number>/visit   the 回访 result: the resident's evaluation

No token and no cookie: each request is signed as webhooks are (integrations/signing.py), with the
county account's secret: `X-Shangliang-Timestamp` (Unix seconds) and `X-Shangliang-Signature:
v1=<hex HMAC-SHA256 of "timestamp.body">` (an empty body for GET). Unsigned, badly signed,
outside the timestamp window, or the same signed request a second time: 401, and nothing is done.
Errors answer the API's one JSON shape (core/errors.error_body). The OpenAPI document describes them
(api/hotline.py, under the `hotline_signature` security scheme); so does README.md."""
from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from flask import Blueprint, abort, g, jsonify, make_response, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ...core.db import db, utcnow
from ...core.errors import error_body
from ...core.permissions import public
from .. import signing
from . import accounts, orders, visits
from .intake import receive
from .models import HotlineAccount, HotlineOrder, HotlineRequest

bp = Blueprint("hotline_api", __name__, url_prefix="/api/v1/t/<slug>/hotline")
TIMESTAMP, SIGNATURE = "X-Shangliang-Timestamp", "X-Shangliang-Signature"


def _stop(status: int, code: str, message: str):
    abort(make_response(jsonify(error_body(code, message)), status))


def _unauthorized(message: str):
    _stop(401, "unauthorized", message)


def signed() -> HotlineAccount:
    """The county's account, when this request carries its valid, fresh, first-seen signature.
    Nothing is written here: every read (routing's audited one among them) comes before the
    request's first write, and the signature is remembered with the request's effect (`seen`)."""
    county = g.get("tenant")
    if county is None or county.kind != "county":
        _stop(404, "not_found", "no such county")
    ts, given = request.headers.get(TIMESTAMP, ""), request.headers.get(SIGNATURE, "")
    if not ts or not given:
        _unauthorized(f"缺少签名：请带上 {TIMESTAMP} 和 {SIGNATURE} 请求头")
    account = accounts.of(county)
    if account is None or not account.active:
        _unauthorized("本区县没有启用的 12345 热线账号")
    try:
        secret = accounts.secret_of(account)
    except signing.Unreadable:
        _unauthorized("热线账号的密钥无法读取（系统密钥已更换），请在区县页面更换密钥")
    if not ts.isdigit() or abs(time.time() - int(ts)) > signing.REPLAY_WINDOW:
        _unauthorized(f"签名时间戳已过期或无效：须为 {signing.REPLAY_WINDOW} 秒内的 Unix 秒数")
    if not signing.verify(secret, ts, request.get_data(), given):
        _unauthorized("签名不符：请用本区县热线账号的密钥签名 “时间戳.请求体”")
    g.hotline_signature = hashlib.sha256(given.encode()).hexdigest()
    if db.get(HotlineRequest, (county.id, g.hotline_signature)) is not None:
        _replayed()
    return account


def _replayed():
    _unauthorized("重复的请求：同一个签名只能使用一次，请重新签名后发送")


def seen() -> None:
    """The signature kept, with what the request did, for as long as its timestamp would pass: sent
    again, it is a replay (two at once: the second finds the first's row and is refused)."""
    try:
        with db.begin_nested():
            db.add(HotlineRequest(tenant_id=g.tenant.id, signature=g.hotline_signature, seen_at=utcnow()))
    except IntegrityError:
        _replayed()
    db.execute(delete(HotlineRequest).where(
        HotlineRequest.seen_at < utcnow() - timedelta(seconds=2 * signing.REPLAY_WINDOW))
        .execution_options(synchronize_session=False))


def order_json(row: HotlineOrder, status: str | None = None) -> dict:
    street = db.get(type(g.tenant), row.street_id) if row.street_id else None
    out = {"number": row.number, "state": row.state,
           "street": {"slug": street.slug, "name": street.name} if street else None,
           "topic": {"number": row.topic_number} if row.topic_number else None,
           "queue_reason": row.queue_reason, "updates": row.updates}
    return out | ({"result": status} if status else {})


def _order(number: str) -> HotlineOrder:
    row = orders.find(number)
    if row is None:
        _stop(404, "not_found", f"没有编号为 {number} 的工单")
    return row


@bp.post("/orders")
@public
def receive_order():
    account = signed()
    order = orders.parse(request.get_json(silent=True), g.tenant.timezone)
    try:
        outcome = receive(g.tenant, account, order)
    except IntegrityError:  # the same new order in two requests at once: the first one made it
        db.rollback()
        _stop(409, "conflict", "同一工单的另一个请求正在处理，请稍后重试")
    seen()
    return jsonify(order_json(outcome.row, outcome.status)), 201 if outcome.new else 200


@bp.get("/orders/<number>")
@public
def show_order(number):
    signed()
    row = _order(number)
    seen()
    return jsonify(order_json(row))


@bp.post("/orders/<number>/visit")
@public
def visit(number):
    account = signed()
    row = _order(number)
    result = visits.record_visit(g.tenant, account, row, request.get_json(silent=True))
    seen()
    return jsonify(order_json(row, result)), 200


receive_order.refusal_field = show_order.refusal_field = visit.refusal_field = "form"
