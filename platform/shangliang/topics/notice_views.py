"""议题公示 for staff: publishing, correcting and withdrawing a topic's notice from its page, and the
street's page of topics on notice and residents' comments to approve (公开) or reject (不予公开)."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import require, roles_in
from ..i18n import _
from . import notice as ops
from . import views as topic_views
from .models import Topic
from .people import reaches

bp = Blueprint("notice", __name__, url_prefix="/t/<slug>")
menu.entry("notice.index", "议题公示", 60, "topics", "gongshi.manage", kinds={"street"}, current="notice.")
VIEWS = {"live": "公示中的议题", "pending": "待审核留言", "approved": "已公开留言", "rejected": "不予公开的留言"}


def _street():
    """Topics are a street's: a county has none on notice (403, after `require`)."""
    if not g.tenant.is_street:
        abort(403)


@bp.get("/notice/")
@require("gongshi.manage")
def index():
    """Topics on notice now with their figures, or the comments in one state, a page at a time."""
    _street()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "pending"
    if view == "live":
        page = paginate(ops.live(), per_page=ops.PER_PAGE, scalars=False)
        tallies = ops.tallies(t.id for _n, t in page.items)
    else:
        page, tallies = paginate(ops.queue(view), per_page=ops.PER_PAGE, scalars=False), {}
    return render_template("topics/notice.html", page=page, view=view, views=VIEWS, counts=ops.counts_by_state(),
                           tallies=tallies)


@bp.post("/notice/comments/<uuid:comment_id>")
@require("gongshi.manage")
def moderate(comment_id: uuid.UUID):
    """公开 or 不予公开, from the queue or from the topic's page (`back=topic`)."""
    _street()
    comment = ops.get_comment(comment_id)
    if comment is None:
        abort(404)
    decision = request.form.get("do", "")
    if ops.moderate(g.tenant, comment, current_user.id, decision):  # an unknown decision: refused, 400
        flash(_("留言已公开") if decision == "approve" else _("留言不予公开"), "success")
    if request.form.get("back") == "topic":
        number = db.scalar(select(Topic.number).where(Topic.id == comment.topic_id))
        return redirect(url_for("topics.show", number=number) + "#notice")
    view = request.form.get("view") if request.form.get("view") in VIEWS else "pending"
    return redirect(url_for(".index", view=view))


@bp.post("/topics/<int:number>/notice")
@require("topics.view")
def change(number: int):
    """公示 (or correct the notice's text) and 撤回公示, from the topic's page."""
    topic = db.scalar(select(Topic).where(Topic.number == number)) if number <= ops.MAX_NUMBER else None
    roles = roles_in(current_user, g.tenant)
    if topic is None or not reaches(topic, roles, current_user.id):
        abort(404)
    withdrawing = request.form.get("do") == "withdraw"
    with Attempt("notice") as attempt:
        if withdrawing:
            ops.withdraw(g.tenant, topic, current_user.id, roles, request.form)
            flash(_("已撤回公示：门户上不再显示这个议题"), "success")
        else:
            ops.publish(g.tenant, topic, current_user.id, roles, request.form)
            flash(_("已公示：居民在门户的“议题公示”中能看到、支持和留言"), "success")
        return redirect(url_for("topics.show", number=number) + "#notice")
    return topic_views.show(number, errors={**attempt.errors, "action": "notice"}, status=attempt.status,
                            typed=request.form)
