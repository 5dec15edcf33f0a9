"""议题公示 for staff: publishing, correcting and withdrawing a topic's notice from its page, and the
street's page of topics on notice and residents' comments to approve (公开) or reject (不予公开)."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
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
    """公示 (or correct the notice's text: first a page showing what becomes public, done once
    confirmed) and 撤回公示, from the topic's page."""
    topic = db.scalar(select(Topic).where(Topic.number == number)) if number <= ops.MAX_NUMBER else None
    roles = roles_in(current_user, g.tenant)
    if topic is None or not reaches(topic, roles, current_user.id):
        abort(404)
    withdrawing = request.form.get("do") == "withdraw"
    if request.form.get("do") == "edit":  # 返回修改, from the confirmation: the form again as typed
        return topic_views.show(number, errors={"action": "notice"}, typed=request.form)
    with Attempt("notice") as attempt:
        if withdrawing:
            ops.withdraw(g.tenant, topic, current_user.id, roles, request.form)
            flash(_("已撤回公示：门户上不再显示这个议题"), "success")
        elif request.form.get("confirm") != "1":
            return _confirm(topic, *ops.check(topic, roles, request.form))
        else:
            correcting = ops.check(topic, roles, request.form)[2]
            ops.publish(g.tenant, topic, current_user.id, roles, request.form)
            flash(_("已修改公示内容：门户上立即显示新的标题和内容") if correcting else
                  _("已公示：居民在门户的“议题公示”中能看到、支持和留言"), "success")
        return redirect(url_for("topics.show", number=number) + "#notice")
    return topic_views.show(number, errors={**attempt.errors, "action": "notice"}, status=attempt.status,
                            typed=request.form)


def _confirm(topic: Topic, title: str, text: str, live: bool):
    typed = [(k, v) for k, v in request.form.items(multi=True) if k in ("title", "text")]
    planned = ops.planned_date(g.tenant, topic)
    until = (_("居民可以支持和留言，直到议事会召开（已安排在 {when}）、议题办结或撤回公示为止；留言经审核后公开。",
               when=current_app.jinja_env.filters["local"](planned, "%Y-%m-%d %H:%M")) if planned else
             _("居民可以支持和留言，直到议事会召开（会期待定）、议题办结或撤回公示为止；留言经审核后公开。"))
    shown = [(_("公示标题"), title), (_("公示内容"), text)] + \
        [(label, value) for label, value in ((_("分类"), topic.category), (_("社区"), topic.community)) if value]
    return render_template(
        "confirm.html", heading=_("修改议题 #{n} 的公示内容？", n=topic.number) if live else
        _("公示议题 #{n}？", n=topic.number),
        lead=[_("修改后，门户的“议题公示”立即显示：") if live else _("公示后，门户的“议题公示”立即公开：")],
        shown=shown, images=None, after=[until, _("不会公开：居民的称呼、电话和地点。")],
        fields=[*typed, ("do", "publish")], back_fields=[*typed, ("do", "edit")],
        action=url_for(".change", number=topic.number), confirm_label=_("确认修改") if live else _("确认公示"))
