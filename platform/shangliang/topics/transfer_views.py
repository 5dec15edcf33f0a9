"""Transfers as people see them: a department's inbox (across the county's streets for a county
department), the street's list of what it sent, the page where a contact accepts, replies or
returns, and the transfers panel of a topic's page."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import SAFE_METHODS, TenantSuspended, can, require, roles_in
from ..core.tenancy import cross_tenant
from ..departments.operations import answered_by, choices
from ..i18n import _
from . import transfers as ops
from .log import clock, this_visit
from .models import TRANSFER_STATES, Topic
from .page import register_part
from .people import acting_roles, reaches

bp = Blueprint("transfers", __name__, url_prefix="/t/<slug>/transfers")
menu.entry("transfers.inbox", "转办", 40, "topics", "transfers.view", kinds={"county", "street"}, current="transfers.")
STATES = {"open": "待办", "answered": "已答复或退回", "all": "全部"}


@bp.record_once
def _helpers(state):
    state.app.jinja_env.globals.update(transfer_state=lambda s: _(TRANSFER_STATES.get(s, s)))


def _mine_here() -> list:
    return [d for t, d in answered_by(current_user.id) if t == g.tenant.id]


@bp.get("/")
@require("transfers.view")
def inbox():
    """A contact's inbox of their departments' transfers; a street's staff see all it sent."""
    mine = _mine_here()
    view = request.args.get("view") or ("mine" if mine else "sent")
    state = request.args.get("state") if request.args.get("state") in STATES else "open"
    page, sees_sent = None, g.tenant.is_street and can("topics.view")
    if view == "mine" and mine:
        stmt = ops.listing(state, g.tenant.id, mine)
        if g.tenant.is_street:
            page = paginate(stmt, scalars=False)
        else:  # a county department: the transfers its streets sent, read through the audited path
            with cross_tenant(ops.streets_of(g.tenant), reason="department inbox", actor_id=current_user.id,
                              acting_tenant_id=g.tenant.id, ip=request.remote_addr):
                page = paginate(stmt, scalars=False)
    elif view == "sent" and sees_sent:
        page = paginate(ops.listing(state), scalars=False)
    return render_template("topics/transfers.html", page=page, view=view, state=state, states=STATES,
                           mine=bool(mine), sees_sent=sees_sent, now=clock(), args={"view": view, "state": state})


def reached(view):
    """The transfer page: the contacts of its department (from the street or from the county) and
    the street's staff. Anyone else, signed in, gets 404 as for any other tenant's object."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        transfer = ops.find(kwargs.pop("transfer_id"))
        if transfer is None:
            abort(404)
        answering = ops.answers_for(current_user.id, transfer)
        topic = _topic_of(transfer)
        roles = roles_in(current_user, g.tenant)  # the street's people: those who may follow the topic
        if not (answering or (can("topics.view") and reaches(topic, roles, current_user.id))):
            abort(404)
        if g.tenant.status == "suspended" and request.method not in SAFE_METHODS:
            raise TenantSuspended()
        return view(transfer, topic, answering, *args, **kwargs)

    wrapped.required_permission = "transfers.view"
    return wrapped


def _topic_of(transfer) -> Topic:
    return db.scalar(select(Topic).where(Topic.id == transfer.topic_id))


@bp.route("/<uuid:transfer_id>", methods=["GET", "POST"])
@reached
def show(transfer, topic, answering):
    errors, status = {}, 200
    if request.method == "POST":
        if not answering:
            abort(403)
        do = request.form.get("do", "")
        steps = {"accept": lambda: ops.accept(g.tenant, topic, transfer, current_user.id),
                 "reply": lambda: ops.reply(g.tenant, topic, transfer, current_user.id, request.form),
                 "return": lambda: ops.give_back(g.tenant, topic, transfer, current_user.id, request.form)}
        if do not in steps:
            abort(400)
        with Attempt() as attempt:
            steps[do]()
            flash({"accept": _("已接收，请在期限内答复办理情况"), "reply": _("已答复，街道会在议题的办理经过中看到"),
                   "return": _("已退回，街道会另行安排")}[do], "success")
            return redirect(url_for(".show", transfer_id=transfer.id))
        errors, status = attempt.errors, attempt.status
    others = [t for t in ops.of_topic(topic) if t.id != transfer.id]
    return render_template("topics/transfer.html", transfer=transfer, topic=topic, answering=answering,
                           others=others, errors=errors, typed=request.form, now=clock()), status


def topic_transfers(topic, log, roles, user_id) -> dict:
    """The topic page's transfers panel, and the departments its transfer form offers."""
    acting = acting_roles(roles) & set(topic.step["roles"])
    offers = topic.status == "open" and acting and (
        any(t["kind"] == "transfer" for t in topic.step["transitions"])
        or any(e.action in ("transfer", "cotransfer") for e in this_visit(topic, log)))
    sent = ops.of_topic(topic) if any(e.action in ("transfer", "cotransfer") for e in log) else []
    return {"transfers": sent, "department_choices": choices(g.tenant, user_id) if offers else [],
            "now": clock()}


register_part("transfers", topic_transfers)
