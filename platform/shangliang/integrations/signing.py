"""How a delivery is signed, how a receiver checks it, and how the secret is kept.

The receiver computes HMAC-SHA256, keyed with the subscription's secret, over the timestamp
header, a full stop and the raw body, and compares it with `X-Shangliang-Signature: v1=<hex>` in
constant time; it refuses timestamps further than REPLAY_WINDOW from its clock (a captured
request cannot be replayed later) and keeps `X-Shangliang-Delivery` ids it has handled (a retry
or a 重新发送 of a delivery it already has is the same delivery). `verify` below is that check.

The secret is needed whole to sign, so unlike a password it cannot be hashed: it is sealed with
AES-GCM under a key derived from SECRET_KEY, bound to its tenant and subscription (a sealed value
copied into another row does not open). Changing SECRET_KEY leaves old secrets unreadable: their
deliveries fail with that reason, and the subscription is added again."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCHEME = "v1"
REPLAY_WINDOW = 300  # seconds either side of the receiver's clock
_key: dict[str, bytes] = {}


def configure(secret_key: str) -> None:
    """At start-up (jobs run outside any request, so the key is the process's, as storage is)."""
    _key["seal"] = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"shangliang.webhooks",
                        info=b"subscription secrets").derive(secret_key.encode())


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _bound_to(tenant_id: int, subscription_id) -> bytes:
    return f"{tenant_id}:{subscription_id}".encode()


def seal(secret: str, tenant_id: int, subscription_id) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key["seal"]).encrypt(nonce, secret.encode(), _bound_to(tenant_id, subscription_id))
    return base64.urlsafe_b64encode(nonce + sealed).decode()


class Unreadable(Exception):
    """The sealed secret does not open with this installation's key."""


def unseal(sealed: str, tenant_id: int, subscription_id) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(_key["seal"]).decrypt(raw[:12], raw[12:], _bound_to(tenant_id, subscription_id)).decode()
    except (InvalidTag, ValueError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, header: str, now: float | None = None,
           window: int = REPLAY_WINDOW) -> bool:
    """What a receiver does with the headers it got: the signature matches and is recent."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > window:
        return False
    given = [part.strip() for part in (header or "").split(",")]  # room for a second scheme later
    expected = signature(secret, ts, body)
    return any(hmac.compare_digest(expected, g) for g in given)
