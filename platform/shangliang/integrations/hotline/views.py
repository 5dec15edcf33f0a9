"""12345 热线 (the county's page): its hotline account (created, its callback URL changed, its
secret rotated, disabled), the queue of orders that matched no street with a street to send each
to, the latest orders that reached streets, and the callbacks to the hotline street by street."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ...core import menu
from ...core.lifecycle import Attempt
from ...core.permissions import require
from ...i18n import _
from .. import tasks  # noqa: F401  (declares the actors the callbacks are sent by)
from . import accounts, queue
from .intake import assign as assign_order
from .models import ORDER_STATES, QUEUE_REASONS
from .routing import streets_of

bp = Blueprint("hotline", __name__, url_prefix="/t/<slug>/manage/hotline")
menu.entry("hotline.index", "12345 热线", 206, "settings", "tokens.manage", kinds={"county"}, current="hotline.")


def _county():
    """The account and the queue are the county's: a street has none (403)."""
    if g.tenant.kind != "county":
        abort(403)


def _form() -> dict:
    return {"name": request.form.get("name", ""), "callback_url": request.form.get("callback_url", "")}


def _page(form=None, errors=None, secret=None, status=200, assign_errors=None):
    account = accounts.of(g.tenant)
    return render_template(
        "integrations/hotline.html", account=account, secret=secret, form=form or (
            {"name": account.name, "callback_url": account.callback_url or ""} if account else {}),
        errors=errors or {}, assign_errors=assign_errors or {}, waiting=queue.waiting(), recent=queue.recent(),
        streets=streets_of(g.tenant), reasons=QUEUE_REASONS, states=ORDER_STATES,
        # Not on the page that shows a new secret: the streets' figures are an audited read, whose
        # audit row cannot be written beside this request's own writes (SQLite has one writer).
        callbacks=queue.callbacks_by_street(g.tenant, current_user.id) if account and not secret else [],
        endpoint=url_for("hotline_api.receive_order", _external=True)), status


@bp.get("/")
@require("tokens.manage")
def index():
    _county()
    return _page()


@bp.post("/")
@require("tokens.manage")
def save():
    """Creates the account (its secret shown this once), or changes its name and callback URL."""
    _county()
    form, account = _form(), accounts.of(g.tenant)
    with Attempt() as attempt:
        if account is None:
            _row, secret = accounts.create(g.tenant, current_user.id, form)
            return _page(secret=secret)
        accounts.update(g.tenant, current_user.id, account, form)
        flash(_("已保存 12345 热线账号"), "success")
        return redirect(url_for(".index"))
    return _page(form=form, errors=attempt.errors, status=attempt.status)


def _account():
    _county()
    account = accounts.of(g.tenant)
    if account is None:
        abort(404)
    return account


@bp.post("/rotate")
@require("tokens.manage")
def rotate():
    account = _account()
    with Attempt() as attempt:
        secret = accounts.rotate(g.tenant, current_user.id, account, request.form.get("confirm") == "1")
        return _page(secret=secret)
    flash(attempt.errors.get("confirm") or _(attempt.refusal.message), "error")
    return redirect(url_for(".index") + "#rotate")


@bp.post("/active")
@require("tokens.manage")
def set_active():
    account = _account()
    active = request.form.get("active") == "1"
    accounts.set_active(g.tenant, current_user.id, account, active)
    flash(_("已启用 12345 热线账号") if active else _("已停用 12345 热线账号：热线平台的工单将被拒收，回传暂停（恢复后补发）"),
          "success")
    return redirect(url_for(".index"))


@bp.post("/orders/<uuid:order_id>/assign")
@require("topics.supervise")
def assign(order_id):
    row = queue.find(order_id) if g.tenant.kind == "county" else None  # a street has no orders: 404
    if row is None:
        abort(404)
    number = row.number
    with Attempt("street") as attempt:
        assign_order(g.tenant, current_user.id, row, request.form.get("street"))
        flash(_("工单 {number} 已派往街道，生成议题 #{topic}", number=number, topic=row.topic_number), "success")
        return redirect(url_for(".index") + "#queue")
    return _page(assign_errors={str(order_id): attempt.errors.get("street") or _(attempt.refusal.message)},
                 status=attempt.status)
