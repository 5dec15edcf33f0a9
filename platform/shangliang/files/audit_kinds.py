"""The files area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register

register("file.delete", "删除附件", "Attachment deleted")
