from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from ..core import menu
from ..core.db import db
from ..core.lifecycle import Attempt
from ..core.permissions import public
from ..i18n import LANGUAGES, _
from . import operations as ops

bp = Blueprint("accounts", __name__)
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.session_protection = None  # sessions are checked on the server instead


@login_manager.user_loader
def load_user(token: str):
    try:
        user = ops.load_session(token)
    except ops.SessionIdle:  # ended now: the sign-in page the request is sent to says why
        flash(_("长时间未操作，已自动退出，请重新登录"), "info")
        return None
    if user is not None:
        user.session_token = token
    return user


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would make the login page a phishing aid."""
    if not target:
        return url_for("tenants.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("tenants.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("accounts/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    with Attempt() as attempt:  # a failed attempt is counted in a transaction of its own
        sign_in(ops.authenticate(username, request.form.get("password", ""), request.remote_addr or "-"))
        return redirect(_safe_next(request.form.get("next")))
    exc = attempt.refusal
    if exc.code == "throttled":
        resp = make_response(render_template("accounts/login.html", error=_("登录尝试过于频繁，请 {wait}后再试",
                                                                            wait=_wait(exc.retry_after)),
                                             throttled=True, username=username, next=request.form.get("next", "")),
                             429)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    status = 400 if exc.code == "validation_error" else 401
    return render_template("accounts/login.html", error=_(exc.message), error_field=exc.field,
                           username=username, next=request.form.get("next", "")), status


def _wait(seconds: int) -> str:
    return _("{n} 秒", n=seconds) if seconds < 60 else _("{n} 分钟", n=-(-seconds // 60))


def sign_in(user) -> None:
    """Start a server-side session for `user` (it commits with the request)."""
    ops.end_session(getattr(current_user, "session_token", None))
    token = ops.start_session(user, request.remote_addr, request.user_agent.string)
    session.clear()  # a fresh session on every sign-in: nothing from before carries over
    user.session_token = token
    login_user(user)


@bp.post("/logout")
@public
def logout():
    ops.end_session(getattr(current_user, "session_token", None))
    logout_user()
    session.clear()
    flash(_("您已退出登录"), "info")
    return redirect(url_for("accounts.login"))


@bp.get("/lang/<code>")
@public
def set_language(code: str):
    resp = redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
    if code in LANGUAGES:
        resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return resp


# ---------------------------------------------------------------- members of a tenant (API tokens: token_views.py)

from flask import abort, g  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ..core.pagination import paginate  # noqa: E402
from ..core.permissions import can, require  # noqa: E402
from .models import Membership, User  # noqa: E402

manage = Blueprint("members", __name__, url_prefix="/t/<slug>/manage")
menu.entry("members.members", "成员", 170, "settings", "members.view")


def _members_page():
    stmt = select(Membership).join(Membership.user).order_by(User.username, Membership.role)
    return paginate(stmt)


@manage.route("/members", methods=["GET", "POST"])
@require("members.view")
def members():
    form, errors = {}, {}
    if request.method == "POST":
        if not can("members.manage"):
            abort(403)
        form = {k: request.form.get(k, "").strip() for k in ("username", "display_name", "role")}
        with Attempt() as attempt:
            user = db.scalar(select(User).where(User.username == ops.normalise_username(form["username"])))
            if user is None:
                user = ops.create_user(form["username"], form["display_name"], request.form.get("password", ""))
            ops.add_membership(g.tenant, current_user.id, user, form["role"])
            flash(_("已添加 {name}", name=user.display_name), "success")
            return redirect(url_for(".members"))
        errors = attempt.errors
    return render_template("accounts/members.html", page=_members_page(), form=form, errors=errors,
                           roles=ops.ASSIGNABLE[g.tenant.kind]), 400 if errors else 200


@manage.post("/members/<int:user_id>/remove")
@require("members.manage")
def remove_member(user_id: int):
    with Attempt() as attempt:
        ops.remove_membership(g.tenant, current_user.id, user_id, request.form.get("role", ""))
        flash(_("已移除"), "success")
        return redirect(url_for(".members"))
    if attempt.refusal.code == "not_found":
        abort(404)
    flash(_(attempt.refusal.message), "error")
    return redirect(url_for(".members"))
