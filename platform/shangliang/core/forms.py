"""Text a person typed, checked the one way every form checks it: trimmed, there when it must be,
within its length, and free of control characters (a line break or a tab is text; a NUL or an
escape pasted from elsewhere is not, and would reach the database and every page that shows it)."""
from __future__ import annotations

from .errors import Invalid, Refused, field_path


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


def control_errors(data, labels: dict[str, str]) -> dict[str, str]:
    """`{field: "<label>不能包含控制字符"}` for each field of `labels` whose text (or list of texts) in
    `data` holds a control character: a form, an import row or an API body, refused by field."""
    out = {}
    for name, label in labels.items():
        value = data.get(name)
        if any(isinstance(v, str) and has_control(v) for v in (value if isinstance(value, (list, tuple)) else [value])):
            out[name] = f"{label}不能包含控制字符"
    return out


UNHOLDABLE_TEXT = "不能包含空字符（U+0000）或不成对的代理字符"


def unholdable(text: str | None) -> bool:
    """Text no database keeps: PostgreSQL refuses a NUL in text and JSON, and no driver encodes
    half a surrogate pair (JSON may spell one, `"\\ud800"`); either would be a server error."""
    if not text:
        return False
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def refuse_unholdable(data) -> None:
    """A JSON body refused naming each key or text in it no database keeps, by its path (`title`,
    `topics[0]`, `data.reason`): PostgreSQL would refuse it in a text or JSON column; then each
    holding a control character (a line break or a tab is text)."""
    where = _paths(data, unholdable)
    if where:
        raise Invalid({path: UNHOLDABLE_TEXT for path in where}, UNHOLDABLE_TEXT)
    where = _paths(data, has_control)  # an escape or a \x19 pasted in would reach every page and export
    if where:
        raise Invalid({path: CONTROL_TEXT for path in where}, CONTROL_TEXT)


CONTROL_TEXT = "不能包含控制字符"


def _paths(data, bad) -> list[str]:
    """The paths of the keys and texts in a JSON body for which `bad` is true."""
    found, todo = [], [("", data)]
    while todo:  # not recursive: a deeply nested body must not exhaust the stack
        path, value = todo.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            inner = field_path(path, key)
            if isinstance(key, str) and bad(key) or isinstance(item, str) and bad(item):
                found.append(inner)
            else:
                todo.append((inner, item))
    return sorted(found)
