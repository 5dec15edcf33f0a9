"""The topic as an owner of files. Files sits above topics, so the topic's registration lives
here rather than in topics/ (which must not import files); files/__init__.py imports it."""
from __future__ import annotations

from ..topics.models import Topic
from ..topics.operations import available_actions
from .owners import OwnerKind, register_owner


def may_attach(topic: Topic, roles, user_id: int | None) -> bool:
    """Evidence: only someone who may attach at the topic's current step adds files to it."""
    return any(a.kind == "attach" for a in available_actions(topic, set(roles), user_id))


register_owner("topic", OwnerKind(Topic, "议题", "topics.view", "topics.view", admits=may_attach,
                                  endpoint="topics.show"))
