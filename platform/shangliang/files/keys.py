"""Where an attachment's served objects live. Fixed by the attachment's id, so that a check that
runs again (after a crash) overwrites its objects instead of leaving a second set behind."""
from __future__ import annotations

from ..core.storage import tenant_prefix
from .models import Attachment

SERVED_EXTS = ("jpg", "png", "webp", "pdf", "docx", "xlsx", "pptx")


def file_key(att: Attachment, ext: str) -> str:
    return f"{tenant_prefix(att.tenant_id)}files/{att.id.hex}.{ext}"


def thumb_key(att: Attachment) -> str:
    return f"{tenant_prefix(att.tenant_id)}thumbnails/{att.id.hex}.jpg"


def web_key(att: Attachment) -> str:
    return f"{tenant_prefix(att.tenant_id)}photos/{att.id.hex}.jpg"


def derived_keys(att: Attachment) -> list[str]:
    """Every key the check may write for this attachment, whatever the file turned out to be."""
    return [file_key(att, ext) for ext in SERVED_EXTS] + [thumb_key(att), web_key(att)]


def held_keys(att: Attachment) -> set[str]:
    """What removing the attachment may free: its objects and whatever a check may have written."""
    return {k for k in (att.key, att.thumb_key, att.web_key, *derived_keys(att)) if k}
