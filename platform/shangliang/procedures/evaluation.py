"""Who evaluates at an evaluation step, and on what (评价 by several parties).

A step that asks for a rating may declare its parties (四环八步: 党政点评, 委员评议, 群众评议), each
with the roles that speak for it, the dimensions every evaluator scores 1–5 (提议办评: 时长, 类型,
成效), and which party's evaluation decides (its level counts in the satisfaction figures and may
send the topic back). Without a declaration, whoever rates speaks for the residents and decides."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,29}$", error="须为小写字母开头的 1–30 位小写字母、数字或下划线")
RESIDENTS = "residents"  # the party that decides when a step declares none


class _Names(Schema):
    zh = fields.String(required=True, validate=validate.Length(min=1, max=20))
    en = fields.String(required=True, validate=validate.Length(min=1, max=60))


class Party(Schema):
    key = fields.String(required=True, validate=KEY)
    name = fields.Nested(_Names, required=True)
    roles = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class Dimension(Schema):
    key = fields.String(required=True, validate=KEY)
    name = fields.Nested(_Names, required=True)


class Evaluation(Schema):
    parties = fields.List(fields.Nested(Party), load_default=list)
    dimensions = fields.List(fields.Nested(Dimension), load_default=list, validate=validate.Length(max=8))
    decides = fields.String()

    @validates_schema
    def consistent(self, data, **_kw):
        keys = [p["key"] for p in data.get("parties", [])]
        if len(set(keys)) != len(keys):
            raise ValidationError("评价方的标识重复", "parties")
        dims = [d["key"] for d in data.get("dimensions", [])]
        if len(set(dims)) != len(dims):
            raise ValidationError("评分维度的标识重复", "dimensions")
        if keys and data.get("decides") not in keys:
            raise ValidationError("须指明由哪一方的评价决定是否复盘（decides），且须是评价方之一", "decides")


def problems(step: dict) -> list[tuple[str, str]]:
    """What the graph checks say of a step's evaluation: it belongs to a step that asks for a rating,
    and each party speaks through roles that act at the step."""
    ev = step.get("evaluation")
    if not ev:
        return []
    where = f"steps[{step['key']}].evaluation"
    out = []
    if not step["evidence"].get("rating"):
        out.append((where, "只有需要评价（evidence.rating）的步骤可以声明评价方"))
    for i, party in enumerate(ev.get("parties", [])):
        extra = sorted(set(party["roles"]) - set(step["roles"]))
        if extra:
            out.append((f"{where}.parties[{i}].roles", f"这些角色不能在本步骤办理：{'、'.join(extra)}"))
    return out


def parties(step: dict) -> list[dict]:
    return (step.get("evaluation") or {}).get("parties", [])


def dimensions(step: dict) -> list[dict]:
    return (step.get("evaluation") or {}).get("dimensions", [])


def deciding(step: dict) -> str:
    return (step.get("evaluation") or {}).get("decides") or RESIDENTS


# How benchmarking compares parties across procedures that name them differently: by who speaks.
OFFICIALS = {"street_admin", "county_admin", "platform_admin"}


def standing(step: dict, party_key: str) -> str:
    """'officials' (党政点评), 'members' (委员评议) or 'residents' (群众评议): the roles of the party."""
    roles = next((set(p["roles"]) for p in parties(step) if p["key"] == party_key), set())
    return "officials" if roles & OFFICIALS else "members" if "member" in roles else "residents"


def score_points(scores: dict) -> int | None:
    """The mean of a rating's dimension scores in hundredths (an integer, so that benchmarking adds
    topics, months and streets up exactly), or None when none was given."""
    given = [v for v in scores.values() if v is not None]
    return round(sum(given) * 100 / len(given)) if given else None


def parties_of(step: dict, roles: set[str]) -> list[dict]:
    """The parties a person with these (acting) roles may speak for at the step."""
    return [p for p in parties(step) if set(p["roles"]) & roles]


def label(steps: list[dict], what: str, key: str) -> str:
    """A party's or a dimension's name (`what`: 'parties' or 'dimensions'), wherever the procedure
    declares it; the key itself if none does (a rating logged under an older version)."""
    for step in steps:
        for item in (step.get("evaluation") or {}).get(what, []):
            if item["key"] == key:
                return item["name"]["zh"]
    return key
