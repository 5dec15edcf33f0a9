"""What may be done to a topic: one registry of actions (after CTFd's CHALLENGE_CLASSES), and
`act(...)`, the only way a topic changes.

Each kind of action is one `register(ActionKind(...))` below: whether it moves the topic (then
it is a transition a procedure declares, and the procedure checks read its `Move`) or records
at the step, when it is offered, the handler that checks its input, its label. Another kind is
one more entry (and its label's translation). What a step asks for before it may be left is the
registry of evidence kinds (procedures/evidence.py).

Every change is checked against the actor's roles at the current step and the evidence the step
asks for, logged as an immutable event, and guarded by the topic's version so that two people
cannot both act at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..core.db import db
from ..core.errors import Refused
from ..procedures.evidence import asked_of
from ..procedures.transitions import Move, register_transition
from ..tenants.models import Tenant
from . import counts, escalations, handlers, notice, outcomes, publication, ratings, signatures, supervision, transfers
from .deadlines import add_time_limit
from .evidence import describe_missing, missing_evidence
from .log import claimants, clock, events, log_event, this_visit
from .models import Topic, TopicEvent
from .people import acting_roles

MAX_CLAIMANTS = 3


@dataclass
class Here:
    """What an offer is judged on: the topic at its step, this person, what its visit holds."""

    topic: Topic
    roles: set[str]  # acting roles
    user_id: int | None
    visit: list[TopicEvent]
    claimants: list[int]
    missing: list[str]

    @property
    def step(self) -> dict:
        return self.topic.step

    @property
    def as_member(self) -> bool:
        return "member" in self.roles and "member" in self.step["roles"]


Offer = Callable[[Here, dict | None], bool]  # (here, the declared transition or None) -> offered now


def anywhere(here: Here, transition: dict | None) -> bool:
    return True


@dataclass(frozen=True)
class ActionKind:
    kind: str
    label: str
    apply: Callable[[Topic, dict, list[TopicEvent]], dict]  # checks the input; returns what the log keeps
    move: Move | None = None  # a transition a procedure declares; None: it records at the step
    offered: Offer = anywhere  # besides being one of the step's roles (and declared, for a move)
    when_asked: bool = False  # offered only where the step asks for evidence it supplies
    leaves: bool = False  # leaves the step: the step's evidence must all be there
    new_round: bool = False  # starts another round (复盘)
    escalates: bool = False  # marks the topic escalated
    closes_as: str | None = None  # closes the topic, as this
    # Input read before anything is written (tenant, topic, actor, their roles, data) -> data: the
    # departments a 转交 may name include the county's (an audited read), the party a rating speaks for.
    prepare: Callable | None = None
    # What follows once the event is logged (tenant, topic, event, actor, the prepared input): rows
    # of its own, such as the transfers a 转交 creates.
    follow: Callable | None = None
    # Irreversible: the topic's page asks first, saying what will change (the API acts at once).
    confirm: str | None = None


ACTIONS: dict[str, ActionKind] = {}


def register(kind: ActionKind) -> ActionKind:
    ACTIONS[kind.kind] = kind
    if kind.move is not None:
        register_transition(kind.kind, kind.label, kind.move)
    return kind


# ---------------------------------------------------------------- the kinds

def _may_claim(here: Here, _t) -> bool:
    return here.as_member and here.user_id not in here.claimants and len(here.claimants) < MAX_CLAIMANTS


def _may_invite(here: Here, _t) -> bool:
    return here.as_member and here.user_id in here.claimants and len(here.claimants) < MAX_CLAIMANTS


def _at_closure(here: Here, _t) -> bool:
    return here.step["phase"] == "closure"


def _was_transferred(here: Here, _t) -> bool:
    return any(e.action in ("transfer", "cotransfer") for e in here.visit)


def _sent_back(here: Here, t: dict) -> bool:
    return ratings.sends_back(ratings.last_rating(here.visit)) and here.topic.round < t["max_rounds"]


# In the order a page offers them: what records at the step, then the step's transitions.
register(ActionKind("record", "记录", handlers.record))
register(ActionKind("attach", "记为证据", handlers.attach))
register(ActionKind("comment", "留言", handlers.nothing))
register(ActionKind("consult", "协商记录", handlers.consult, when_asked=True))
register(ActionKind("sign", "双方签字", signatures.check, when_asked=True, prepare=signatures.prepare,
                    follow=signatures.keep_drawing))
register(ActionKind("confirm", "居民确认方案", signatures.confirm, offered=signatures.may_confirm))
register(ActionKind(ratings.RATE, "评价", ratings.check, when_asked=True, prepare=ratings.prepare))
register(ActionKind("claim", "认领", handlers.nothing, offered=_may_claim))
register(ActionKind("invite", "邀请委员", handlers.invite, offered=_may_invite))
register(ActionKind("close", "办结", handlers.nothing, offered=_at_closure, leaves=True, closes_as="done",
                    confirm="办结后议题关闭，不再推进或补充记录；办理结果经「公示审核」发布后才对居民公开。"))
register(ActionKind("advance", "推进", handlers.nothing, Move(from_closure=False, main=True), leaves=True))
register(ActionKind("reopen", "复盘", handlers.reopen, Move(rounds=True, needs="rating"), offered=_sent_back,
                    new_round=True))
register(ActionKind("escalate", "提请上级", escalations.check, Move(to=False, level="street"), escalates=True,
                    follow=escalations.raise_up))
register(ActionKind("transfer", "转交", transfers.check, Move(), prepare=transfers.prepare, follow=transfers.send))
# 多部门协作: at the step a transfer led to, more departments may be asked, each with its own answer.
register(ActionKind("cotransfer", "再转交其他部门", transfers.check, offered=_was_transferred,
                    prepare=transfers.prepare, follow=transfers.send))
register(ActionKind("close_out_of_scope", "不予受理", handlers.close_out_of_scope, Move(into="closure"),
                    closes_as="out_of_scope", confirm="不予受理后议题关闭，不再办理；居民凭回执码可以看到不予受理的说明。"))

MOVING = tuple(k for k, a in ACTIONS.items() if a.move is not None)  # the kinds a procedure declares
OTHER_EVENTS = {"create": "登记", **transfers.EVENT_LABELS, **escalations.EVENT_LABELS, **supervision.EVENT_LABELS,
                **publication.EVENT_LABELS, **notice.EVENT_LABELS}  # logged outside act()


def event_label(action: str) -> str:
    """What an event or action is called on the topic page."""
    return ACTIONS[action].label if action in ACTIONS else OTHER_EVENTS.get(action, action)


# ---------------------------------------------------------------- what may be done

@dataclass
class Action:
    """An action offered now."""

    kind: str
    to: str | None = None
    label: str = ""
    missing: list[str] = field(default_factory=list)  # evidence still needed (leaving the step only)
    level: str | None = None  # escalate: "street" or "county"

    @property
    def ready(self) -> bool:
        return not self.missing


def available_actions(topic: Topic, roles: set[str], user_id: int | None, log: list[TopicEvent] | None = None
                      ) -> list[Action]:
    """Exactly what this person may do now; pages and the API offer only these."""
    roles = acting_roles(roles)
    if topic.status != "open" or not (roles & set(topic.step["roles"])):
        return []
    log = events(topic) if log is None else log
    visit = this_visit(topic, log)
    here = Here(topic, roles, user_id, visit, claimants(log), missing_evidence(topic, visit))
    out = [Action(k.kind, missing=here.missing if k.leaves else []) for k in ACTIONS.values()
           if k.move is None and _offered(k, here, None)]
    for t in topic.step["transitions"]:
        k = ACTIONS[t["kind"]]
        if _offered(k, here, t):
            out.append(Action(k.kind, t.get("to"), (t.get("name") or {}).get("zh", ""),
                              here.missing if k.leaves else [],
                              t.get("level", k.move.level) if k.move.level else None))
    return out


def _offered(kind: ActionKind, here: Here, transition: dict | None) -> bool:
    if kind.when_asked and not asked_of(kind.kind, here.step["evidence"]):
        return False
    return kind.offered(here, transition)


# ---------------------------------------------------------------- acting

def act(tenant: Tenant, actor_id: int | None, roles: set[str], topic: Topic, kind: str, *,
        expected_version: int, to: str | None = None, comment: str = "", data: dict | None = None) -> TopicEvent:
    """Do one thing to a topic, or raise Refused naming why and (where it applies) the field."""
    data = dict(data or {})
    if topic.version != expected_version:
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict")
    log = events(topic)
    offered = [a for a in available_actions(topic, roles, actor_id, log)
               if a.kind == kind and (to is None or a.to == to)]
    if not offered:
        raise Refused("您在此步骤不能执行该操作", "action", "forbidden")
    action = offered[0]
    if action.level is not None:
        data["level"] = action.level  # from the procedure, never from the request
    role = next((r for r in topic.step["roles"] if r in acting_roles(roles)), None)
    if ACTIONS[kind].leaves and not action.ready:
        raise Refused("离开此步骤前还需：" + "、".join(describe_missing(m) for m in action.missing), "evidence",
                      "evidence_missing")
    if ACTIONS[kind].prepare is not None:
        data = ACTIONS[kind].prepare(tenant, topic, actor_id, roles, data)
    try:
        event = _apply(tenant, topic, ACTIONS[kind], action, role, actor_id, comment, data, log)
        db.flush()
    except (StaleDataError, IntegrityError):  # someone else changed the topic first: their change stands
        db.rollback()
        raise Refused("该议题刚被他人处理过，请刷新后再操作", "version", "conflict") from None
    return event


def _apply(tenant, topic, kind: ActionKind, action, role, actor_id, comment, data, log) -> TopicEvent:
    with counts.watching(topic):  # the board's counts move with the topic
        event_data = kind.apply(topic, data, log)
        now = clock()
        if kind.move is not None:
            event = _move(tenant, topic, kind, action.to, actor_id, role, comment, event_data, now)
        elif kind.closes_as:
            topic.status, topic.closed_as, topic.due_at = "closed", kind.closes_as, None
            event = log_event(topic, kind.kind, actor_id, role, at=now, from_step=topic.step_key, comment=comment,
                              data=event_data)
        else:
            event = log_event(topic, kind.kind, actor_id, role, at=now, comment=comment, data=event_data)
        topic.updated_at = now  # bumps the version even when only the log grew
    if kind.follow is not None:
        kind.follow(tenant, topic, event, actor_id, data)
    outcomes.tell(tenant, topic, event, actor_id, log)
    return event


def _move(tenant, topic, kind: ActionKind, to, actor_id, role, comment, data, now) -> TopicEvent:
    steps = {s["key"]: s for s in topic.procedure.steps}
    from_step = topic.step_key
    if kind.new_round:
        topic.round += 1
    if kind.escalates:
        topic.escalated = True
    target = to or from_step
    event = log_event(topic, kind.kind, actor_id, role, at=now, from_step=from_step, to_step=target,
                      comment=comment, data=data)
    topic.step_key, topic.step_entered_at, topic.overdue = target, now, False
    topic.due_at = add_time_limit(now, steps[target].get("time_limit"), tenant.timezone)
    if kind.closes_as:  # closed at once, with its reason; no summary step to wait for
        topic.status, topic.closed_as, topic.due_at = "closed", kind.closes_as, None
    return event


def replay(log: list[TopicEvent]) -> dict:
    """The state the log gives: what Topic's denormalised columns must equal."""
    state = {"step_key": None, "round": 1, "status": "open", "escalated": False}
    for e in log:
        kind = ACTIONS.get(e.action)
        if kind is not None:
            state["round"] += kind.new_round
            state["escalated"] = state["escalated"] or kind.escalates
        if e.to_step is not None:
            state["step_key"] = e.to_step
        if kind is not None and kind.closes_as:
            state["status"] = "closed"
    return state
