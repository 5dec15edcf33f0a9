"""The portal area's entries in the audit log, in words (audit/kinds.py): what a service account
(a WeChat mini-program's back end) did for a resident with their receipt code."""
from __future__ import annotations

from ..audit.kinds import numbered, register

_name, _link = numbered("topic", "topics.show", "service")
register("resident_service.raise", "系统代居民登记议题", "A system raised a topic for a resident", name=_name, link=_link)
register("resident_service.rate", "系统代居民评价", "A system rated a topic for a resident", name=_name, link=_link)
register("resident_service.confirm", "系统代居民确认方案", "A system confirmed a plan for a resident", name=_name,
         link=_link)
