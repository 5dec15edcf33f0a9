"""The street's public portal. Every view is public; none shows a resident's name or phone
except to the person who proves the receipt code and the phone's last four digits."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from sqlalchemy import select

from ..core.errors import Refused
from ..core.db import db
from ..core.pagination import paginate
from ..core.permissions import public
from ..core.storage import StorageError
from ..i18n import _
from ..procedures.operations import current_version
from ..topics.models import Topic
from . import operations as ops

bp = Blueprint("portal", __name__, url_prefix="/t/<slug>")
PREVIEW_TOPICS = 4
PUBLIC_IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@bp.before_request
def streets_only():
    if not g.tenant.is_street:
        abort(404)


def _closed():
    """A suspended street: every portal page says so, and nothing can be sent."""
    return render_template("portal/closed.html"), 503


def home():
    if g.tenant.status != "active":
        return _closed()
    recent = list(db.scalars(ops.concluded_query().limit(PREVIEW_TOPICS)))
    return render_template("portal/home.html", version=current_version(g.tenant), recent=recent)


@bp.route("/raise", methods=["GET", "POST"])
@public
def raise_topic():
    """点单: a resident raises a topic and gets a receipt code."""
    if g.tenant.status != "active":
        return _closed()
    form, errors = dict(request.form), {}
    if request.method == "POST":
        try:
            topic, code, _new = ops.raise_topic(g.tenant, request.form, request.remote_addr)
            db.commit()
            return render_template("portal/receipt.html", topic=topic, code=code), 201
        except Refused as exc:
            db.rollback()
            errors[exc.field or "form"] = _(exc.message)
            status = 429 if exc.code == "throttled" else 400
            return render_template("portal/raise.html", form=form, errors=errors, token=ops.form_token(g.tenant),
                                   communities=_communities()), status
    return render_template("portal/raise.html", form=form, errors=errors, token=ops.form_token(g.tenant),
                           communities=_communities())


def _communities():
    from ..tenants.operations import communities

    return communities(g.tenant)


@bp.route("/follow", methods=["GET", "POST"])
@public
def follow():
    """查单 (and 评单 when the topic is at its evaluation step): code + last four phone digits."""
    if g.tenant.status != "active":
        return _closed()
    form, errors, view, rated, status = dict(request.form), {}, None, False, 200
    if request.method == "POST":
        try:
            topic = ops.find(g.tenant, request.form.get("code", ""), request.form.get("last4", ""),
                             request.remote_addr)
            if request.form.get("action") == "rate":
                try:
                    ops.rate(g.tenant, topic, request.form)
                    db.commit()
                    rated = True
                except Refused as exc:
                    db.rollback()
                    topic = ops.find(g.tenant, form["code"], form["last4"], request.remote_addr)
                    errors[exc.field or "form"], status = _(exc.message), 409 if exc.code == "conflict" else 400
            view = ops.public_view(topic)
        except Refused as exc:
            db.rollback()
            errors[exc.field or "form"], status = _(exc.message), 429 if exc.code == "throttled" else 400
    return render_template("portal/follow.html", form=form, errors=errors, view=view, rated=rated), status


@bp.get("/gongshi")
@public
def gongshi():
    """公示: concluded topics, their outcomes and photos; no personal data."""
    if g.tenant.status != "active":
        return _closed()
    page = paginate(ops.concluded_query(), per_page=10)
    return render_template("portal/gongshi.html", page=page, photos=ops.public_photos(page.items))


@bp.get("/gongshi/<int:number>/photos/<int:seq>")
@public
def gongshi_photo(number, seq):
    if g.tenant.status != "active":
        abort(404)
    found = ops.public_photo(number, seq)
    if found is None:
        abort(404)
    try:
        data = current_app.extensions["storage"].get(found[1])
    except StorageError:  # gone from storage: the storage check reports it; the page stays up
        abort(404)
    from ..files.content import sniff

    mimetype = PUBLIC_IMAGE_TYPES.get(sniff(data[:32]))
    if mimetype is None:  # only pictures are shown; anything else stays with the staff
        abort(404)
    resp = Response(data, mimetype=mimetype)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    resp.headers["Content-Disposition"] = "inline"
    return resp
