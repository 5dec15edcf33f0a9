"""Pages and the browser's JSON calls for files. The file itself never passes through here:
the browser posts it to storage with the signed form that `uploads` hands out."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from ..accounts.models import User
from ..core import menu
from ..core.db import db
from ..core.errors import Refused, error_body, status_of
from ..core.lifecycle import Attempt, retry_after
from ..core.pagination import paginate
from ..core.permissions import SAFE_METHODS, TenantSuspended, require, roles_in
from ..core.storage import DOWNLOAD_EXPIRY, UPLOAD_EXPIRY, current_storage
from ..i18n import _
from . import access, deletion, reconcile, uploads
from . import tasks  # noqa: F401  (declares the jobs that files/later.py asks for by name)
from .limits import human_size
from .models import Attachment
from .owners import OWNERS

bp = Blueprint("files", __name__, url_prefix="/t/<slug>/files")
menu.entry("files.index", "文件", 210, "settings", "tenant.manage", kinds={"street"})

STATUS_LABELS = {"uploading": "正在上传", "checking": "正在检查", "ready": "已通过检查", "refused": "未通过检查",
                 "deleted": "已删除"}


def _roles():
    return roles_in(current_user, g.tenant)


def refused_json(exc: Refused):
    message = _(exc.message)
    body = error_body(exc.code, message, {exc.field or "file": [message]})
    return jsonify(body), status_of(exc, 422), retry_after(exc)


def attachment_json(att: Attachment) -> dict:
    return {"id": str(att.id), "status": att.status, "label": _(STATUS_LABELS[att.status]),
            "error": _(att.error) if att.error else None, "kind": att.kind, "name": att.filename,
            "status_url": url_for("files.status", attachment_id=att.id)}


def require_or_guest(permission: str):
    """As `require`, except that someone signed in with no role here goes on with none: a county
    department's contact reaches a street's transfer, and its files, through the transfer alone.
    Each view then finds nothing (404) unless the file's owner lets them in (OwnerKind.guest)."""
    def deco(view):
        checked = require(permission)(view)

        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("api_roles") is not None or not current_user.is_authenticated or _roles():
                return checked(*args, **kwargs)
            if g.tenant.status == "suspended" and request.method not in SAFE_METHODS:
                raise TenantSuspended()
            return view(*args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return deco


# ---------------------------------------------------------------- for templates

@bp.app_template_global()
def attachments_of(owner_kind: str, owner_id) -> list[Attachment]:
    """The owner's files for `gallery(...)`, as this person may see them (operations.gallery_items)."""
    return access.gallery_items(owner_kind, owner_id, _roles(), current_user.id)


@bp.app_template_global()
def can_delete_file(att: Attachment) -> bool:
    return current_user.is_authenticated and access.may_delete(att, _roles(), current_user.id)


@bp.app_template_global()
def can_upload_to(owner_kind: str, owner) -> bool:
    return current_user.is_authenticated and access.may_upload(owner_kind, owner, _roles(), current_user.id)


@bp.app_template_filter("filesize")
def filesize(n) -> str:
    return human_size(int(n or 0))


# ---------------------------------------------------------------- upload (JSON, for static/files.js)

@bp.post("/uploads")
@require_or_guest("files.upload")
def request_upload():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        if not _roles():  # someone let in only by an owner, naming none: nothing here for them
            abort(404)
        return jsonify(error_body("invalid_json", _("请求内容须为 JSON 对象"))), 400
    try:
        att, form = uploads.request_upload(g.tenant, current_user.id, str(data.get("owner_kind") or ""),
                                           data.get("owner_id"), data.get("filename"), data.get("size"),
                                           data.get("content_type"), roles=_roles(),
                                           as_evidence=data.get("as_evidence") is True)
    except Refused as exc:  # the browser's script reads this shape (static/files.js)
        return refused_json(exc)
    return jsonify({**attachment_json(att), "form": form, "expires_in": UPLOAD_EXPIRY,
                    "complete_url": url_for(".complete", attachment_id=att.id)}), 201


@bp.post("/<uuid:attachment_id>/complete")
@require_or_guest("files.upload")
def complete(attachment_id):
    try:
        att = uploads.complete_upload(g.tenant, current_user.id, attachment_id)
    except Refused as exc:
        return refused_json(exc)
    return jsonify(attachment_json(att)), 202


@bp.get("/<uuid:attachment_id>/status")
@require_or_guest("tenant.view")
def status(attachment_id):
    att = access.visible(attachment_id, _roles(), current_user.id)
    if att is None:
        abort(404)
    return jsonify(attachment_json(att))


# ---------------------------------------------------------------- download, delete

@bp.get("/<uuid:attachment_id>")
@require_or_guest("tenant.view")
def download(attachment_id):
    """A signed link, valid for five minutes at most; only once the file passed its check."""
    att = access.visible(attachment_id, _roles(), current_user.id)
    size = request.args.get("size")
    url = access.signed_url(att, size if size in ("thumb", "web") else None, expires=DOWNLOAD_EXPIRY) if att else None
    if url is None:
        abort(404)
    current_storage().require_available()  # no link to a storage that is away: 503 naming it
    resp = redirect(url)
    # A gallery asks for the same thumbnails again on every page: a minute of reuse, well inside the link's life.
    resp.headers["Cache-Control"] = "private, max-age=60" if size in ("thumb", "web") else "no-store"
    return resp


@bp.post("/<uuid:attachment_id>/delete")
@require_or_guest("files.upload")
def delete(attachment_id):
    with Attempt() as attempt:
        deletion.delete_attachment(g.tenant, current_user.id, _roles(), attachment_id)
        nxt = request.form.get("next") or ""
        return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for(".index"))
    abort(attempt.status)  # 404 for a file one may not see, 403 for one that is not one's own


# ---------------------------------------------------------------- the street's files page

def owner_links(rows) -> dict:
    """(owner_kind, owner_id) → (label, url or None) for a page of attachments, a query per kind."""
    out = {}
    for kind, owner in OWNERS.items():
        ids = {a.owner_id for a in rows if a.owner_kind == kind}
        if not ids:
            continue
        for row in db.scalars(select(owner.model).where(owner.model.id.in_(ids))):
            out[(kind, row.id)] = _owner_link(owner, row)
    return out


def _owner_link(owner, row) -> tuple[str, str | None]:
    number = getattr(row, "number", None)
    label = f"{_(owner.label)} #{number} {row.title}" if number else f"{_(owner.label)}：{row.title}"
    try:
        url = url_for(owner.endpoint, number=number) if owner.endpoint else None
    except BuildError:
        url = None
    return label, url


@bp.get("/")
@require("tenant.manage")
def index():
    page = paginate(select(Attachment).where(Attachment.status != "deleted")
                    .order_by(Attachment.created_at.desc(), Attachment.id))
    people = dict(db.execute(select(User.id, User.display_name).where(
        User.id.in_({a.created_by for a in page.items if a.created_by}))).all()) if page.items else {}
    return render_template("files/index.html", page=page, used=uploads.usage(), quota=uploads.quota(g.tenant),
                           check=reconcile.latest_check(), owners=owner_links(page.items), people=people,
                           labels=STATUS_LABELS)
