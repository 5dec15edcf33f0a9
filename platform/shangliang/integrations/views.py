"""事件推送: a street's webhook subscriptions, the form that adds one (its secret shown once), and
the recent deliveries with their status and 重新发送. For the street's administrators and its
county's (the people who issue API tokens, the other half of an integration)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..core import menu
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.permissions import require
from ..i18n import _
from . import operations as ops
from . import tasks  # noqa: F401  (declares the actors the page queues)
from .delivery import REASONS
from .events import EVENT_TYPES
from .models import DELIVERY_STATES

bp = Blueprint("webhooks", __name__, url_prefix="/t/<slug>/manage/webhooks")
menu.entry("webhooks.index", "事件推送", 205, "settings", "tokens.manage", kinds={"street"}, current="webhooks.")


def _street():
    """Events happen in a street (its topics, meetings, 公示): a county has none to push (403)."""
    if not g.tenant.is_street:
        abort(403)


@bp.route("/", methods=["GET", "POST"])
@require("tokens.manage")
def index():
    _street()
    form, errors, created, status = {"events": []}, {}, None, 200
    if request.method == "POST":
        form = {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
                "events": request.form.getlist("events")}
        with Attempt() as attempt:
            row, secret = ops.subscribe(g.tenant, current_user.id, form)
            created, form = {"name": row.name, "secret": secret}, {"events": []}
        errors, status = attempt.errors, attempt.status
    subs = ops.subscriptions()
    makers = [s.created_by for s in subs if s.created_by is not None]
    people = dict(db.execute(select(User.id, User.display_name).where(User.id.in_(makers))).all()) if makers else {}
    return render_template("integrations/webhooks.html", subscriptions=subs, names={s.id: s.name for s in subs},
                           people=people, deliveries=ops.recent_deliveries(), event_types=EVENT_TYPES,
                           reasons=REASONS, states=DELIVERY_STATES, form=form, errors=errors,
                           created=created), status


def _subscription(subscription_id):
    _street()
    row = ops.find_subscription(subscription_id)
    if row is None:
        abort(404)
    return row


@bp.post("/<uuid:subscription_id>/active")
@require("tokens.manage")
def set_active(subscription_id):
    row = _subscription(subscription_id)
    active = request.form.get("active") == "1"
    with Attempt() as attempt:
        ops.set_active(g.tenant, current_user.id, row, active)
        flash(_("已恢复推送：{name}", name=row.name) if active else _("已暂停推送：{name}", name=row.name), "success")
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    return redirect(url_for(".index"))


@bp.post("/<uuid:subscription_id>/delete")
@require("tokens.manage")
def remove(subscription_id):
    row = _subscription(subscription_id)
    name = row.name
    with Attempt() as attempt:
        ops.remove(g.tenant, current_user.id, row, request.form.get("confirm") == "1")
        flash(_("已删除推送订阅：{name}", name=name), "success")
    if attempt.refusal:
        flash(attempt.errors.get("confirm") or _(attempt.refusal.message), "error")
    return redirect(url_for(".index"))


@bp.post("/deliveries/<uuid:delivery_id>/resend")
@require("tokens.manage")
def resend(delivery_id):
    _street()
    row = ops.find_delivery(delivery_id)
    if row is None:
        abort(404)
    with Attempt() as attempt:
        queued = ops.resend(g.tenant, current_user.id, row, request.form.get("seen", type=int) or 0)
        flash(_("已重新加入发送队列，稍后刷新可看到结果") if queued else _("这条推送刚才已经重新发送，没有再发一次"),
              "success" if queued else "warning")
    if attempt.refusal:
        flash(_(attempt.refusal.message), "error")
    page = request.form.get("page", type=int)
    return redirect(url_for(".index", page=page if page and page > 1 else None) + "#deliveries")
