"""The procedures area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register, register_reason


def _procedure(_target, _detail):
    return "procedure.index", {}


register("procedure.publish", "发布工作法", "Procedure published", link=_procedure)
register_reason("county recommended procedure", "查看区县推荐的工作法", "The county's recommended procedure")
