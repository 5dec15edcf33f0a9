"""The public front page of every tenant, and the street's public portal. Every view is public;
none shows a resident's name or phone except to the person who proves the receipt code and the
phone's last four digits."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..core import menu
from ..core.changes import kept, watch
from ..core.db import db
from ..core.errors import retry_headers
from ..core.lifecycle import Attempt
from ..core.pagination import paginate
from ..core.permissions import public
from ..core.storage import StorageError, StorageUnavailable, own_key
from ..files.content import sniff
from ..i18n import _, get_locale
from ..procedures.operations import current_version
from ..tenants.operations import children, communities
from ..topics.notice import live as live_notices
from . import notice as notice_ops
from . import operations as ops
from . import origin as origins

bp = Blueprint("portal", __name__, url_prefix="/t/<slug>")
menu.entry("portal.home", "公开页面", 230, "home")
PREVIEW_TOPICS = 4
PUBLIC_IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# What the page asking to confirm shows of each form, by field (everything is carried along).
RAISE_SHOWN = {"title": "标题", "description": "具体情况", "community": "所在社区", "place": "地点",
               "resident_name": "称呼", "resident_phone": "手机号码"}
NOTICE_SHOWN = {"comment": "留言", "phone": "手机号码"}
# The front page's content, the same for every resident: kept by the process until the street's
# topics (what was published), procedure or brand (on the tenant's row) change.
HOME = watch("portal_home", "topics", "procedure_versions", "tenants")


@bp.before_request
def streets_only():
    """A county's front page lists its streets; everything else here is a street's."""
    if not g.tenant.is_street and request.endpoint != "portal.home":
        abort(404)


def _closed():
    """A suspended street: every portal page says so, and nothing can be sent."""
    return render_template("portal/closed.html"), 503


def _refused(attempt: Attempt, *, conflict: bool = False) -> tuple[int, dict]:
    """The status and headers of a refused portal form, shown again: 400, whatever was refused (a
    receipt that is not found included: the page itself is there); only a flood (429, with when to
    come back: Retry-After), and a second rating, say more."""
    code = attempt.refusal.code
    if code == "throttled":
        return 429, retry_headers(attempt.refusal)
    return (409 if conflict and code == "conflict" else 400), {}


@bp.get("/")
@public
def home():
    """The public front page: a street's portal in its brand, or a county's list of streets."""
    if not g.tenant.is_street:
        streets = children(g.tenant) if g.tenant.is_county else []
        return render_template("tenants/portal.html", streets=streets)
    if g.tenant.status != "active":
        return _closed()
    if g.get("brand_preview") is not None:  # a draft brand shown to its editor (branding/views.py) is not kept
        return render_template("portal/home.html", content=_home_content())
    key = (g.tenant.id, request.script_root, get_locale(), current_user.is_authenticated)
    return render_template("portal/home.html", content=kept(HOME, key, _home_content, part=lambda _: g.tenant.id))


def _home_content() -> Markup:
    recent = list(db.scalars(ops.concluded_query().limit(PREVIEW_TOPICS)))
    return Markup(render_template("portal/_home.html", version=current_version(g.tenant), recent=recent))


@bp.route("/raise", methods=["GET", "POST"])
@public
def raise_topic():
    """点单: a resident raises a topic and gets a receipt code. Opened from a station's or a grid's
    QR code (`?station=…`, `?community=…&grid=…`), the form shows that place as chosen."""
    if g.tenant.status != "active":
        return _closed()
    form = dict(request.form)
    if request.method == "GET":
        where = origins.of(g.tenant, request.args)
        return _raise_form({"community": where.community} if where and where.community else form, where=where)
    if form.get("edit"):  # 返回修改, from the page asking to confirm: the form again, as typed
        return _raise_form(form, where=origins.of(g.tenant, request.form))
    with Attempt() as attempt:
        topic, code, _new = ops.raise_topic(g.tenant, request.form, request.remote_addr)
        return render_template("portal/receipt.html", topic=topic, code=code), 201
    if isinstance(attempt.refusal, ops.ConfirmFirst):
        return _confirm_page(url_for(".raise_topic"), attempt.refusal.token, RAISE_SHOWN, privacy=True)
    return _raise_form(form, attempt.errors, where=origins.of(g.tenant, request.form)), *_refused(attempt)


def _raise_form(form: dict, errors: dict | None = None, where: origins.Origin | None = None):
    return render_template("portal/raise.html", form=form, errors=errors or {},
                           token=ops.keep_token(g.tenant, form.get("form_token")),
                           communities=communities(g.tenant), origin=where)


def _confirm_page(action: str, token: str, shown: dict, privacy: bool = False):
    """请确认提交: a form sent very quickly, asked once (portal/operations.py's `check_fill_time`).
    Everything typed is carried along, for 确认提交 and for 返回修改 alike."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm_token", "edit")]
    typed = [(label, request.form.get(name, "").strip()) for name, label in shown.items()]
    return render_template("portal/confirm.html", action=action, token=token, fields=fields, privacy=privacy,
                           typed=[(label, value) for label, value in typed if value])


