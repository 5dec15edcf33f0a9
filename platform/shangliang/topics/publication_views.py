"""The review of 办理公示: concluded topics waiting for staff to publish their public text and
choose their photos (or withhold them with a reason); what is public, and since when."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..core import menu
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import require
from ..core.storage import own_link
from ..i18n import _
from . import publication as ops
from .models import Topic

bp = Blueprint("publication", __name__, url_prefix="/t/<slug>/publication")
menu.entry("publication.index", "公示审核", 70, "topics", "gongshi.manage", kinds={"street"}, current="publication.")
VIEWS = {"awaiting": "待审核", "published": "已公示"}


@bp.record_once
def _helpers(state):
    state.app.jinja_env.globals.update(public_view=ops.public_view)


def _street():
    """Topics are a street's: a county has none to publish (403, after `require`)."""
    if not g.tenant.is_street:
        abort(403)


def _photo_url(data: dict) -> str:
    return url_for("files.download", attachment_id=data["attachment_id"]) if data.get("attachment_id") else \
        own_link(g.tenant.id, data["key"])


@bp.get("/")
@require("gongshi.manage")
def index(errors=None, typed=None, failed=None, status=200):
    _street()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "awaiting"
    page = paginate(ops.awaiting() if view == "awaiting" else ops.published(), per_page=ops.PER_PAGE)
    return render_template("topics/publication.html", page=page, view=view, views=VIEWS,
                           photos=ops.photos_of(page.items), errors=errors or {}, typed=typed or {},
                           failed=failed, draft=ops.draft, photo_url=_photo_url), status


@bp.post("/<int:number>")
@require("gongshi.manage")
def review(number: int):
    """公示 (once confirmed: first a page showing what becomes public) or 不予公示."""
    _street()
    topic = db.scalar(select(Topic).where(Topic.number == number))
    if topic is None:
        abort(404)
    form = {k: (vs if len(vs) > 1 or k == "photos" else vs[0]) for k, vs in request.form.lists()
            if k not in ("csrf_token", "confirm")}
    if form.get("do") == "edit":  # 返回修改, from the confirmation: the form again as typed
        return index(typed=form, failed=number)
    with Attempt() as attempt:
        if form.get("do") == "withhold":
            ops.withhold(g.tenant, topic, current_user.id, form)
            flash(_("#{n} 不予公示，理由已记入办理经过", n=number), "success")
        elif request.form.get("confirm") != "1":
            return _confirm(topic, ops.check(topic, form))
        else:
            public = ops.publish(g.tenant, topic, current_user.id, form)
            flash(_("#{n} 已公示：居民在门户的“办理公示”中能看到标题、内容和 {k} 张照片，看不到居民的称呼和电话",
                    n=number, k=len(public["photos"])), "success")
        return redirect(url_for(".index"))
    return index(errors=attempt.errors, typed=form, failed=number, status=attempt.status)


def _confirm(topic: Topic, public: dict):
    photos = dict(ops.photos_of([topic]).get(topic.id, []))
    typed = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm", "do")]
    return render_template(
        "confirm.html", heading=_("公示 #{n}？", n=topic.number),
        lead=[_("公示后，居民在门户的“办理公示”中立即能看到：")],
        shown=[(_("公示标题"), public["title"]), (_("公示内容"), public["text"]),
               (_("照片"), _("{k} 张", k=len(public["photos"])) if public["photos"] else _("不公开照片"))],
        images=[_photo_url(photos[seq]) for seq in public["photos"]],
        after=[_("不会公开：居民的称呼和电话（已检查，标题和内容中都没有）。")],
        fields=[*typed, ("do", "publish")], back_fields=[*typed, ("do", "edit")],
        action=url_for(".review", number=topic.number), confirm_label=_("确认公示"))
