"""A transfer's evidence: the photos and documents a department adds beside its written reply
(what the site looks like now, the permit, the test report). Its contacts add them while the
transfer is open, wherever the department is: a county department's contacts hold no role in the
street, so the transfer itself lets them in (OwnerKind.guest). The street's staff see them on the
topic's page; the reply records which files it rests on."""
from __future__ import annotations

from sqlalchemy import select

from ..core.db import db
from ..topics.models import Transfer
from ..topics.page import register_part
from ..topics.transfers import answers_for, register_reply_files
from .models import Attachment
from .owners import OwnerKind, register_owner


def _contact(transfer: Transfer, user_id: int | None) -> bool:
    return user_id is not None and answers_for(user_id, transfer)


def _adds(transfer: Transfer, _roles, user_id: int | None) -> bool:
    return transfer.is_open and _contact(transfer, user_id)


register_owner("transfer", OwnerKind(Transfer, "转办", "topics.view", "transfers.answer", admits=_adds,
                                     guest=_contact, sealed=lambda transfer: not transfer.is_open))


def _ready(*where) -> list[Attachment]:
    return list(db.scalars(select(Attachment).where(
        Attachment.owner_kind == "transfer", Attachment.status == "ready", *where)
        .order_by(Attachment.created_at, Attachment.id)))


def reply_files(transfer: Transfer) -> list[dict]:
    return [{"id": str(a.id), "name": a.filename} for a in _ready(Attachment.owner_id == transfer.id)]


def transfer_files(topic, log, _roles, _user_id) -> dict:
    """On the topic's page: each transfer's checked files, one query for all of them (none for a
    topic never transferred)."""
    if not any(e.action in ("transfer", "cotransfer") for e in log):
        return {"transfer_files": {}}
    by_transfer: dict = {}
    of_topic = select(Transfer.id).where(Transfer.topic_id == topic.id)
    for att in _ready(Attachment.owner_id.in_(of_topic)):
        by_transfer.setdefault(att.owner_id, []).append(att)
    return {"transfer_files": by_transfer}


register_reply_files(reply_files)
register_part("transfer_files", transfer_files)
