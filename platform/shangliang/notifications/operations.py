from __future__ import annotations

from sqlalchemy import func, select

from ..core.db import db, utcnow
from .models import Notification


def notify(tenant_id: int, user_id: int, kind: str, title: str, body: str = "", link: str | None = None):
    """The in-app channel; other channels (SMS, WeChat) will register beside it."""
    n = Notification(tenant_id=tenant_id, user_id=user_id, kind=kind, title=title[:200], body=body, link=link)
    db.add(n)
    return n


def unread_count(user_id: int) -> int:
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(user_id: int, notification: Notification) -> None:
    if notification.user_id == user_id and notification.read_at is None:
        notification.read_at = utcnow()
