"""The topics area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import numbered, register, register_reason

_name, _link = numbered("topic", "topics.show")
register("notice.publish", "公示议题", "Topic notice published", name=_name, link=_link)
register("notice.correct", "更正议题公示", "Topic notice corrected", name=_name, link=_link)
register("notice.withdraw", "撤下议题公示", "Topic notice withdrawn", name=_name, link=_link)
register("notice.comment.approve", "公开一条公示留言", "Notice comment approved", name=_name, link=_link)
register("notice.comment.reject", "不予公开一条公示留言", "Notice comment rejected", name=_name, link=_link)
register_reason("escalation queue", "查看下级提请的议题", "Escalated topics")
register_reason("department inbox", "查看部门收到的转办", "A department's transfers")
