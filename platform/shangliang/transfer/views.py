"""The 数据导出 page: request an export, watch its progress, download it by a short-lived link."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, url_for
from flask_login import current_user

from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import menu
from ..core.lifecycle import Attempt
from ..core.permissions import require
from ..core.storage import StorageError, own_key
from ..i18n import _
from . import export as ops
from . import tasks  # noqa: F401  (declares the export job)

bp = Blueprint("transfer", __name__, url_prefix="/t/<slug>/manage/export")
menu.entry("transfer.index", "数据导出", 220, "settings", "export.manage", current="transfer.")

STATUS_LABELS = {"queued": "排队中", "running": "正在导出", "done": "已完成", "failed": "失败"}
LINK_SECONDS = 300  # the signed link is for a click, not for sharing


def _page(error: str | None = None, status: int = 200):
    rows = ops.exports()
    busy = any(r.status in ("queued", "running") for r in rows)
    return render_template("transfer/export.html", exports=rows, busy=busy, error=error, labels=STATUS_LABELS,
                           people=ops.display_names({r.created_by for r in rows})), status


@bp.get("/")
@require("export.manage")
def index():
    return _page()


@bp.post("/")
@require("export.manage")
def start():
    with Attempt() as attempt:
        ops.request_export(g.tenant, current_user.id)
        return redirect(url_for(".index"))
    return _page(_(attempt.refusal.message), attempt.status)


def _export_or_404(export_id):
    row = ops.find_export(export_id)  # the tenant filter: another tenant's export is simply not found
    if row is None:
        abort(404)
    return row


@bp.get("/<uuid:export_id>/status")
@require("export.manage")
def status(export_id):
    row = _export_or_404(export_id)
    return jsonify({"id": str(row.id), "status": row.status, "label": _(STATUS_LABELS.get(row.status, row.status)),
                    "percent": row.percent, "done_items": row.done_items, "total_items": row.total_items,
                    "size": row.size, "sha256": row.sha256,
                    "download": url_for(".download", export_id=row.id) if row.status == "done" else None})


@bp.get("/<uuid:export_id>/download")
@require("export.manage")
def download(export_id):
    row = _export_or_404(export_id)
    try:
        key = own_key(g.tenant.id, row.key) if row.status == "done" else None
    except StorageError:  # not this tenant's (logged)
        key = None
    if key is None:
        abort(404)
    record(g.tenant.id, current_user.id, "export.download", str(row.id))  # the tenant's data left here
    store = current_app.extensions["storage"]
    store.require_available()  # no link to a storage that is away: 503 naming it
    return redirect(store.download_url(key, filename=ops.download_name(g.tenant, row), expires=LINK_SECONDS))
