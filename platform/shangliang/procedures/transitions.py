"""Transition kinds a procedure may declare (advance, reopen, escalate …): a registry that the
topics module fills at import with its moving actions (topics/actions.py), because what a
transition does to a topic lives there, above procedures. Here is only how a procedure file
writes one and the rules its graph must keep, so that the procedure checks need no branch per kind."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """How a transition of one kind is declared, and what the procedure checks require of it."""

    to: bool = True  # must name its target step (escalate without `to` goes up a level)
    rounds: bool = False  # must be limited by `max_rounds`, and only this kind may be
    level: str | None = None  # may name the level it goes to, this one when it does not
    needs: str | None = None  # evidence the step must ask for (复盘 needs the rating)
    into: str | None = None  # the phase its target step must be in
    from_closure: bool = True  # may be declared on a closure step
    main: bool = False  # the way a topic goes when nothing goes wrong


@dataclass(frozen=True)
class TransitionKind:
    kind: str
    label: str
    move: Move


TRANSITIONS: dict[str, TransitionKind] = {}


def register_transition(kind: str, label: str, move: Move) -> None:
    TRANSITIONS[kind] = TransitionKind(kind, label, move)


def transition_kinds() -> dict[str, TransitionKind]:
    """The registered kinds. Empty means topics was never imported: every procedure would be
    refused, so that is said plainly instead."""
    if not TRANSITIONS:
        raise RuntimeError("no transition kinds are registered: import shangliang.topics.operations first "
                           "(the application does)")
    return TRANSITIONS
