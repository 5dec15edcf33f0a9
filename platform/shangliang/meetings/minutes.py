"""The minutes (纪要) of a meeting: every revision is kept, and one written on top of anything but
the newest is refused, not merged."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core.db import db
from ..core.errors import Refused
from ..tenants.models import Tenant
from .models import Meeting, MeetingMinutes


def minutes(meeting: Meeting) -> list[MeetingMinutes]:
    """Every revision, newest first."""
    return list(db.scalars(select(MeetingMinutes).where(MeetingMinutes.meeting_id == meeting.id)
                           .order_by(MeetingMinutes.revision.desc())))


def current_revision(meeting: Meeting) -> int:
    return db.scalar(select(func.max(MeetingMinutes.revision)).where(MeetingMinutes.meeting_id == meeting.id)) or 0


def add_minutes(tenant: Tenant, actor_id: int | None, meeting: Meeting, text: str, *, base_revision: int,
                note: str = "") -> MeetingMinutes:
    """A new revision; earlier ones are kept. Written on top of anything but the newest is refused."""
    text, note = (text or "").strip(), (note or "").strip()
    if not text:
        raise Refused("请填写纪要内容", "text", "validation_error")
    if len(text) > 50_000:
        raise Refused("纪要最多 50000 个字符", "text", "validation_error")
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能记录纪要", "text", "validation_error")
    current = current_revision(meeting)
    if base_revision != current:
        raise Refused("纪要已有更新的版本，请在最新版本上修改（您填写的内容已保留）", "text", "conflict")
    row = MeetingMinutes(tenant_id=tenant.id, meeting_id=meeting.id, revision=current + 1, text=text,
                         note=note[:200], created_by=actor_id)
    try:
        with db.begin_nested():  # the same revision saved twice at once: the unique key decides
            db.add(row)
            db.flush()
    except IntegrityError:
        raise Refused("纪要已有更新的版本，请在最新版本上修改（您填写的内容已保留）", "text", "conflict") from None
    return row
