"""The drill-down (下钻): the topics behind one street's figure, read through the audited path by
the same conditions the rollups count (`rollups.TopicFlags`)."""
from __future__ import annotations

from sqlalchemy import case, select

from ..core.db import db, utcnow
from ..core.errors import Refused
from ..core.tenancy import cross_tenant
from ..tenants.models import Tenant
from ..topics.models import Topic
from . import rollups
from .operations import settings_of
from .periods import Period


DRILL = {  # measure → (the topics behind its denominator, the flag of its numerator)
    "collected": ("collected", None), "collected_per_10k": ("collected", None),
    "response_rate": ("response_due", "responded_on_time"), "on_time_rate": ("completion_due", "completed_on_time"),
    "resolution_rate": ("rated", "rated_solved"), "satisfaction_rate": ("rated", "satisfied"),
    "valid_rating_rate": ("closed", "closed_rated"), "reopen_rate": ("closed", "closed_reopened"),
    "response_p50_h": ("response_due", None), "response_p90_h": ("response_due", None),
    "close_p50_h": ("closed", None), "close_p90_h": ("closed", None),
    "adoption_rate": ("consulted", "adopted"),
    "supervision_rate": ("collected", "supervised"), "supervised_closed_rate": ("supervised", "supervised_closed"),
    "officials_satisfaction_rate": ("officials_rated", "officials_satisfied"),
    "members_satisfaction_rate": ("members_rated", "members_satisfied"),
}


def topics_behind(parent: Tenant, street: Tenant, period: Period, measure: str, actor_id: int | None,
                  limit: int = 500) -> list[dict]:
    """The topics behind one street's figure, with what each counts for. No names, phone numbers
    or places: only what the measure is made of."""
    if measure not in DRILL:
        raise Refused("该指标没有可查看的议题明细", "measure", "validation_error")
    if street.parent_id != parent.id and parent.kind != "platform":
        raise Refused("不是下辖单位", "street", "not_found")
    settings = settings_of(parent)
    within, hit = DRILL[measure]
    with cross_tenant([street.id], reason=f"benchmark drill-down {period.key} {measure}", actor_id=actor_id,
                      acting_tenant_id=parent.id):
        q = rollups.TopicFlags([street.id], street.timezone, period.months(), utcnow())
        flags = dict(q.flags)
        flags["satisfied"] = flags["rated_very_satisfied"] | flags["rated_satisfied"]
        if settings["basic_counts"]:
            flags["satisfied"] = flags["satisfied"] | flags["rated_basic"]
        cols = [case((cond, 1), else_=0).label(n) for n, cond in flags.items()]
        stmt = (select(Topic.number, Topic.title, Topic.category, Topic.channel, Topic.created_at,
                       Topic.status, Topic.closed_as, q.topic.responded_at, q.topic.closed_at,
                       q.level.label("level"), q.solved.label("solved"), *cols, q.hours["response"].label("response_h"),
                       q.hours["close"].label("close_h"))
                .select_from(q.from_).join(Topic, (Topic.tenant_id == q.topic.tenant_id) & (Topic.id == q.topic.id))
                .where(flags[within]).order_by(Topic.number).limit(limit))
        out = []
        for row in db.execute(stmt).mappings():
            item = dict(row)
            item["counts"] = bool(row[hit]) if hit else None
            out.append(item)
        return out
