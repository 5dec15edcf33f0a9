"""办理公示, reviewed: a concluded topic goes public only when staff publish its public title and
text and choose which photos may appear, or not at all when they withhold it with a reason. The
resident's name and phone never appear: the text is checked for them before it is published."""
from __future__ import annotations

import re

from sqlalchemy import select

from ..core import forms
from ..core.db import db
from ..core.errors import Refused
from ..tenants.models import Tenant
from .log import clock, log_event
from .models import Topic, TopicEvent

EVENT_LABELS = {"publish": "办理公示", "withhold": "不予公示"}
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
PER_PAGE = 10


def awaiting():
    """Concluded topics nobody has reviewed yet, the longest waiting first."""
    return (select(Topic).where(Topic.status == "closed", Topic.closed_as == "done", Topic.published_at.is_(None),
                                Topic.publication.is_(None)).order_by(Topic.updated_at))


def published():
    """What the portal shows, newest first (off ix_topics_tenant_published)."""
    return select(Topic).where(Topic.published_at.is_not(None)).order_by(Topic.published_at.desc())


def photos_of(topics: list[Topic]) -> dict:
    """topic id → [(seq, event data)] of its photos, in the order they were recorded."""
    if not topics:
        return {}
    rows = db.execute(select(TopicEvent.topic_id, TopicEvent.seq, TopicEvent.data).where(
        TopicEvent.topic_id.in_([t.id for t in topics]), TopicEvent.action == "attach").order_by(TopicEvent.seq))
    out: dict = {}
    for topic_id, seq, data in rows:
        if data.get("kind") == "photo":
            out.setdefault(topic_id, []).append((seq, data))
    return out


def draft(topic: Topic) -> dict:
    """What the review form starts from: the topic's title, and its outcome and summary."""
    details = topic.details or {}
    text = "\n".join(v for v in (details.get("outcome"), details.get("summary")) if v)
    return {"title": topic.title, "text": text}


def _check_text(topic: Topic, data: dict) -> tuple[str, str]:
    title = forms.text(data, "title", limit=120, required="请填写公示标题")
    text = forms.text(data, "text", limit=2000, required="请填写公示内容：办了什么、结果如何")
    for field, value in (("title", title), ("text", text)):
        if MOBILE.search(value) or (topic.resident_phone and topic.resident_phone in value):
            raise Refused("公示内容不能包含电话号码", field, "validation_error")
        if topic.resident_name and len(topic.resident_name) >= 2 and topic.resident_name in value:
            raise Refused("公示内容不能包含居民姓名", field, "validation_error")
    return title, text


def _reviewable(topic: Topic) -> None:
    if topic.status != "closed" or topic.closed_as != "done":
        raise Refused("只有办结的议题可以公示", "topic", "conflict")


def check(topic: Topic, data: dict) -> dict:
    """What publishing `data` would make public: {title, text, photos (their seqs)}; refused as
    publishing would be. Nothing is written (the confirmation page shows it)."""
    _reviewable(topic)
    title, text = _check_text(topic, data)
    chosen = data.get("photos") or []
    chosen = [str(v) for v in (chosen if isinstance(chosen, list) else [chosen])]
    known = {seq for seq, _ in photos_of([topic]).get(topic.id, [])}
    if not all(v.isdigit() for v in chosen) or {int(v) for v in chosen} - known:
        raise Refused("所选照片不属于这个议题", "photos", "validation_error")
    return {"title": title, "text": text, "photos": sorted({int(v) for v in chosen})}


def publish(tenant: Tenant, topic: Topic, actor_id: int, data: dict) -> dict:
    public = check(topic, data)
    now = clock()
    topic.publication = {**public, "by": actor_id}
    topic.published_at, topic.updated_at = topic.published_at or now, now
    log_event(topic, "publish", actor_id, "staff", at=now, data={"photos": len(public["photos"])})
    return public


def withhold(tenant: Tenant, topic: Topic, actor_id: int, data: dict) -> None:
    """Not made public (a private matter, a dispute between neighbours), with the reason; taken
    off the portal if it was there."""
    _reviewable(topic)
    reason = forms.text(data, "reason", limit=500, required="请说明不予公示的理由")
    now = clock()
    topic.publication, topic.published_at = {"withheld": reason, "by": actor_id}, None
    topic.updated_at = now
    log_event(topic, "withhold", actor_id, "staff", at=now, comment=reason)


def public_view(topic: Topic) -> dict:
    """What the portal shows of a published topic: its reviewed text, or (published before review
    existed) its outcome and summary as they were."""
    pub = topic.publication or {}
    return {"title": pub.get("title") or topic.title, "text": pub.get("text") or draft(topic)["text"],
            "photos": pub.get("photos")}  # None: every photo, as before review existed
