"""The OpenAPI document of the API, built from the operations every area declares."""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify

from ..accounts.models import API_SCOPES
from ..core.permissions import public
from ..core.web import ROW_NUMBER_MAX
from . import schemas
from .base import OPERATIONS, bp
from .resident_schemas import CODE_PARAM


def _always(_op) -> bool:
    return True


# Every error an operation may answer and which operations may: one rule per status, so that each
# operation lists the statuses it can answer and no other (in the one shape, `Error`).
ERRORS = [
    ("400", "A malformed request: a NUL character in the path or query; a body that is not a JSON object "
            "(or not the form it should be)", _always),
    ("401", "No or malformed API token; or the token was revoked, has expired, or its owner can no longer sign in or "
            "no longer belongs to the tenant", lambda op: not op["signed"]),
    ("401", "Unsigned, badly signed, outside the timestamp window, signed with a secret not the county account's "
            "(or its account is disabled), or the same signed request a second time: nothing was done",
     lambda op: op["signed"]),
    ("403", "The token lacks the operation's scope (`insufficient_scope`, naming it), or the roles it acts with may "
            "not do this (`forbidden`)", lambda op: not op["signed"]),
    ("404", "No such tenant or object for this token", _always),
    ("409", "Someone acted first (stale version), or a duplicate", lambda op: op["method"] != "get"),
    ("413", "The body is too large", lambda op: bool(op["body"])),
    ("422", "Invalid fields; `error.fields` names each by its path",
     lambda op: op["method"] != "get" or 422 in op["answers"]),
    ("429", "Too many attempts (a flood of topics, or receipt codes guessed): the message says how long to wait",
     lambda op: 429 in op["answers"]),
    ("503", "Storage is unavailable; try again", lambda op: 503 in op["answers"]),
]
DESCRIPTION = (
    "商量 platform API. Every request carries `Authorization: Bearer slt_…`, a token of the tenant in its path; it "
    "acts in that tenant only. A personal token, which anyone signed in makes for themselves on the 接口令牌 page, "
    "acts as its owner: with the roles the owner holds in the tenant at each request, and what it does is logged "
    "as theirs (`actor_id`). A token with no owner acts for a system with a role of its own, as no person. Every "
    "operation names the scope it needs (`x-scope`); a token has the scopes it was given. A service account (a "
    "system acting for residents, such as a WeChat mini-program's back end) has the scope `residents` only: it "
    "raises, follows, rates and confirms a resident's topic with their receipt code and may do nothing else, "
    "by no person. `GET /t/{slug}/token` "
    "says who a token acts as. Objects carry the ids other operations take: a topic's and a meeting's `id` is the "
    "`owner_id` of their files, their `number` is what their paths take. Every error has the shape `Error`; where "
    "fields are wrong, `error.fields` maps each one's path (`title`, `topics[0]`, `participants[1].name`) to its "
    "messages. A method a path does not declare is answered 405 with `Allow` (before the token is looked at), and "
    "OPTIONS lists the methods of a path. The county's 12345 platform calls `/t/{county}/hotline/…` with no token, "
    "each request signed with its account's secret (the `hotline_signature` scheme).")
SCOPE_TEXT = {"read": "read what its roles may see", "topics": "record topics and act on them (claim, advance, "
              "evidence, rate)", "upload": "upload photos and attachments, delete them",
              "manage": "change meetings, the roster, the duty rota, members and settings",
              "residents": "a service account's only scope, never a person's: raise, follow, rate and confirm a "
                           "resident's topic with their receipt code (`/t/{slug}/resident/…`)"}
SCHEME = "Scopes: " + "; ".join(f"`{s}`: {SCOPE_TEXT[s]}" for s in API_SCOPES)
SIGNED = ("The county's 12345 hotline platform signs each request with its account's secret, as webhooks are "
          "signed: `X-Shangliang-Timestamp` (Unix seconds, within 5 minutes of now) and `X-Shangliang-Signature: "
          "v1=<hex HMAC-SHA256 of \"timestamp.body\">` (an empty body for GET). No token: the path names the county.")
# Both headers are one requirement: a signed request carries both.
SIGNATURE_SCHEMES = {
    "hotline_timestamp": {"type": "apiKey", "in": "header", "name": "X-Shangliang-Timestamp", "description": SIGNED},
    "hotline_signature": {"type": "apiKey", "in": "header", "name": "X-Shangliang-Signature", "description": SIGNED}}


def _security(op) -> list[dict]:
    return [{name: [] for name in SIGNATURE_SCHEMES}] if op["signed"] else [{"token": []}]


def _path_params(op) -> list[dict]:
    params = [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}]
    for name in re.findall(r"{(\w+)}", op["path"]):
        if name in op["params"]:
            params.append({"name": name, "in": "path", "required": True, "schema": op["params"][name]})
        elif name == "code":  # a receipt code (a service account's operations for residents)
            params.append({"name": name, "in": "path", "required": True, "schema": CODE_PARAM})
        elif name != "slug":  # numbers are integers, ids UUIDs
            kind = {"type": "string", "format": "uuid"} if name.endswith("_id") else \
                {"type": "integer", "minimum": 0, "maximum": ROW_NUMBER_MAX}  # core.web.RowNumber: beyond, 404
            params.append({"name": name, "in": "path", "required": True, "schema": kind})
    return params


def _successes(op) -> dict:
    content = {"application/json": {"schema": op["response"]}}
    out = {str(op["status"]): {"description": "OK", "content": content}}
    for status, text in op["also"]:
        out[str(status)] = {"description": text, "content": content}
    return out


def build_spec() -> dict:
    spec = APISpec(title="Shangliang API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], servers=[{"url": "/api/v1"}],  # the paths below are under it
                   info={"description": DESCRIPTION})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer", "description": SCHEME})
    for name, scheme in SIGNATURE_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    # named only inside other fields' metadata (an action's `data`, an event's `rating`)
    spec.components.schema("RatingInput", schema=schemas.RatingInputSchema)
    spec.components.schema("Rating", schema=schemas.RatingSchema)
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        params = _path_params(op)
        if op["paged"]:
            params.append({"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}})
        params += op.get("query", [])
        item = {"summary": op["summary"], "security": _security(op), "parameters": params,
                "description": op["description"] or f"Token scope: `{op['scope']}`.", "responses": _successes(op)}
        if not op["signed"]:
            item["x-scope"] = op["scope"]
        for code, text, applies in ERRORS:
            if applies(op) and code not in item["responses"]:
                item["responses"][code] = {"description": text, "content": {"application/json": {"schema": "Error"}}}
        if isinstance(op["body"], dict):  # spelled out in full, e.g. a multipart file upload
            item["requestBody"] = op["body"]
        elif op["body"]:
            item["requestBody"] = {"required": True, "content": {"application/json": {"schema": op["body"]}}}
        paths.setdefault(op["path"], {})[op["method"]] = item
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(build_spec())
