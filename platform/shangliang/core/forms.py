"""Text a person typed, checked the one way every form checks it: trimmed, there when it must be,
within its length, and free of control characters (a line break or a tab is text; a NUL or an
escape pasted from elsewhere is not, and would reach the database and every page that shows it)."""
from __future__ import annotations

from .errors import Refused


def has_control(value: str) -> bool:
    return any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in value)


def text(data, name: str, *, limit: int, required: str | None = None) -> str:
    """`data[name]` as checked text ("" when absent and not required). `required`: the message that
    names what is missing, in the user's words."""
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise Refused(required, name, "validation_error")
    if len(value) > limit:
        raise Refused(f"最多 {limit} 个字符", name, "validation_error")
    if has_control(value):
        raise Refused("不能包含控制字符", name, "validation_error")
    return value
