"""The meetings area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import after, register

number = after("meeting")


def _name(target, detail):
    n = number(target)
    title = detail.get("title")
    return f"#{n} {title}" if title else f"#{n}" if n else None


def _link(target, _detail):
    n = number(target)
    return ("meetings.show", {"number": int(n)}) if n and n.isdigit() else None


register("meeting.create", "新建议事会", "Meeting created", name=_name, link=_link)
register("meeting.hold", "登记议事会已召开", "Meeting marked held", name=_name, link=_link)
register("meeting.cancel", "取消议事会", "Meeting cancelled", name=_name, link=_link)
register("meeting.delete", "删除议事会", "Meeting deleted", name=_name)
