"""The topics area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import after, register, register_reason

number = after("topic")


def _name(target, detail):
    n = number(target)
    title = detail.get("title")
    return f"#{n} {title}" if title else f"#{n}" if n else None


def _link(target, detail):
    n = number(target)
    return ("topics.show", {"number": int(n)}) if n and n.isdigit() else None


register("notice.publish", "公示议题", "Topic notice published", name=_name, link=_link)
register("notice.correct", "更正议题公示", "Topic notice corrected", name=_name, link=_link)
register("notice.withdraw", "撤下议题公示", "Topic notice withdrawn", name=_name, link=_link)
register("notice.comment.approve", "公开一条公示留言", "Notice comment approved", name=_name, link=_link)
register("notice.comment.reject", "不予公开一条公示留言", "Notice comment rejected", name=_name, link=_link)
register_reason("escalation queue", "查看下级提请的议题", "Escalated topics")
register_reason("department inbox", "查看部门收到的转办", "A department's transfers")
