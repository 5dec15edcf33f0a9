"""A resident's own operations, done for them by a system: a service account (a WeChat
mini-program's back end, accounts/tokens.create_service_token) raises a topic (点单), follows it by
its receipt code and the phone's last four digits (查单), rates it (评单) and confirms its agreed plan
(商定即办), under the portal's very rules (operations.py), with the account's channel and by no
person. The topic's log names the account (`service`), as do the audit rows (`via`, which the API
sets for the request); raised topics and failed look-ups are counted per account, not per address:
one back end speaks for many residents."""
from __future__ import annotations

import secrets
from datetime import timedelta

from ..accounts.models import SERVICE_ROLE, ApiToken
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.errors import Refused
from ..procedures import evaluation
from ..tenants.models import Tenant
from ..topics import operations as topics
from ..topics.models import Topic
from ..topics.receipts import receipt_code, receipt_hash
from . import operations as ops
from .limits import Limit, take

# A street's mini-program raises what its residents raise: as many as the street takes an hour.
PER_SERVICE = Limit("raise.service", 120, timedelta(hours=1))
SUSPENDED = "本站点暂停服务，请通过热线等其他渠道反映"


def _open(tenant: Tenant) -> None:
    if tenant.status != "active":
        raise Refused(SUSPENDED, None, "suspended")


def raise_topic(tenant: Tenant, account: ApiToken, form: dict) -> tuple[Topic, str]:
    """点单 for a resident: the portal's fields and checks, the account's channel, and a receipt
    code for the resident to follow it with (only its hash is kept)."""
    _open(tenant)
    fields = ops.resident_fields(tenant, form)
    limits = [(PER_SERVICE, f"{tenant.id}:{account.id}"), (ops.PER_TENANT, str(tenant.id))]
    take(limits, ops.too_often)  # in this request's transaction: undone if it fails after
    topic = topics.create_topic(tenant, None, {**fields, "channel": account.channel}, actor_role=SERVICE_ROLE,
                                service=account.name)
    code = receipt_code(tenant.id, secrets.token_hex(12))
    topic.receipt_hash = receipt_hash(code)
    record(tenant.id, None, "resident_service.raise", f"topic:{topic.number}",
           {"service": account.name, "channel": account.channel})
    return topic, code


def find(tenant: Tenant, account: ApiToken, code: str, last4: str) -> Topic:
    """查单: the topic of a receipt code and the phone's last four digits; a wrong code and a wrong
    last4 are the same refusal (404), and failures are counted per account."""
    _open(tenant)
    return ops.find(tenant, code, last4, None, service=f"service:{account.id}")


def rate(tenant: Tenant, account: ApiToken, topic: Topic, data: dict) -> None:
    """评单 as the portal takes it: only where the procedure lets residents rate now, once."""
    known = {d["key"] for d in evaluation.dimensions(topic.step)}
    unknown = sorted(set(data.get("scores") or {}) - known)
    if unknown:
        raise Refused("评价中有本步骤不认识的项：" + "、".join(unknown), f"scores.{unknown[0]}", "validation_error")
    form = {"level": data["level"], "solved": "true" if data["solved"] else "false", "score": data.get("score"),
            "comment": data.get("comment") or "",
            **{f"score_{k}": v for k, v in (data.get("scores") or {}).items()}}
    try:
        ops.rate(tenant, topic, form, via=account.channel, service=account.name)
    except Refused as exc:
        raise _not_now(exc) from None
    record(tenant.id, None, "resident_service.rate", f"topic:{topic.number}",
           {"service": account.name, "level": data["level"]})


def confirm(tenant: Tenant, account: ApiToken, topic: Topic) -> None:
    """商定即办: the resident agrees to the plan staff and they worked out."""
    try:
        ops.confirm(tenant, topic, via=account.channel, service=account.name)
    except Refused as exc:
        raise _not_now(exc) from None
    record(tenant.id, None, "resident_service.confirm", f"topic:{topic.number}", {"service": account.name})


def _not_now(exc: Refused) -> Refused:
    """The portal refuses a rating before its step as not allowed; through the API that is the
    topic's state (409), not the token's right (403)."""
    return Refused(exc.message, exc.field, "conflict") if exc.code == "forbidden" else exc


def public(topic: Topic) -> dict:
    """What the resident's follow page shows (portal/follow.html): steps and times, the outcome,
    their rating and the plan to confirm; no names, no phone, no staff notes."""
    view = ops.public_view(topic)
    current = topic.status == "open"
    return {
        "number": topic.number, "title": topic.title, "status": topic.status, "closed_as": topic.closed_as,
        "channel": topic.channel, "created_at": topic.created_at,
        "step": _step(topic.step, current),
        "steps": [_step(s, current and s["key"] == topic.step_key) for s in view.steps],
        "outcome": topic.details.get("outcome") or None,
        "timeline": view.timeline, "can_rate": view.can_rate,
        "rating": view.rating, "plan": view.plan, "can_confirm": view.plan is not None,
        "confirmed": view.confirmed}


def _step(step: dict, current: bool) -> dict:
    return {"key": step["key"], "name": step["name"]["zh"], "name_en": step["name"].get("en"), "phase": step["phase"],
            "current": current}
