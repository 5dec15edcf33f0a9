"""回执码: what a resident keeps to follow their topic on the portal (查单), confirm its agreed plan
and rate it (评单), with the last four digits of their phone. Only its hash is stored.

A topic raised on the portal gets one there. A topic someone raises for a resident (staff after a
door visit, a member's 提议 naming the residents who asked, a grid worker's 代办) gets one too when
it names the resident's phone, shown once to the person who raised it to hand on: otherwise the
resident could only be rated for, never rate themselves."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from ..tenants.models import Tenant
from .intake import create_topic
from .models import Topic

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread


def receipt_code(tenant_id: int, nonce: str) -> str:
    """The code a nonce makes in a street: the portal's form carries its nonce, so a double click
    shows the same receipt."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"receipt:{tenant_id}:{nonce}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest[:7], "big")
    chars = "".join(RECEIPT_ALPHABET[(n >> (5 * i)) & 31] for i in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def receipt_hash(code: str) -> str:
    """Stored on the topic; looked up within the street only, so it needs no tenant in it (and a
    street moved to another installation keeps its residents' receipts working)."""
    clean = "".join(c for c in (code or "").upper() if c.isalnum())
    clean = clean.translate(str.maketrans("ILOU", "110V"))  # the same misreadings Crockford allows
    formatted = f"{clean[:5]}-{clean[5:]}"
    return hashlib.sha256(f"receipt:{formatted}".encode()).hexdigest()


def raise_for_resident(tenant: Tenant, actor_id: int | None, data: dict,
                       actor_role: str | None = None) -> tuple[Topic, str | None]:
    """登记: a topic raised for a resident, and the receipt code to hand them (None without a
    phone: nothing could prove the code is theirs)."""
    topic = create_topic(tenant, actor_id, data, actor_role=actor_role)
    if not topic.resident_phone:
        return topic, None
    code = receipt_code(tenant.id, secrets.token_hex(12))
    topic.receipt_hash = receipt_hash(code)
    return topic, code
