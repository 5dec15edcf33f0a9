from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import Base, UTCDateTime, new_id, utcnow
from ..core.tenancy import TenantOwned


class WebhookSubscription(TenantOwned, Base):
    """A URL of another system that is posted the events it chose, signed with its own secret.

    The secret is needed in full to sign, so it cannot be hashed like a password: it is kept
    encrypted with a key derived from SECRET_KEY (signing.py) and shown once, at creation."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)  # keys of events.EVENT_TYPES
    secret_sealed: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept by something else than the street's page: "hotline" is the county's 12345 account's
    # (hotline/callbacks.py), changed from the county's page, never paused or deleted here.
    managed_by: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


DELIVERY_STATES = {"pending": "待发送", "delivered": "已送达", "dead": "已放弃"}


class WebhookDelivery(TenantOwned, Base):
    """One event for one subscription: its body, kept as sent (the receiver may ask again), and how
    its attempts went. Pending ones are tried when `next_attempt_at` comes, until `give_up_at`."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "subscription_id"],
                             ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"], ondelete="CASCADE"),
        Index("ix_webhook_deliveries_due", "tenant_id", "state", "next_attempt_at"),  # the retry pass
        Index("ix_webhook_deliveries_created", "tenant_id", "created_at"),  # the page, newest first
        Index("ix_webhook_deliveries_subscription", "tenant_id", "subscription_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resends: Mapped[int] = mapped_column(Integer, default=0)  # what a 重新发送 form names: a second click finds it moved
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an attempt in flight holds it till then
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(32))  # a key of delivery.REASONS
    last_detail: Mapped[str | None] = mapped_column(String(300))  # the technical detail behind it
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthClient(TenantOwned, Base):
    """A program (a mini-program, an intranet portal) that a street's administrator registered to
    ask its people for an API token through OAuth 2.0 (oauth.py). Public (a mini-program: no secret)
    or confidential (a portal's server: a secret, only its SHA-256 kept); either proves with PKCE
    (S256) that it asked for the code it exchanges. Its `id` is its client_id."""

    __tablename__ = "oauth_clients"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)  # matched exactly
    scopes: Mapped[str] = mapped_column(String(64))  # the most it may ask for, in the order of SCOPES
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # confidential clients only
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthCode(TenantOwned, Base):
    """An authorization code: only its SHA-256 is kept; it is used once, within minutes, by the
    client it was issued to, with the redirect URI, person, scopes and PKCE challenge it names."""

    __tablename__ = "oauth_codes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["oauth_clients.tenant_id", "oauth_clients.id"],
                             ondelete="CASCADE"),
        Index("ix_oauth_codes_hash", "tenant_id", "code_hash", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    code_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[str] = mapped_column(String(64))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
