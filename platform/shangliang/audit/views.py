from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..core import menu
from ..core.pagination import paginate
from ..core.permissions import require
from .models import AuditLog

bp = Blueprint("audit", __name__, url_prefix="/t/<slug>/manage")
menu.entry("audit.index", "操作日志", 190, "settings", "audit.view")


@bp.get("/audit")
@require("audit.view")
def index():
    page = paginate(select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    return render_template("audit/index.html", page=page)
