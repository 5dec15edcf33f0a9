"""The API blueprint and what every area's operations are declared and answered with.

Every operation is declared with `operation(...)`, which is also what the OpenAPI document is built
from (api/openapi.py reads `OPERATIONS`), and names the token scope it needs; who a request acts
as and whether its token may is api/auth.py's.
A view reads its body with `body(Schema)` and lets a `Refused` leave it: the request lifecycle
(core/lifecycle.py) rolls back and answers the error shape, or commits once when the view succeeded.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, make_response, request
from marshmallow import ValidationError

from ..accounts.models import API_SCOPES
from ..core.db import db
from ..core.errors import Invalid, Refused, error_body
from ..core.forms import refuse_unholdable

bp = Blueprint("api", __name__, url_prefix="/api/v1")
OPERATIONS: list[dict] = []


def operation(path: str, method: str, summary: str, *, response=None, body=None, status: int = 200,
              paged: bool = False, query: list | None = None, subject: str = "form", scope: str | None = None,
              answers: tuple = (), signed: bool = False, also: tuple = (), params: dict | None = None,
              description: str = ""):
    """Declares an API operation (the OpenAPI document is built from these). `subject`: the field a
    refusal that names none is reported under. `scope`: what a token needs for it (API_SCOPES); a
    read needs `read`, anything else names its own (a service account's operations: `residents`).
    `answers`: error statuses it may answer beyond those of its kind (a read refusing a malformed
    query: 422; storage unavailable: 503). `signed`: authenticated by the 12345 platform's HMAC
    signature, not a token (no scope); `also`: (status, description) pairs of other successes with
    the same response; `params`: the schema of a path parameter that is neither a number nor an id."""
    scope = None if signed else scope or ("read" if method.lower() == "get" else None)
    if not signed and scope not in API_SCOPES:
        raise ValueError(f"{method.upper()} {path}: declare the scope it needs, one of {API_SCOPES}")
    OPERATIONS.append({"path": path, "method": method.lower(), "summary": summary, "response": response,
                       "body": body, "status": status, "paged": paged, "query": query or [], "scope": scope,
                       "answers": answers, "signed": signed, "also": also, "params": params or {},
                       "description": description})

    def declare(view):
        view.refusal_field = subject
        view.api_scopes = {**getattr(view, "api_scopes", {}), method.upper(): scope}
        return view

    return declare


def fail(status: int, code: str, message: str, fields: dict | None = None):
    return jsonify(error_body(code, message, fields)), status


def stop(status: int, code: str, message: str):
    """Ends the request with this error; the lifecycle rolls back, as for any answer of 400 or more."""
    abort(make_response(fail(status, code, message)))


def found(row, what: str):
    """The row, or 404 (asked before the body is read: nothing is parsed for another tenant's object)."""
    if row is None:
        stop(404, "not_found", f"no such {what}")
    return row


def body(schema_cls) -> dict:
    """The validated JSON body; else refused (the lifecycle answers 400/422 naming the fields)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):  # a list or a number would reach the schema as "invalid input"
        raise Refused("request body must be a JSON object", None, "invalid_json")
    refuse_unholdable(data)
    try:
        return schema_cls().load(data)
    except ValidationError as err:
        raise Invalid(err.messages) from None


def answer(schema_cls, obj, status: int = 200):
    """`obj` dumped with the schema. Flushed first: what an operation added has its ids and relationships
    as the database gives them (nothing is committed before the answer, the lifecycle commits after it)."""
    db.flush()
    return jsonify(schema_cls().dump(obj)), status


def page_json(page, items) -> dict:
    """A page of results; `items`: the page's rows already dumped, or the schema to dump them with."""
    if isinstance(items, type):
        items = items(many=True).dump(page.items)
    return {"items": items, "page": page.page, "per_page": page.per_page, "has_next": page.has_next}
