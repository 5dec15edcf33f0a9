"""What a refused request looks like: one exception for every rule an operation enforces, and
one JSON shape for every error the API answers."""
from __future__ import annotations


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


# The HTTP status of a refusal, by its code; anything else is a plain 400 (pages) / 422 (API).
STATUS = {"invalid_json": 400, "forbidden": 403, "not_found": 404, "conflict": 409, "used": 410, "expired": 410,
          "revoked": 410, "too_large": 413, "quota_exceeded": 413, "throttled": 429, "storage_unavailable": 503}


def status_of(exc: Refused, default: int = 400) -> int:
    return STATUS.get(exc.code, default)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The one shape of every JSON error."""
    err = {"code": code, "message": message}
    if fields:
        err["fields"] = fields
    return {"error": err}
