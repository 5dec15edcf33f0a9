from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import require
from .models import Notification
from .operations import mark_read

bp = Blueprint("notifications", __name__, url_prefix="/t/<slug>/notifications")
menu.entry("notifications.index", "通知", 180, "home")


@bp.get("/")
@require("notifications.view")
def index():
    page = paginate(select(Notification).where(Notification.user_id == current_user.id)
                    .order_by(Notification.created_at.desc()))
    return render_template("notifications/index.html", page=page)


@bp.post("/<uuid:notification_id>/read")
@require("notifications.view")
def read(notification_id):
    n = db.scalar(select(Notification).where(Notification.id == notification_id,
                                             Notification.user_id == current_user.id))
    if n is None:
        abort(404)
    mark_read(current_user.id, n)
    return redirect(n.link or url_for(".index"))
