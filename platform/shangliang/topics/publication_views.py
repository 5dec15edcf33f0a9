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


@bp.get("/")
@require("gongshi.manage")
def index(errors=None, typed=None, failed=None, status=200):
    _street()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "awaiting"
    page = paginate(ops.awaiting() if view == "awaiting" else ops.published(), per_page=ops.PER_PAGE)
    return render_template("topics/publication.html", page=page, view=view, views=VIEWS,
                           photos=ops.photos_of(page.items), errors=errors or {}, typed=typed or {},
                           failed=failed, draft=ops.draft,
                           photo_url=lambda d: url_for("files.download", attachment_id=d["attachment_id"])
                           if d.get("attachment_id") else own_link(g.tenant.id, d["key"])), status


@bp.post("/<int:number>")
@require("gongshi.manage")
def review(number: int):
    _street()
    topic = db.scalar(select(Topic).where(Topic.number == number))
    if topic is None:
        abort(404)
    form = {k: (vs if len(vs) > 1 or k == "photos" else vs[0]) for k, vs in request.form.lists() if k != "csrf_token"}
    with Attempt() as attempt:
        if form.get("do") == "withhold":
            ops.withhold(g.tenant, topic, current_user.id, form)
            flash(_("#{n} 不予公示，理由已记入办理经过", n=number), "success")
        else:
            ops.publish(g.tenant, topic, current_user.id, form)
            flash(_("#{n} 已公示：居民在门户的“办理公示”中能看到", n=number), "success")
        return redirect(url_for(".index"))
    return index(errors=attempt.errors, typed=form, failed=number, status=attempt.status)
