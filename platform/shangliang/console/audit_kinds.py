"""The console's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register, register_reason

register("street.create", "新建街道", "Street created")
register("county.create", "新建区县", "County created")
register_reason("department home", "查看部门待办", "A department's inbox")
