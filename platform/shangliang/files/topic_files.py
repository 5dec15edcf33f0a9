"""The topic as an owner of files. Files sits above topics, so the topic's registration lives
here rather than in topics/ (which must not import files); files/__init__.py imports it."""
from __future__ import annotations

from ..accounts.models import User
from ..core.db import db
from ..core.errors import Refused
from ..core.permissions import roles_in
from ..topics.evidence import register_evidence_files
from ..topics.models import Topic
from ..topics.operations import act, available_actions, events, missing_evidence, this_visit
from ..topics.page import register_part
from .access import gallery_items, get, ready_by_key
from .uploads import keep
from .owners import OwnerKind, register_owner


def may_attach(topic: Topic, roles, user_id: int | None) -> bool:
    """Evidence: only someone who may attach at the topic's current step adds files to it."""
    return any(a.kind == "attach" for a in available_actions(topic, set(roles), user_id))


def offers_evidence(topic: Topic, roles, user_id: int | None, log=None) -> tuple[bool, bool]:
    """An upload may count as evidence for whoever may record evidence at the step; the box is
    ticked where the step still asks for photos or attachments (issue 15: a photo uploaded at
    such a step was left "outstanding" until a second click)."""
    if topic.status != "open" or not may_attach(topic, roles, user_id):
        return False, False
    missing = missing_evidence(topic, this_visit(topic, events(topic) if log is None else log))
    return True, any(m.startswith(("photos:", "attachments:")) for m in missing)


def record_evidence(tenant, topic: Topic, att) -> None:
    """Once checked, a file uploaded as evidence is recorded at the step by its uploader, in the
    check's transaction, while the topic is still at the visit it was uploaded in and the uploader
    may still record evidence there; otherwise it stays a file of the topic, to record by hand."""
    db.refresh(topic, with_for_update=True)  # a move made meanwhile waits for this one, or came first
    if topic.status != "open" or att.created_by is None or att.created_at < topic.step_entered_at:
        return
    user = db.get(User, att.created_by)
    roles = roles_in(user, tenant) if user is not None and user.is_active_account else set()
    try:
        act(tenant, att.created_by, roles, topic, "attach", expected_version=topic.version,
            data={"attachment_id": str(att.id)})
    except Refused:
        return


register_owner("topic", OwnerKind(Topic, "议题", "topics.view", "topics.view", admits=may_attach,
                                  endpoint="topics.show", evidence=record_evidence, offers_evidence=offers_evidence))


def topic_files(topic, log, roles, user_id) -> dict:
    """On the topic's page: its photos and attachments, and those ready to be recorded as evidence."""
    files = gallery_items("topic", topic.id, roles, user_id)
    recorded = {e.data.get("attachment_id") or e.data.get("signature_id") for e in log if e.action in ("attach", "sign")}
    return {"files": files, "unrecorded": [a for a in files if a.status == "ready" and str(a.id) not in recorded],
            "evidence_offer": offers_evidence(topic, roles, user_id, log)}


register_evidence_files(get, ready_by_key, keep)  # what a topic's `attach` records as evidence
register_part("files", topic_files)
