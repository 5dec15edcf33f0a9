"""The 提请 queues: a street's 党工委 sees what its communities sent up, a county what its streets
did; the escalation's page, where the level answers; the topic page's 提请 panel."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from ..core import menu
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import require, roles_in
from ..core.tenancy import cross_tenant
from ..departments.operations import choices
from ..i18n import _
from . import escalations as ops
from .models import ESCALATION_ANSWERS, ESCALATION_LEVELS
from .page import register_part
from .transfers import streets_of

bp = Blueprint("escalations", __name__, url_prefix="/t/<slug>/escalations")
menu.entry("escalations.index", "提请", 50, "topics", "escalations.view", kinds={"county", "street"},
           current="escalations.")
STATES = {"open": "待答复", "answered": "已答复", "all": "全部"}


@bp.record_once
def _helpers(state):
    state.app.jinja_env.globals.update(escalation_level=lambda lv: _(ESCALATION_LEVELS.get(lv, lv)),
                                       escalation_answer=lambda k: _(ESCALATION_ANSWERS.get(k, k)))


@bp.get("/")
@require("escalations.view")
def index():
    """A street: what its communities referred to the 党工委 (and, to follow, what it sent to the
    county). A county: what its streets referred to it, read through the audited path."""
    state = request.args.get("state") if request.args.get("state") in STATES else "open"
    if g.tenant.kind == "platform":
        abort(404)
    if g.tenant.is_county:
        level = "county"
        with cross_tenant(streets_of(g.tenant), reason="escalation queue", actor_id=current_user.id,
                          acting_tenant_id=g.tenant.id, ip=request.remote_addr):
            page = paginate(ops.queue(level, state), scalars=False)
    else:
        level = request.args.get("level") if request.args.get("level") in ESCALATION_LEVELS else "street"
        page = paginate(ops.queue(level, state), scalars=False)
    return render_template("topics/escalations.html", page=page, state=state, states=STATES, level=level,
                           args={"state": state, "level": level})


@bp.route("/<uuid:escalation_id>", methods=["GET", "POST"])
@require("escalations.view")
def show(escalation_id):
    esc = ops.find(escalation_id)
    if esc is None:
        abort(404)
    topic = ops.topic_of(esc)
    answering = ops.answers(esc, roles_in(current_user, g.tenant))
    errors, status = {}, 200
    if request.method == "POST":
        if not answering:
            abort(403)
        form = {k: (vs if len(vs) > 1 else vs[0]) for k, vs in request.form.lists() if k != "csrf_token"}
        with Attempt() as attempt:
            ops.answer(g.tenant, topic, esc, current_user.id, form)
            flash(_("已答复：{kind}。提请人和街道会在议题的办理经过中看到。", kind=_(ESCALATION_ANSWERS[esc.answer_kind])),
                  "success")
            return redirect(url_for(".show", escalation_id=esc.id))
        errors, status = attempt.errors, attempt.status
    offer = answering and esc.state == "open" and topic.status == "open"
    return render_template("topics/escalation.html", esc=esc, topic=topic, answering=answering, errors=errors,
                           typed=request.form, answers=ESCALATION_ANSWERS,
                           department_choices=choices(g.tenant, current_user.id) if offer else []), status


def topic_escalations(topic, log, roles, user_id) -> dict:
    """The topic page's 提请 panel: each time it was referred up, and the answer."""
    return {"escalations": ops.of_topic(topic) if any(e.action == "escalate" for e in log) else []}


register_part("escalations", topic_escalations)
