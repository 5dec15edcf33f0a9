"""What an administrator does with webhooks: subscribe a URL to events, pause or resume it,
delete it, and send a delivery again. Each is audited; none commits."""
from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select, update

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import forms
from ..core.db import db, new_id, utcnow
from ..core.errors import Invalid, Refused
from ..core.jobs import enqueue
from ..core.pagination import paginate
from ..tenants.models import Tenant
from . import delivery, signing, targets
from .events import DELIVER, EVENT_TYPES, forget_subscribers
from .models import WebhookDelivery, WebhookSubscription

MAX_SUBSCRIPTIONS = 20  # the refusal below says the number in words
NAME_MAX = 60
DELIVERIES_PER_PAGE = 20


def _events(raw) -> list[str]:
    chosen = [raw] if isinstance(raw, str) else list(raw or [])
    if not chosen:
        raise Refused("请至少选择一种推送事件", "events", "validation_error")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise Refused("推送事件中有本系统不认识的类型", "events", "validation_error")
    return [key for key in EVENT_TYPES if key in chosen]  # in the registry's order, once each


def _checked(form: dict) -> dict:
    """Every field checked, every problem named at its field at once (Invalid)."""
    checks = {"name": lambda: forms.text(form, "name", limit=NAME_MAX, required="请填写名称，例如：12345 热线回访"),
              "url": lambda: targets.check_url(form.get("url")),
              "events": lambda: _events(form.get("events"))}
    values, errors = {}, {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except Refused as exc:
            errors[exc.field or field] = exc.message
    if errors:
        raise Invalid(errors)
    return values


def where_to(url: str) -> str:
    """The URL as the audit log keeps it: without its query, which may carry the receiver's token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def subscribe(tenant: Tenant, actor_id: int | None, form: dict) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its secret, which is shown this once (the caller shows it)."""
    values = _checked(form)
    if db.scalar(select(func.count()).select_from(WebhookSubscription)) >= MAX_SUBSCRIPTIONS:
        raise Refused("每个单位最多 20 个推送订阅，请先删除不用的", "form", "validation_error")
    secret, now = signing.new_secret(), utcnow()
    row = WebhookSubscription(id=new_id(), tenant_id=tenant.id, name=values["name"], url=values["url"],
                              events=values["events"], active=True, created_by=actor_id, created_at=now,
                              updated_at=now)
    row.secret_sealed = signing.seal(secret, tenant.id, row.id)
    db.add(row)
    db.flush()
    forget_subscribers(db())
    record(tenant.id, actor_id, "webhook.create", f"webhook:{row.id}",
           {"name": row.name, "url": where_to(row.url), "events": row.events})
    return row, secret


def _not_managed(row: WebhookSubscription) -> None:
    """A subscription another part keeps (the county's 12345 account) is changed there, not here."""
    if row.managed_by is not None:
        raise Refused("这个订阅由区县的 12345 热线账号管理，请在区县的“12345 热线”页面修改", "subscription", "forbidden")


def set_active(tenant: Tenant, actor_id: int | None, row: WebhookSubscription, active: bool) -> None:
    _not_managed(row)
    if row.active == active:
        return
    row.active, row.updated_at = active, utcnow()
    forget_subscribers(db())
    record(tenant.id, actor_id, "webhook.resume" if active else "webhook.pause", f"webhook:{row.id}",
           {"name": row.name})


def remove(tenant: Tenant, actor_id: int | None, row: WebhookSubscription, confirmed: bool) -> None:
    """The subscription and its deliveries (pending ones are not sent); the audit log keeps the fact."""
    _not_managed(row)
    if not confirmed:
        raise Refused("删除前请勾选“确认删除”", "confirm", "validation_error")
    db.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id)
               .execution_options(synchronize_session=False))
    db.delete(row)
    db.flush()
    forget_subscribers(db())
    record(tenant.id, actor_id, "webhook.delete", f"webhook:{row.id}", {"name": row.name, "url": where_to(row.url)})


def resend(tenant: Tenant, actor_id: int | None, row: WebhookDelivery, seen: int) -> bool:
    """Queue the delivery again, now, with a fresh retry window. `seen`: how many times it had been
    re-sent when the page showed it; a second click of the same button (or two administrators at
    once) finds the count moved and queues nothing. True when this call queued it."""
    sub = db.scalar(select(WebhookSubscription).where(WebhookSubscription.id == row.subscription_id))
    if not sub.active:
        raise Refused("该订阅已暂停，恢复后才能重新发送", "delivery", "conflict")
    now = utcnow()
    moved = db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == row.id, WebhookDelivery.resends == seen,
               or_(WebhookDelivery.sending_until.is_(None), WebhookDelivery.sending_until < now))
        .values(resends=WebhookDelivery.resends + 1, state="pending", next_attempt_at=now,
                give_up_at=now + delivery.retry_for(), delivered_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        current = db.scalar(select(WebhookDelivery.resends).where(WebhookDelivery.id == row.id))
        if current != seen:
            return False  # already re-sent from this page: the same click twice
        raise Refused("这条推送正在发送中，请稍后刷新页面查看结果", "delivery", "conflict")
    enqueue(DELIVER, str(row.id), tenant_id=tenant.id)
    record(tenant.id, actor_id, "webhook.resend", f"webhook-delivery:{row.id}",
           {"event": row.event_type, "subscription": str(row.subscription_id)})
    return True


# ---------------------------------------------------------------- reading

def subscriptions() -> list[WebhookSubscription]:
    return list(db.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at)))


def find_subscription(subscription_id: uuid.UUID) -> WebhookSubscription | None:
    return db.scalar(select(WebhookSubscription).where(WebhookSubscription.id == subscription_id))


def find_delivery(delivery_id: uuid.UUID) -> WebhookDelivery | None:
    return db.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))


def recent_deliveries(subscription_id: uuid.UUID | None = None):
    """The newest first, a page at a time."""
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return paginate(stmt, per_page=DELIVERIES_PER_PAGE)


def due(now=None, limit: int = 200) -> list[uuid.UUID]:
    """Pending deliveries whose time has come, of active subscriptions, not in flight: the retry pass."""
    now = now or utcnow()
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
    return list(db.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now,
        WebhookDelivery.subscription_id.in_(active),
        or_(WebhookDelivery.sending_until.is_(None), WebhookDelivery.sending_until < now))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


KEEP = timedelta(days=30)


def prune(now=None) -> None:
    """Finished deliveries older than KEEP: the page shows recent ones, the audit log keeps re-sends."""
    db.execute(delete(WebhookDelivery).where(WebhookDelivery.state != "pending",
                                             WebhookDelivery.created_at < (now or utcnow()) - KEEP)
               .execution_options(synchronize_session=False))
