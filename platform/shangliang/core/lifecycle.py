"""One request lifecycle for every page and API view (after Indico's request handler): the view
parses its input, checks access and calls operations, which flush and never commit; the request
commits once, at the end, if it succeeded, and rolls back otherwise.

- A response below 400 commits; anything else (a refusal, a 404, a server error) rolls back.
- A form view wraps its operations in `with Attempt() as attempt:`; a `Refused` inside rolls
  back what they did and lands in `attempt.errors`, so the view re-renders the form with what
  was typed and `attempt.status`.
- A `Refused` that leaves a view (every API view lets it) answers in one shape: the JSON error
  body for the API, the error page otherwise, with the status its code calls for.
- What must outlive a rolled-back request (a failed sign-in counted for throttling, the audit of a
  cross-tenant read) is written in a short transaction of its own: `core.db.own_transaction`.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request

from ..i18n import _
from .db import db
from .errors import Refused, error_body, retry_headers, status_of
from .web import RETRY_AFTER, wants_json


class Attempt:
    """`with Attempt() as attempt:` around a form's operations: a refusal rolls them back and is
    kept by field (in the user's language); the block's `return` only runs when they succeeded."""

    def __init__(self, default_field: str = "form"):
        self.default_field, self.errors, self.refusal = default_field, {}, None

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, kind, exc, _tb) -> bool:
        if not isinstance(exc, Refused):
            return False
        db.rollback()
        self.refusal = exc
        self.errors.update({k: _(v) if isinstance(v, str) else v for k, v in getattr(exc, "errors", {}).items()}
                           or {exc.field or self.default_field: _(exc.message)})
        return True

    @property
    def status(self) -> int:
        return 200 if self.refusal is None else status_of(self.refusal, 400)


def refusal_fields(exc: Refused, default_field: str) -> dict:
    """The fields of an API refusal: every field a many-field refusal names, or its one field
    (error_body flattens them)."""
    return getattr(exc, "errors", None) or {exc.field or default_field: exc.message}


def refusal_field(view) -> str:
    return getattr(view, "refusal_field", None) or "form"


def init_lifecycle(app: Flask) -> None:
    @app.after_request
    def finish(response):
        if response.status_code < 400:
            db.commit()  # the one commit point of a request
        else:
            db.rollback()
        return response

    @app.errorhandler(Refused)
    def refused(exc: Refused):
        db.rollback()
        view = current_app.view_functions.get(request.endpoint)
        if wants_json():
            code = "validation_error" if exc.code == "refused" else exc.code
            fields = None if code == "invalid_json" else refusal_fields(exc, refusal_field(view))
            return jsonify(error_body(code, exc.message, fields)), status_of(exc, 422), retry_after(exc)
        status = status_of(exc, 400)
        return render_template("error.html", code=status, message=_(exc.message)), status, retry_after(exc)


def retry_after(exc: Refused) -> dict:
    """A refusal that says when to try again: a throttle's wait (errors.retry_headers), or a
    moment's outage (503: storage away)."""
    return retry_headers(exc) or ({"Retry-After": str(RETRY_AFTER)} if status_of(exc) == 503 else {})
