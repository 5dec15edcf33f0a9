"""The topics a meeting consults: linking them, what the meeting agreed on each, and logging that
agreement on the topic as its consultation record (the topic's `consult` action)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select

from ..core.db import db, utcnow
from ..core.errors import Refused
from ..tenants.models import Tenant
from ..topics import notice
from ..topics.models import Topic, TopicNotice
from ..topics.operations import act, acting_roles, available_actions
from .models import Meeting, MeetingTopic
from .queries import planned_dates


def _held_since_notice():
    """议题公示 ends once a meeting that consults the topic, starting at or after the notice was
    published, is marked held (topics/notice.py)."""
    consults = and_(MeetingTopic.tenant_id == TopicNotice.tenant_id, MeetingTopic.topic_id == TopicNotice.topic_id,
                    Meeting.tenant_id == MeetingTopic.tenant_id, Meeting.id == MeetingTopic.meeting_id)
    return exists().where(consults, Meeting.status == "held", Meeting.starts_at >= TopicNotice.published_at)


notice.ends_when(_held_since_notice)
notice.planned_by(planned_dates)  # the confirmation of 议题公示 says until when


def linked_topics(meeting: Meeting) -> list[tuple[MeetingTopic, Topic]]:
    return list(db.execute(select(MeetingTopic, Topic).join(Topic, Topic.id == MeetingTopic.topic_id)
                           .where(MeetingTopic.meeting_id == meeting.id).order_by(Topic.number)).all())


def meetings_of_topic(topic: Topic) -> list[tuple[Meeting, MeetingTopic]]:
    """The meetings that consulted a topic, newest first: for the topic page and the API."""
    return list(db.execute(select(Meeting, MeetingTopic).join(MeetingTopic, MeetingTopic.meeting_id == Meeting.id)
                           .where(MeetingTopic.topic_id == topic.id).order_by(Meeting.starts_at.desc())).all())


def set_agreement(tenant: Tenant, actor_id: int | None, meeting: Meeting, topic: Topic, agreement: str, *,
                  link: bool = False) -> MeetingTopic:
    """What the meeting agreed on a topic; `link` adds the topic to the meeting first."""
    agreement = (agreement or "").strip()
    if len(agreement) > 5000:
        raise Refused("最多 5000 个字符", "agreement", "validation_error")
    if meeting.status == "cancelled":
        raise Refused("议事会已取消，不能修改", "status", "validation_error")
    mt = db.get(MeetingTopic, {"tenant_id": tenant.id, "meeting_id": meeting.id, "topic_id": topic.id})
    if mt is None:
        if not link:
            raise Refused("该议题不在本次议事会上", "topic", "not_found")
        mt = MeetingTopic(tenant_id=tenant.id, meeting_id=meeting.id, topic_id=topic.id)
        db.add(mt)
    if mt.recorded_at is not None and agreement != mt.agreement:  # the topic's log holds it as it was
        raise Refused("协商意见已记入议题，不能再修改", "agreement", "validation_error")
    mt.agreement = agreement
    db.flush()
    return mt


@dataclass
class ConsultState:
    ready: bool
    reason: str = ""  # why not, for the page


def consult_state(meeting: Meeting, mt: MeetingTopic, topic: Topic, roles: set[str], user_id: int | None,
                  ) -> ConsultState:
    """Whether this person may log the meeting's agreement on the topic now, and if not, why.
    A meeting records once per topic: a topic consulted again (say, after 复盘) gets a new meeting."""
    if mt.recorded_at is not None:
        return ConsultState(False, "已记入议题协商记录")
    if meeting.status != "held":
        return ConsultState(False, "议事会召开（记录纪要并标记为已召开）后才能记入议题")
    if topic.status != "open":
        return ConsultState(False, "议题已办结")
    if not topic.step["evidence"]["consultation_record"]:
        return ConsultState(False, "议题当前步骤不需要协商记录")
    if not acting_roles(roles) & set(topic.step["roles"]):
        return ConsultState(False, "您的角色不能在议题当前步骤记录协商")
    if not any(a.kind == "consult" for a in available_actions(topic, roles, user_id)):
        return ConsultState(False, "议题当前步骤不能记录协商")
    return ConsultState(True)


def record_consultation(tenant: Tenant, actor_id: int | None, roles: set[str], meeting: Meeting,
                        topic: Topic) -> None:
    """Log the agreement on the topic as its consultation record (the topic's `consult` action):
    a step whose evidence asks for one is then satisfied."""
    mt = db.get(MeetingTopic, {"tenant_id": tenant.id, "meeting_id": meeting.id, "topic_id": topic.id})
    if mt is None:
        raise Refused("该议题不在本次议事会上", "topic", "not_found")
    state = consult_state(meeting, mt, topic, roles, actor_id)
    if not state.ready:
        raise Refused(state.reason, "topic", "validation_error")
    if not mt.agreement.strip():
        raise Refused("请先填写本议题达成的协商意见", "agreement", "validation_error")
    act(tenant, actor_id, roles, topic, "consult", expected_version=topic.version,
        comment=f"议事会 #{meeting.number} {meeting.title}"[:2000],
        data={"agreement": mt.agreement, "meeting_id": str(meeting.id)})
    mt.recorded_at = utcnow()
    db.flush()
