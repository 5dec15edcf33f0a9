"""A resident's own operations for a service account (a WeChat mini-program's back end acting for the
street's residents): raise a topic (点单), follow it (查单), rate it (评单) and confirm its agreed plan
(商定即办), with the resident's receipt code and the last four digits of their phone, under the
portal's rules (portal/services.py). Only a service account's token may (scope `residents`, role
`resident_service`), and it may do nothing else in the API. It acts by no person: the topic's log
and the audit rows name the account."""
from __future__ import annotations

from flask import g, jsonify, request

from ..core.permissions import require
from ..portal import services
from . import resident_schemas as rs
from .base import body, bp, operation

BASE = "/t/{slug}/resident/topics"
TOPIC = BASE + "/{code}"


def _view(topic, status: int = 200):
    return jsonify(rs.ResidentTopicSchema().dump(services.public(topic))), status


def _proved(code: str, last4: str):
    """The topic of the code, if the last four digits are its resident's: else 404, one refusal
    for both (no oracle), each failure counted against the account."""
    return services.find(g.tenant, g.api_token, code, last4)


@bp.post("/t/<slug>/resident/topics")
@operation(BASE, "post", "点单 for a resident: the topic enters the first step by the account's channel; the answer "
           "carries the receipt code, shown this once, for the resident to follow it with",
           body=rs.ResidentRaiseSchema, response=rs.ResidentReceiptSchema, status=201, scope="residents",
           answers=(429,))
@require("residents.act")
def raise_topic():
    data = body(rs.ResidentRaiseSchema)
    topic, code = services.raise_topic(g.tenant, g.api_token, data)
    return jsonify(rs.ResidentReceiptSchema().dump({"code": code, "topic": services.public(topic)})), 201


@bp.get("/t/<slug>/resident/topics/<code>")
@operation(TOPIC, "get", "查单: a resident's topic as they see it on the portal (steps, times, outcome, their "
           "rating, a plan to confirm), by its receipt code and their phone's last four digits",
           response=rs.ResidentTopicSchema, scope="residents", query=[rs.LAST4_QUERY], answers=(422, 429),
           subject="code")
@require("residents.act")
def follow(code: str):
    return _view(_proved(code, request.args.get("last4", "")))


@bp.post("/t/<slug>/resident/topics/<code>/rating")
@operation(TOPIC + "/rating", "post", "评单: the resident's rating, only where the procedure lets residents rate "
           "and once (409 otherwise); unsatisfied sends the topic back where the procedure says so",
           body=rs.ResidentRatingSchema, response=rs.ResidentTopicSchema, scope="residents", answers=(429,))
@require("residents.act")
def rate(code: str):
    data = body(rs.ResidentRatingSchema)
    topic = _proved(code, data["last4"])
    services.rate(g.tenant, g.api_token, topic, data)
    return _view(topic)


@bp.post("/t/<slug>/resident/topics/<code>/confirm")
@operation(TOPIC + "/confirm", "post", "商定即办: the resident confirms the agreed plan, while one waits for them "
           "(409 otherwise)", body=rs.ResidentProofSchema, response=rs.ResidentTopicSchema, scope="residents",
           answers=(429,))
@require("residents.act")
def confirm(code: str):
    data = body(rs.ResidentProofSchema)
    topic = _proved(code, data["last4"])
    services.confirm(g.tenant, g.api_token, topic)
    return _view(topic)
