"""The meetings area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import numbered, register

_name, _link = numbered("meeting", "meetings.show")
register("meeting.create", "新建议事会", "Meeting created", name=_name, link=_link)
register("meeting.hold", "登记议事会已召开", "Meeting marked held", name=_name, link=_link)
register("meeting.cancel", "取消议事会", "Meeting cancelled", name=_name, link=_link)
register("meeting.delete", "删除议事会", "Meeting deleted", name=_name)