@bp.route("/follow", methods=["GET", "POST"])
@public
def follow():
    """查单 (and 评单 when the topic is at its evaluation step): code + last four phone digits."""
    if g.tenant.status != "active":
        return _closed()
    form = dict(request.form)
    if request.method == "GET":
        return _follow_page(form)
    with Attempt() as found:
        topic = ops.find(g.tenant, form.get("code", ""), form.get("last4", ""), request.remote_addr)
    if found.refusal is not None:
        return _follow_page(form, found.errors), *_refused(found)
    if form.get("action") == "confirm":
        with Attempt() as confirming:
            ops.confirm(g.tenant, topic)
            return _follow_page(form, view=ops.public_view(topic), confirmed=True)
        return _follow_page(form, confirming.errors, view=ops.public_view(topic)), \
            *_refused(confirming, conflict=True)
    if form.get("action") != "rate":
        return _follow_page(form, view=ops.public_view(topic))
    with Attempt() as rating:
        ops.rate(g.tenant, topic, request.form)
        return _follow_page(form, view=ops.public_view(topic), rated=True)
    # The rating rolled back; the topic is read again as it stands.
    return _follow_page(form, rating.errors, view=ops.public_view(topic)), *_refused(rating, conflict=True)


def _follow_page(form: dict, errors: dict | None = None, *, view=None, rated: bool = False, confirmed: bool = False):
    return render_template("portal/follow.html", form=form, errors=errors or {}, view=view, rated=rated,
                           just_confirmed=confirmed)


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
        data = current_app.extensions["storage"].get(own_key(g.tenant.id, found[1]))
    except StorageUnavailable:
        raise  # away for a moment (503), not a missing photo
    except StorageError:  # gone from storage (the storage check reports it), or not this tenant's (logged)
        abort(404)
    mimetype = PUBLIC_IMAGE_TYPES.get(sniff(data[:32]))
    if mimetype is None:  # only pictures are shown; anything else stays with the staff
        abort(404)
    resp = Response(data, mimetype=mimetype)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    resp.headers["Content-Disposition"] = "inline"
    return resp


# ---------------------------------------------------------------- 议题公示 (portal/notice.py)

@bp.get("/yiti")
@public
def notices():
    """议题公示: topics that will be consulted, newest notice first; no personal data."""
    if g.tenant.status != "active":
        return _closed()
    page = paginate(live_notices(), per_page=notice_ops.PER_PAGE, scalars=False)
    return render_template("portal/notices.html", page=page,
                           **notice_ops.extras(g.tenant, [t for _n, t in page.items]))


@bp.get("/yiti/<int:number>")
@public
def notice(number: int):
    """One topic on notice: its approved comments, and the forms to support it and comment."""
    if g.tenant.status != "active":
        return _closed()
    return _notice_page(number)


def _notice_page(number: int, errors: dict | None = None, form: dict | None = None, which: str | None = None):
    found = notice_ops.on_notice(number)
    if found is None:  # not on notice (any more), or not this street's
        abort(404)
    n, topic = found
    return render_template("portal/notice.html", notice=n, topic=topic, errors=errors or {}, form=form or {},
                           which=which, token=notice_ops.token(g.tenant, (form or {}).get("form_token")),
                           **notice_ops.extras(g.tenant, [topic], notice_ops.COMMENTS_ON_PAGE))


def _notice_form(number: int, which: str, do):
    """支持 or 留言: done, back to the topic's page with a thank-you; refused, the page again with
    what was typed and why."""
    if g.tenant.status != "active":
        return _closed()
    found = notice_ops.on_notice(number)
    if found is None:
        abort(404)
    form = {k: v for k, v in request.form.items() if k in ("phone", "comment", "form_token")}
    if request.form.get("edit"):  # 返回修改, from the page asking to confirm
        return _notice_page(number, None, form, which)
    with Attempt() as attempt:
        do(g.tenant, found[1], request.form, request.remote_addr)
        flash(_("感谢您的支持！") if which == "support" else _("留言已收到，工作人员审核后公开"), "success")
        return redirect(url_for(".notice", number=number))
    if isinstance(attempt.refusal, ops.ConfirmFirst):
        return _confirm_page(url_for(f".notice_{which}", number=number), attempt.refusal.token, NOTICE_SHOWN)
    return _notice_page(number, attempt.errors, form, which), *_refused(attempt, conflict=True)


@bp.post("/yiti/<int:number>/support")
@public
def notice_support(number: int):
    return _notice_form(number, "support", notice_ops.support)


@bp.post("/yiti/<int:number>/comment")
@public
def notice_comment(number: int):
    return _notice_form(number, "comment", notice_ops.comment)
