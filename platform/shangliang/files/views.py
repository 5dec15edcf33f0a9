"""Pages and the browser's JSON calls for files. The file itself never passes through here:
the browser posts it to storage with the signed form that `uploads` hands out."""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from ..accounts.models import User
from ..core.errors import Refused
from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import require, roles_in
from ..core.storage import DOWNLOAD_EXPIRY, UPLOAD_EXPIRY
from ..core.errors import error_body
from ..i18n import _
from ..topics.evidence import register_evidence_files
from ..topics.page import register_part
from . import operations as ops
from . import tasks  # noqa: F401  (declares the jobs)
from .content import human_size
from .models import Attachment

bp = Blueprint("files", __name__, url_prefix="/t/<slug>/files")

STATUS_LABELS = {"uploading": "正在上传", "checking": "正在检查", "ready": "已通过检查", "refused": "未通过检查",
                 "deleted": "已删除"}
HTTP_STATUS = {"not_found": 404, "forbidden": 403, "too_large": 413, "quota_exceeded": 413, "conflict": 409,
               "storage_unavailable": 503}


def _roles():
    return roles_in(current_user, g.tenant)


def refused_json(exc: Refused):
    message = _(exc.message)
    return jsonify(error_body(exc.code, message, {exc.field or "file": [message]})), HTTP_STATUS.get(exc.code, 422)


def attachment_json(att: Attachment) -> dict:
    return {"id": str(att.id), "status": att.status, "label": _(STATUS_LABELS[att.status]),
            "error": _(att.error) if att.error else None, "kind": att.kind, "name": att.filename,
            "status_url": url_for("files.status", attachment_id=att.id)}


# ---------------------------------------------------------------- for templates

@bp.app_template_global()
def attachments_of(owner_kind: str, owner_id) -> list[Attachment]:
    """The owner's files for `gallery(...)`, as this person may see them (operations.gallery_items)."""
    return ops.gallery_items(owner_kind, owner_id, _roles(), current_user.id)


@bp.app_template_global()
def can_delete_file(att: Attachment) -> bool:
    return current_user.is_authenticated and ops.may_delete(att, _roles(), current_user.id)


@bp.app_template_global()
def can_upload_to(owner_kind: str, owner) -> bool:
    return current_user.is_authenticated and ops.may_upload(owner_kind, owner, _roles(), current_user.id)


# ---------------------------------------------------------------- the topic's files (topics cannot import files)

def ready_by_key(key: str) -> Attachment | None:
    return db.scalar(select(Attachment).where(Attachment.key == key, Attachment.status == "ready").limit(1))


def topic_files(topic, log, roles, user_id) -> dict:
    """The topic's photos and attachments, and those ready to be recorded as evidence."""
    files = ops.gallery_items("topic", topic.id, roles, user_id)
    recorded = {e.data.get("attachment_id") for e in log if e.action == "attach"}
    return {"files": files, "unrecorded": [a for a in files if a.status == "ready" and str(a.id) not in recorded]}


register_evidence_files(ops.get, ready_by_key)
register_part("files", topic_files)


@bp.app_template_filter("filesize")
def filesize(n) -> str:
    return human_size(int(n or 0))


# ---------------------------------------------------------------- upload (JSON, for static/files.js)

@bp.post("/uploads")
@require("files.upload")
def request_upload():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error_body("invalid_json", _("请求内容须为 JSON 对象"))), 400
    try:
        att, form = ops.request_upload(g.tenant, current_user.id, str(data.get("owner_kind") or ""),
                                       data.get("owner_id"), data.get("filename"), data.get("size"),
                                       data.get("content_type"), roles=_roles())
    except Refused as exc:
        db.rollback()
        return refused_json(exc)
    db.commit()
    return jsonify({**attachment_json(att), "form": form, "expires_in": UPLOAD_EXPIRY,
                    "complete_url": url_for(".complete", attachment_id=att.id)}), 201


@bp.post("/<uuid:attachment_id>/complete")
@require("files.upload")
def complete(attachment_id):
    try:
        att = ops.complete_upload(g.tenant, current_user.id, attachment_id)
    except Refused as exc:
        db.rollback()
        return refused_json(exc)
    db.commit()
    return jsonify(attachment_json(att)), 202


@bp.get("/<uuid:attachment_id>/status")
@require("tenant.view")
def status(attachment_id):
    att = ops.visible(attachment_id, _roles())
    if att is None:
        abort(404)
    return jsonify(attachment_json(att))


# ---------------------------------------------------------------- download, delete

@bp.get("/<uuid:attachment_id>")
@require("tenant.view")
def download(attachment_id):
    """A signed link, valid for five minutes at most; only once the file passed its check."""
    att = ops.visible(attachment_id, _roles())
    size = request.args.get("size")
    url = ops.signed_url(att, size if size in ("thumb", "web") else None, expires=DOWNLOAD_EXPIRY) if att else None
    if url is None:
        abort(404)
    resp = redirect(url)
    # A gallery asks for the same thumbnails again on every page: a minute of reuse, well inside the link's life.
    resp.headers["Cache-Control"] = "private, max-age=60" if size in ("thumb", "web") else "no-store"
    return resp


@bp.post("/<uuid:attachment_id>/delete")
@require("files.upload")
def delete(attachment_id):
    try:
        ops.delete_attachment(g.tenant, current_user.id, _roles(), attachment_id)
    except Refused as exc:
        db.rollback()
        if exc.code == "not_found":
            abort(404)
        abort(403)
    db.commit()
    nxt = request.form.get("next") or ""
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for(".index"))


# ---------------------------------------------------------------- the street's files page

def owner_links(rows) -> dict:
    """(owner_kind, owner_id) → (label, url or None) for a page of attachments, a query per kind."""
    out = {}
    for kind, owner in ops.OWNERS.items():
        ids = {a.owner_id for a in rows if a.owner_kind == kind}
        if not ids:
            continue
        model = owner.load()
        for row in db.scalars(select(model).where(model.id.in_(ids))):
            number = getattr(row, "number", None)
            label = {"topic": _("议题"), "meeting": _("议事会"), "work_item": _("工作清单")}[kind]
            label = f"{label} #{number} {row.title}" if number else f"{label}：{row.title}"
            try:
                url = url_for({"topic": "topics.show", "meeting": "meetings.show"}[kind], number=number)
            except (BuildError, KeyError):
                url = None
            out[(kind, row.id)] = (label, url)
    return out


@bp.get("/")
@require("tenant.manage")
def index():
    page = paginate(select(Attachment).where(Attachment.status != "deleted")
                    .order_by(Attachment.created_at.desc(), Attachment.id))
    people = dict(db.execute(select(User.id, User.display_name).where(
        User.id.in_({a.created_by for a in page.items if a.created_by}))).all()) if page.items else {}
    return render_template("files/index.html", page=page, used=ops.usage(), quota=ops.quota(g.tenant),
                           check=ops.latest_check(), owners=owner_links(page.items), people=people,
                           labels=STATUS_LABELS)
