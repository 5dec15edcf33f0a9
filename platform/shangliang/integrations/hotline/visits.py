"""The 回访 (follow-up call) result the hotline sends back: the resident's own evaluation, taken by
the hotline on their behalf, identified by the order's number and recorded through the very
operation residents rate with on the portal (portal/operations.rate): only where the procedure
lets residents rate now, once per visit to that step, unsatisfied sends the topic back (复盘) where
the procedure says so, and a rating the hotline found invalid is kept but left out of the figures.

The body (JSON): level (very_satisfied | satisfied | basic | unsatisfied), solved (true/false),
comment (at most 500), score (1–5, optional), valid (default true) and invalid_reason (required
when valid is false)."""
from __future__ import annotations

from ...audit.operations import record
from .. import audit_kinds  # noqa: F401 (its audit entries, in words)
from ...core.db import db
from ...core.errors import Invalid, Refused
from ...core.tenancy import tenant_context
from ...portal import operations as portal
from ...tenants.models import Tenant
from ...topics import ratings
from ...topics.log import events, this_visit
from ...topics.models import Topic
from . import accounts
from .models import CHANNEL, HotlineAccount, HotlineOrder

TRUE, FALSE = (True, "true", 1, "1"), (False, "false", 0, "0")


def _form(body) -> tuple[dict, dict | None]:
    if not isinstance(body, dict):
        raise Refused("请求体须为 JSON 对象", None, "invalid_json")
    errors = {}
    if body.get("level") not in ratings.LEVELS:
        errors["level"] = "满意程度须为 very_satisfied、satisfied、basic 或 unsatisfied 之一"
    if body.get("solved") not in (*TRUE, *FALSE):
        errors["solved"] = "请说明问题是否已解决（true 或 false）"
    if len(str(body.get("comment") or "")) > 500:
        errors["comment"] = "意见最多 500 个字"
    valid = body.get("valid", True)
    if valid not in (*TRUE, *FALSE):
        errors["valid"] = "valid 须为 true 或 false"
    elif valid in FALSE and not str(body.get("invalid_reason") or "").strip():
        errors["invalid_reason"] = "无效回访须说明原因"
    if errors:
        raise Invalid(errors, "回访结果有字段不符合要求")
    form = {"level": body["level"], "solved": "true" if body["solved"] in TRUE else "false",
            "score": body.get("score"), "comment": str(body.get("comment") or "")}
    invalid = {"valid": False, "invalid_reason": str(body["invalid_reason"]).strip()[:200]} if valid in FALSE else None
    return form, invalid


def _same_again(topic: Topic, form: dict) -> bool:
    """The hotline sent this visit's result again (its retry after our answer was lost)."""
    rating = ratings.last_rating(this_visit(topic, events(topic)))
    return rating is not None and rating.get("via") == CHANNEL and rating.get("level") == form["level"] \
        and rating.get("solved") == (form["solved"] == "true")


def record_visit(county: Tenant, account: HotlineAccount, row: HotlineOrder, body) -> str:
    """'rated', or 'unchanged' when the same result came again; Refused when the topic is not
    where residents rate (409) or a field is wrong (422)."""
    form, invalid = _form(body)
    if row.state != "routed":
        raise Refused("该工单还在区县待分派，尚未办理，不能回访评价", "number", "conflict")
    with tenant_context(row.street_id):
        street = db.get(Tenant, row.street_id)
        topic = db.get(Topic, (row.street_id, row.topic_id))
        try:
            portal.rate(street, topic, form, via=CHANNEL, validity=invalid)
        except Refused as exc:
            if exc.code == "conflict" and exc.field is None and _same_again(topic, form):
                return "unchanged"
            if exc.code in ("forbidden", "suspended"):
                raise Refused("该工单目前不在评价环节，不能记录回访结果", "number", "conflict") from None
            raise
    record(county.id, None, "hotline.visit", f"hotline-order:{row.number}",
           {"via": accounts.via(account), "level": form["level"], "valid": invalid is None})
    return "rated"
