"""What other modules add to a topic's page (its files, the meetings that consulted it, members
to suggest). They sit above topics in the order, so each registers a part here at import
instead of topics importing them; the page shows what is registered."""
from __future__ import annotations

from typing import Callable

from .models import Topic, TopicEvent

# (topic, its log, the person's roles, their user id) -> template values
Part = Callable[[Topic, list[TopicEvent], set[str], int | None], dict]
PARTS: dict[str, Part] = {}


def register_part(name: str, part: Part) -> None:
    PARTS[name] = part


def parts(topic: Topic, log: list[TopicEvent], roles: set[str], user_id: int | None) -> dict:
    out: dict = {}
    for part in PARTS.values():
        out.update(part(topic, log, roles, user_id))
    return out
