"""One delivery attempt, and the schedule of the next.

An attempt first claims the delivery (a conditional UPDATE: still pending, due, not in flight
elsewhere, its subscription active) and commits the claim at once, so that the job queued at the
event, the periodic retry pass and a 重新发送 never post it twice at once; then posts with no
transaction open; then records how it went in the job's transaction, which commits it. A worker that dies in between
leaves the claim to expire (LEASE), and the retry pass picks the delivery up again.

2xx is delivered. Anything else (a refused connection, a timeout, a 500, a redirect, which is not
followed) waits FIRST_WAIT, then twice as long each time (at most LONGEST_WAIT), until `give_up_at`
(WEBHOOK_RETRY_MINUTES after the event, or after a 重新发送): the last attempt falls on it, and if
that fails too the delivery is dead, with the reason in words on the page."""
from __future__ import annotations

import json
import socket
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import or_, select, update
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError, SSLError

from ..core.db import db, utcnow
from . import signing, targets
from .models import WebhookDelivery, WebhookSubscription

TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)
LEASE = timedelta(seconds=60)  # longer than any attempt's timeouts
FIRST_WAIT, LONGEST_WAIT = timedelta(minutes=1), timedelta(minutes=30)
USER_AGENT = "Shangliang-Webhooks/1"
_settings = {"retry_for": timedelta(minutes=60)}

# Why the last attempt failed, in words for the page (the technical detail is kept beside it).
REASONS = {
    "status": "接收方没有返回 2xx 成功状态",
    "refused": "接收方拒绝连接（服务可能没有启动）",
    "timeout": "接收方没有及时应答（超时）",
    "dns": "找不到接收地址的主机",
    "forbidden": "接收地址指向本机或内网，按本系统的设置不允许推送",
    "tls": "HTTPS 证书校验失败",
    "network": "网络错误，连接中断",
    "secret": "签名密钥无法读取（系统密钥可能已更换），请删除后重新添加订阅",
}


def configure(cfg) -> None:
    """At start-up, from the configuration (jobs read these outside any request)."""
    _settings["retry_for"] = timedelta(minutes=cfg.webhook_retry_minutes)
    targets.allow_networks(cfg.webhook_allow_networks)
    signing.configure(cfg.secret_key)


def retry_for() -> timedelta:
    return _settings["retry_for"]


def wait_after(attempts: int) -> timedelta:
    return min(FIRST_WAIT * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    reason: str | None = None
    detail: str = ""


# ---------------------------------------------------------------- claim, post, record

def claim(delivery_id: uuid.UUID, now: datetime) -> bool:
    """Take the delivery for one attempt; False when it is not ours to send (the caller commits)."""
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
    taken = db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == "pending",
               WebhookDelivery.next_attempt_at <= now, WebhookDelivery.subscription_id.in_(active),
               or_(WebhookDelivery.sending_until.is_(None), WebhookDelivery.sending_until < now))
        .values(attempts=WebhookDelivery.attempts + 1, sending_until=now + LEASE, last_attempt_at=now)
        .execution_options(synchronize_session=False)).rowcount
    return taken == 1


def attempt(delivery_id: uuid.UUID, now: datetime | None = None) -> Outcome | None:
    """Try the delivery once if it is due; None when there was nothing to do. `now`: a test's clock
    (otherwise the claim is stamped before the request and the outcome after it)."""
    if not claim(delivery_id, now or utcnow()):
        db.commit()
        return None
    row = db.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                    .execution_options(populate_existing=True))
    sub = db.scalar(select(WebhookSubscription).where(WebhookSubscription.id == row.subscription_id))
    # Committed before the request leaves: another worker now finds it taken, and no transaction
    # stays open while the receiver takes its time.
    db.commit()
    try:
        secret = signing.unseal(sub.secret_sealed, sub.tenant_id, sub.id)
    except signing.Unreadable as exc:
        outcome = Outcome(False, None, "secret", str(exc))
    else:
        outcome = post(sub.url, row.event_type, str(row.id), body_of(row.payload), secret)
    record(row, outcome, now or utcnow())
    return outcome


def body_of(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def record(row: WebhookDelivery, outcome: Outcome, now: datetime) -> None:
    row.sending_until = None
    row.last_status, row.last_error, row.last_detail = outcome.status, outcome.reason, outcome.detail[:300] or None
    if outcome.ok:
        row.state, row.delivered_at, row.next_attempt_at = "delivered", now, None
    elif now >= row.give_up_at:
        row.state, row.next_attempt_at = "dead", None
    else:
        row.next_attempt_at = min(now + wait_after(row.attempts), row.give_up_at)


def headers(event_type: str, delivery_id: str, body: bytes, secret: str, timestamp: int) -> dict:
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            "X-Shangliang-Event": event_type, "X-Shangliang-Delivery": delivery_id,
            "X-Shangliang-Timestamp": str(timestamp),
            "X-Shangliang-Signature": signing.signature(secret, timestamp, body)}


def post(url: str, event_type: str, delivery_id: str, body: bytes, secret: str) -> Outcome:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        address = targets.pinned_address(parts.hostname, port)
    except targets.BadTarget as exc:
        return Outcome(False, None, exc.reason, exc.detail)
    sent = headers(event_type, delivery_id, body, secret, int(utcnow().timestamp()))
    sent["Host"] = parts.netloc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # To the address just checked; TLS still checks the certificate against the host name.
    pool = urllib3.HTTPSConnectionPool(address, port, server_hostname=parts.hostname, assert_hostname=parts.hostname,
                                       cert_reqs="CERT_REQUIRED", timeout=TIMEOUT, retries=False, maxsize=1) \
        if https else urllib3.HTTPConnectionPool(address, port, timeout=TIMEOUT, retries=False, maxsize=1)
    try:
        resp = pool.urlopen("POST", path, body=body, headers=sent, redirect=False, retries=False,
                            preload_content=False, assert_same_host=False)
        resp.close()  # the answer's body is not read: only its status counts
    except Exception as exc:  # noqa: BLE001  every failure is a reason to retry, named on the page
        return Outcome(False, None, failure_reason(exc), detail_of(exc))
    finally:
        pool.close()
    if 200 <= resp.status < 300:
        return Outcome(True, resp.status)
    return Outcome(False, resp.status, "status")  # the code is shown in its own column


def failure_reason(exc: Exception) -> str:
    causes = [exc, exc.__cause__, exc.__context__, *getattr(exc, "args", ())]
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in str(exc).lower():
        return "refused"
    if isinstance(exc, (SSLError, ssl.SSLError)):
        return "tls"
    if isinstance(exc, (ReadTimeoutError, socket.timeout, TimeoutError)) or \
            (isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError)):
        return "timeout"
    return "network"


def detail_of(exc: Exception) -> str:
    """The exception in a line, without urllib3's repr of its connection (the URL is on the page)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.split('): ', 1)[1] if '): ' in text else text}"
