"""Evidence kinds: what a step may ask for before a topic leaves it (a registry, not flags).

Each kind is one entry: its key under a step's `evidence` in a procedure file and how that is
checked, the action that supplies it, how it is counted as missing from the events of the topic's
visit to the step, and how it reads. The procedure schema, the topic page and its actions, the API
and the demo history all read this registry; another kind is one more `register(...)`.

Counting reads only each event's `action` and `data` and a topic's field values through
`value_of`, so it needs nothing from the modules that keep topics."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from marshmallow import fields, validate

FIELDS = ("category", "urgency", "community", "grid", "place", "description", "resident_name",
          "resident_phone", "channel", "plan", "outcome", "summary", "reason", "department")
FIELD_LABELS = {"category": "类别", "urgency": "紧急程度", "community": "社区", "grid": "网格", "place": "地点",
                "description": "情况说明", "resident_name": "居民姓名", "resident_phone": "居民电话", "channel": "渠道",
                "plan": "解决方案", "outcome": "协商结果", "summary": "总结", "reason": "理由", "department": "部门或单位"}


@dataclass(frozen=True)
class EvidenceKind:
    """One thing a step may ask for: a yes/no (`Flag`), a number of files (`Count`) or field values."""

    key: str  # under a step's `evidence`
    action: str  # the action that supplies it
    label: str
    widget = "flag"  # how the form editor asks for it: a checkbox ("flag"), a number ("count"), fields

    # What a missing item is called in `missing` lists: 'photos:1', 'field:grid', 'rating'.
    @property
    def item(self) -> str:
        return self.key

    def schema_field(self) -> fields.Field:
        return fields.Boolean(load_default=False)

    def default(self) -> Any:
        return False

    def asked(self, wanted) -> bool:
        return bool(wanted)

    def supplied(self, event) -> bool:
        return event.action == self.action

    def missing(self, wanted, visit: list, value_of: Callable[[str], Any]) -> list[str]:
        return [self.item] if wanted and not any(self.supplied(e) for e in visit) else []

    def describe(self, rest: str) -> str:
        """A missing item in words, for the person who must supply it."""
        return self.label

    def shown(self, wanted) -> tuple[str, dict]:
        """The requirement in words (translatable text and its values), as the flow diagram shows it."""
        return self.label, {}

    def requirement(self, wanted) -> str:
        """The requirement in words, as a comparison of two versions lists it."""
        return self.label

    def supplies(self, wanted) -> list[tuple[str, str | None]]:
        """The actions that meet the requirement, one per item: (action, the file kind it attaches)."""
        return [(self.action, None)] if wanted else []


@dataclass(frozen=True)
class Count(EvidenceKind):
    """At least `wanted` files of one kind attached in the visit."""

    file_kind: str = ""  # the `kind` in an attach event's data
    words: str = ""  # '照片 {n} 张'
    widget = "count"

    def schema_field(self) -> fields.Field:
        return fields.Integer(load_default=0, validate=validate.Range(min=0, max=50))

    def default(self) -> int:
        return 0

    def supplied(self, event) -> bool:
        return event.action == self.action and event.data.get("kind") == self.file_kind

    def missing(self, wanted, visit, value_of) -> list[str]:
        have = sum(1 for e in visit if self.supplied(e))
        return [f"{self.key}:{wanted - have}"] if have < wanted else []

    def describe(self, rest: str) -> str:
        return self.words.format(n=rest)

    def shown(self, wanted) -> tuple[str, dict]:
        return self.words, {"n": wanted}

    def requirement(self, wanted) -> str:
        return f"{self.label} ≥{wanted}"

    def supplies(self, wanted) -> list[tuple[str, str | None]]:
        return [(self.action, self.file_kind)] * wanted


@dataclass(frozen=True)
class FieldValues(EvidenceKind):
    """Every named field has a value on the topic (written by `record`)."""

    widget = "fields"

    @property
    def item(self) -> str:
        return "field"

    # marshmallow's Schema has a `fields` of its own: the attribute is `fields_`, loaded from `fields`
    attribute = "fields_"

    def schema_field(self) -> fields.Field:
        return fields.List(fields.String(validate=validate.OneOf(FIELDS)), data_key=self.key, load_default=list)

    def default(self) -> list:
        return []

    def missing(self, wanted, visit, value_of) -> list[str]:
        return [f"{self.item}:{name}" for name in wanted if not value_of(name)]

    def describe(self, rest: str) -> str:
        return FIELD_LABELS.get(rest, rest)

    def shown(self, wanted) -> tuple[str, dict]:
        return "、".join(FIELD_LABELS.get(f, f) for f in wanted), {}

    def requirement(self, wanted) -> str:
        return f"{self.label}：{'、'.join(FIELD_LABELS.get(f, f) for f in wanted)}"

    def supplies(self, wanted) -> list[tuple[str, str | None]]:
        return [(self.action, None)] if wanted else []


EVIDENCE: dict[str, EvidenceKind] = {}


def register(kind: EvidenceKind) -> EvidenceKind:
    EVIDENCE[kind.key] = kind
    return kind


register(FieldValues("fields", "record", "字段"))
register(Count("photos", "attach", "照片", file_kind="photo", words="照片 {n} 张"))
register(Count("attachments", "attach", "附件", file_kind="attachment", words="附件 {n} 份"))
register(EvidenceKind("consultation_record", "consult", "协商记录"))  # a consultation meeting's record (商单)
register(EvidenceKind("signatures", "sign", "双方签字"))  # both sides sign the agreement (商定即办)
@dataclass(frozen=True)
class Rating(EvidenceKind):
    """The evaluation that decides is there: the residents' (评单), or the party the step names."""

    def supplied(self, event) -> bool:
        return event.action == self.action and event.data.get("decides", True)


register(Rating("rating", "rate", "满意度评价"))

BY_ITEM = {k.item: k for k in EVIDENCE.values()}


def schema_fields() -> dict[str, fields.Field]:
    """The `evidence` mapping of a step, for the procedure schema."""
    return {getattr(k, "attribute", k.key): k.schema_field() for k in EVIDENCE.values()}


def nothing_asked() -> dict:
    """A step's evidence when it asks for nothing."""
    return {k.key: k.default() for k in EVIDENCE.values()}


def missing(evidence: dict, visit: list, value_of: Callable[[str], Any]) -> list[str]:
    """What the step still asks for, given the events since the topic entered it."""
    return [item for k in EVIDENCE.values() for item in k.missing(evidence.get(k.key, k.default()), visit, value_of)]


def describe(item: str) -> str:
    """'field:grid' → '网格', 'photos:1' → '照片 1 张': what a person reads on the topic page."""
    prefix, _, rest = item.partition(":")
    kind = BY_ITEM.get(prefix)
    return kind.describe(rest) if kind else item


def asked_of(action: str, evidence: dict) -> bool:
    """Whether the step asks for something this action supplies."""
    return any(k.action == action and k.asked(evidence.get(k.key)) for k in EVIDENCE.values())
