"""How a topic is rated (评价, 满意度): the one place for it.

A rating says how satisfied the resident is (four levels), whether the problem was solved, and
(for staff recording a callback) whether it is a valid rating at all: an invalid one is kept but
left out of the satisfaction figures. An unsatisfied, valid rating sends the topic back (复盘)
where the procedure has a reopen; 基本满意 does not. The figures (rollups, the member ledger) read
ratings in SQL through the expressions at the end, so the encoding is written once."""
from __future__ import annotations

from sqlalchemy import case, func, true

from ..core.errors import Refused
from ..procedures import evaluation
from .people import acting_roles

LEVELS = ("very_satisfied", "satisfied", "basic", "unsatisfied")  # best first
LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
VERY_SATISFIED, SATISFIED, BASIC, UNSATISFIED = LEVELS
SATISFIED_LEVELS = LEVELS[:-1]  # every level but unsatisfied: none of them sends the topic back
# Counted as satisfied in the figures; whether 基本满意 is too is the county's setting.
PLEASED = (VERY_SATISFIED, SATISFIED)
RATE = "rate"  # the action that logs a rating
TRUE, FALSE = (True, "true", "1", 1, "on"), (False, "false", "0", 0)


# What a rating's input may hold besides each dimension's `score_<key>`; anything else is refused.
INPUT = {"level", "satisfied", "solved", "score", "via", "valid", "invalid_reason", "party", "service"}


def prepare(tenant, topic, actor_id, roles: set[str], data: dict) -> dict:
    """Before the rating is checked: the party the person speaks for, where the step names parties
    (one they may speak for; asked for when they may speak for several)."""
    step, data = topic.step, dict(data)
    if data.get("service") and (actor_id is not None or set(roles) != {"resident"}):
        # only a resident's own rating names the system that sent it (portal/services.py)
        raise Refused("评价中有本步骤不认识的项：service", "service", "validation_error")
    if not evaluation.parties(step):
        if data.get("party") not in (None, "", evaluation.RESIDENTS):
            raise Refused("本步骤的评价不分评价方", "party", "validation_error")
        data.pop("party", None)
        return data
    mine = evaluation.parties_of(step, acting_roles(roles))
    keys = [p["key"] for p in mine]
    chosen = data.get("party") or (keys[0] if len(keys) == 1 else None)
    if chosen is None:
        raise Refused("请选择以哪一方的身份评价：" + "、".join(p["name"]["zh"] for p in mine), "party",
                      "validation_error")
    if chosen not in keys:
        raise Refused("您不能代表这一方评价", "party", "validation_error")
    return {**data, "party": chosen}


def check(topic, data: dict, _log) -> dict:
    """The `rate` action's input, checked: what the log keeps of it. Every key is one the step
    knows (a dimension's score, say); an unknown one is refused by name, never dropped."""
    step = topic.step
    dims = evaluation.dimensions(step)
    unknown = sorted(set(data) - INPUT - {f"score_{d['key']}" for d in dims})
    if unknown:
        raise Refused("评价中有本步骤不认识的项：" + "、".join(unknown), unknown[0], "validation_error")
    level = data.get("level") or None
    if level is None and data.get("satisfied") in (*TRUE, *FALSE):  # the two-way form of old clients
        level = SATISFIED if data["satisfied"] in TRUE else UNSATISFIED
    if level not in LEVELS:
        raise Refused("请选择满意程度", "level", "validation_error")
    solved = data.get("solved")
    if solved in (None, ""):
        solved = level != UNSATISFIED
    elif solved not in (*TRUE, *FALSE):
        raise Refused("请选择问题是否已解决", "solved", "validation_error")
    valid = data.get("valid", True) not in FALSE
    reason = (data.get("invalid_reason") or "").strip()[:200]
    if not valid and not reason:
        raise Refused("请说明评价无效的原因", "invalid_reason", "validation_error")
    out = {"level": level, "satisfied": level != UNSATISFIED, "solved": solved in TRUE, "valid": valid,
           "score": _score(data.get("score")), "via": (data.get("via") or "")[:32]}
    if data.get("service"):  # the service account that sent a resident's own rating (portal/services.py)
        out["service"] = str(data["service"])[:100]
    if evaluation.parties(step):
        party = data.get("party")
        out |= {"party": party, "decides": party == evaluation.deciding(step),
                "standing": evaluation.standing(step, party)}
    if dims:
        out["scores"] = {d["key"]: _score(data.get(f"score_{d['key']}"), f"score_{d['key']}", d["name"]["zh"])
                         for d in dims}
        if (points := evaluation.score_points(out["scores"])) is not None:  # what benchmarking reads
            out["score_points"] = points
    return {**out, "invalid_reason": reason} if not valid else out


def _score(score, field: str = "score", name: str | None = None) -> int | None:
    """A 1–5 score; optional overall, required for each dimension the step declares."""
    if score in (None, ""):
        if name is None:
            return None
        raise Refused(f"请为“{name}”打分（1–5）", field, "validation_error")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = -1
    if not 1 <= score <= 5:
        raise Refused("评分须为 1–5", field, "validation_error")
    return score


def rating_of(data: dict) -> dict:
    """A logged rating with every field, also for ratings logged before levels existed."""
    level = data.get("level") or (SATISFIED if data.get("satisfied") else UNSATISFIED)
    return {**data, "level": level, "solved": data.get("solved", level != UNSATISFIED),
            "valid": data.get("valid", True)}


def last_rating(visit: list) -> dict | None:
    """The rating that stands in a visit to a step: the last one logged by the party that decides
    (every other party's is kept beside it, and shown)."""
    ratings = [e.data for e in visit if e.action == RATE and e.data.get("decides", True)]
    return ratings[-1] if ratings else None


def sends_back(rating: dict | None) -> bool:
    """The reopen rule: an unsatisfied rating sends the topic back, unless staff marked it invalid
    (a malicious one, say)."""
    return rating is not None and not rating.get("satisfied") and rating.get("valid", True)


def counts_as_satisfied(level: str, basic_counts: bool) -> bool:
    """In the figures: (very) satisfied always, 基本满意 where the county counts it."""
    return level in PLEASED or (level == BASIC and basic_counts)


# ---------------------------------------------------------------- in SQL, over a rate event's `data`

def level_sql(data):
    """The level; ratings logged before levels existed read as satisfied or not."""
    return func.coalesce(data["level"].as_string(), case((data["satisfied"].as_boolean(), SATISFIED),
                                                         else_=UNSATISFIED))


def solved_sql(data, level=None):
    """Whether the problem was solved; by default, every level but unsatisfied."""
    return func.coalesce(data["solved"].as_boolean(), (level_sql(data) if level is None else level) != UNSATISFIED)


def valid_sql(data):
    return func.coalesce(data["valid"].as_boolean(), true())


def decides_sql(data):
    """Whether the rating is the deciding party's (ratings logged before parties existed are)."""
    return func.coalesce(data["decides"].as_boolean(), true())


def score_sql(data):
    return data["score"].as_integer()
