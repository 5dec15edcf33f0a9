"""The topic as an owner of files. Files sits above topics, so the topic's registration lives
here rather than in topics/ (which must not import files); files/__init__.py imports it."""
from __future__ import annotations

from ..topics.evidence import register_evidence_files
from ..topics.models import Topic
from ..topics.operations import available_actions
from ..topics.page import register_part
from .access import gallery_items, get, ready_by_key
from .uploads import keep
from .owners import OwnerKind, register_owner


def may_attach(topic: Topic, roles, user_id: int | None) -> bool:
    """Evidence: only someone who may attach at the topic's current step adds files to it."""
    return any(a.kind == "attach" for a in available_actions(topic, set(roles), user_id))


register_owner("topic", OwnerKind(Topic, "议题", "topics.view", "topics.view", admits=may_attach,
                                  endpoint="topics.show"))


def topic_files(topic, log, roles, user_id) -> dict:
    """On the topic's page: its photos and attachments, and those ready to be recorded as evidence."""
    files = gallery_items("topic", topic.id, roles, user_id)
    recorded = {e.data.get("attachment_id") or e.data.get("signature_id") for e in log if e.action in ("attach", "sign")}
    return {"files": files, "unrecorded": [a for a in files if a.status == "ready" and str(a.id) not in recorded]}


register_evidence_files(get, ready_by_key, keep)  # what a topic's `attach` records as evidence
register_part("files", topic_files)
