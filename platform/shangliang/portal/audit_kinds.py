"""The portal area's entries in the audit log, in words (audit/kinds.py): what a service account
(a WeChat mini-program's back end) did for a resident with their receipt code."""
from __future__ import annotations

from ..audit.kinds import after, register

number = after("topic")


def _name(target, detail):
    n = number(target)
    service = detail.get("service")
    return f"#{n}（{service}）" if n and service else f"#{n}" if n else None


def _link(target, detail):
    n = number(target)
    return ("topics.show", {"number": int(n)}) if n and n.isdigit() else None


register("resident_service.raise", "系统代居民登记议题", "A system raised a topic for a resident", name=_name, link=_link)
register("resident_service.rate", "系统代居民评价", "A system rated a topic for a resident", name=_name, link=_link)
register("resident_service.confirm", "系统代居民确认方案", "A system confirmed a plan for a resident", name=_name,
         link=_link)
