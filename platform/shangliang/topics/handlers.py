"""Each action's own input, checked: a handler takes (topic, data, log), refuses bad input naming
the field, may set the topic's fields, and returns what the log keeps of the action. The
registry of actions (actions.py) names the handler of each kind; a rating's is ratings.check."""
from __future__ import annotations

from ..accounts.models import Membership
from ..core.db import db
from ..core.errors import Refused
from ..core.storage import StorageError, check_key, tenant_prefix
from ..procedures.evidence import FIELDS
from .evidence import EVIDENCE_FILES
from . import places
from .intake import TOPIC_COLUMNS, check_choice
from .log import claimants, this_visit
from .ratings import last_rating


def record(topic, data, _log):
    kept = {}
    for name, value in data.items():
        if name not in FIELDS:
            raise Refused("未知字段", name, "validation_error")
        value = (str(value) if value is not None else "").strip()
        if len(value) > 5000:
            raise Refused("最多 5000 个字符", name, "validation_error")
        check_choice(name, value)
        if name in TOPIC_COLUMNS:
            setattr(topic, name, value or None)
        else:
            topic.details = {**topic.details, name: value}
        kept[name] = value
    if not kept:
        raise Refused("没有要记录的内容", "fields", "validation_error")
    if set(kept) & set(places.FIELDS):  # chosen from the street's lists, as at intake
        places.check(topic.tenant_id, {k: getattr(topic, k) for k in places.FIELDS})
    return {"fields": sorted(kept)}  # values live on the topic; the log says what was set


def attach(topic, data, _log):
    """Evidence is an attachment that passed its check: given by its id, or by its storage key.
    A meeting's photo may serve as evidence on the topic it consulted."""
    kind, key, att_id = data.get("kind") or None, data.get("key") or "", data.get("attachment_id")
    if kind not in (None, "photo", "attachment"):
        raise Refused("须为照片或附件", "kind", "validation_error")
    att = _by_id(att_id) if att_id else _by_key(topic, key)
    if att.status != "ready":
        raise Refused("文件还未通过检查，请稍候" if att.status in ("uploading", "checking") else "文件未通过检查，不能作为证据",
                      "attachment_id", "validation_error")
    kind = kind or ("photo" if att.kind == "photo" else "attachment")
    if kind == "photo" and att.kind != "photo":
        raise Refused("该文件不是照片", "kind", "validation_error")
    return {"kind": kind, "key": att.key, "attachment_id": str(att.id), "name": att.filename}


def _by_id(att_id):
    att = EVIDENCE_FILES.get(att_id)
    if att is None or att.status == "deleted":
        raise Refused("文件不存在，请先上传", "attachment_id", "validation_error")
    return att


def _by_key(topic, key: str):
    try:
        check_key(key)
    except StorageError:
        raise Refused("文件标识无效", "key", "validation_error") from None
    if not key.startswith(tenant_prefix(topic.tenant_id)):
        raise Refused("文件不属于本单位", "key", "validation_error")
    att = EVIDENCE_FILES.ready(key)
    if att is None:  # evidence must be a file that was really uploaded, and checked
        raise Refused("文件不存在，请先上传", "key", "validation_error")
    return att


def consult(topic, data, _log):
    agreement = (data.get("agreement") or "").strip()
    if not agreement:
        raise Refused("请填写协商达成的意见", "agreement", "validation_error")
    return {"agreement": agreement[:5000], "meeting_id": data.get("meeting_id")}


def invite(topic, data, log):
    try:
        uid = int(data.get("user_id"))
    except (TypeError, ValueError):
        raise Refused("请选择要邀请的委员", "user_id", "validation_error") from None
    if db.get(Membership, {"tenant_id": topic.tenant_id, "user_id": uid, "role": "member"}) is None:
        raise Refused("只能邀请本单位的政协委员", "user_id", "validation_error")
    if uid in claimants(log):
        raise Refused("该委员已参与此议题", "user_id", "conflict")
    return {"user_id": uid}


def nothing(topic, data, _log):
    """An action whose only record is that it happened (and its comment)."""
    return {}


def close_out_of_scope(topic, data, _log):
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Refused("请说明不予受理的理由", "reason", "validation_error")
    topic.details = {**topic.details, "reason": reason[:500]}
    return {"reason": reason[:500]}


def reopen(topic, data, log):
    return {"rating": last_rating(this_visit(topic, log))}
