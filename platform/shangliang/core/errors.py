"""What a refused request looks like: one exception for every rule an operation enforces, and
one JSON shape for every error the API answers."""
from __future__ import annotations

import math


class Refused(Exception):
    """An operation refused with a message for the user and the field it concerns."""

    def __init__(self, message: str, field: str | None = None, code: str = "refused"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


class Invalid(Refused):
    """Refused on several fields at once: `errors` maps each field to its message (or messages)."""

    def __init__(self, errors: dict, message: str = "some fields are invalid", code: str = "validation_error"):
        super().__init__(message, next(iter(errors), None), code)
        self.errors = errors


class Throttled(Refused):
    """Refused for now by a rate limit (sign-in's waits, the portal's windows): the same may be tried
    again in `retry_after` seconds, whole ones (429, the answer's Retry-After header)."""

    def __init__(self, message: str, retry_after: float, field: str | None = None):
        super().__init__(message, field, "throttled")
        self.retry_after = max(1, math.ceil(retry_after))


def retry_headers(exc: Refused | None) -> dict:
    """The headers a refusal's answer carries: Retry-After for a rate limit's."""
    after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(after)} if after is not None else {}


# The HTTP status of a refusal, by its code; anything else is a plain 400 (pages) / 422 (API).
STATUS = {"invalid_json": 400, "forbidden": 403, "not_found": 404, "conflict": 409, "used": 410, "expired": 410,
          "revoked": 410, "too_large": 413, "quota_exceeded": 413, "throttled": 429, "storage_unavailable": 503}


def status_of(exc: Refused, default: int = 400) -> int:
    return STATUS.get(exc.code, default)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The one shape of every JSON error: `fields` flat, each path with a list of messages."""
    err = {"code": code, "message": message}
    if fields:
        err["fields"] = flat_fields(fields)
    return {"error": err}


def flat_fields(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """Problems by where they are, one level deep: marshmallow nests a list's by index and an
    object's by field (`{"topics": {0: [...]}}`), which no client can read as the field → messages
    the document promises, so each is named by its path: `topics[0]`, `participants[1].name`,
    `weights.x.key` (a dict's key; `.value` its value). A nested object's own problem (`_schema`)
    is its path's."""
    out: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = prefix if key == "_schema" and prefix else field_path(prefix, key)
        messages = value if isinstance(value, list) else [value]
        for message in messages:
            if isinstance(message, dict):
                for inner, texts in flat_fields(message, path).items():
                    out.setdefault(inner, []).extend(texts)
            else:
                out.setdefault(path, []).append(str(message))
    return out


def field_path(prefix: str, key) -> str:
    """Where `key` is inside `prefix`: an item of a list by its index, a field by its name."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)
