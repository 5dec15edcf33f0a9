"""Request edges: tenant resolution, security headers, errors in one shape."""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, abort, current_app, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed
from werkzeug.routing import IntegerConverter

from ..i18n import _
from .db import Session
from .errors import error_body
from .forms import unholdable
from .storage import UNAVAILABLE as STORAGE_UNAVAILABLE, StorageUnavailable
from .tenancy import Scope, reset_scope, set_scope

RETRY_AFTER = 5  # seconds a client waits before trying again after a 503 of an outage
ERROR_TEXT = {
    400: "请求有误", 401: "请先登录", 403: "您没有权限执行此操作", 404: "页面不存在，或您无权查看",
    405: "不支持此请求方式", 413: "提交的内容过大", 429: "请求过于频繁，请稍后再试", 500: "服务器出错了，请稍后再试",
}


# Every number a path names (a topic's, a meeting's, a publication's, a user's id, an event's seq)
# is kept in a 32-bit integer column: one past it names no row, and PostgreSQL refuses to compare
# it with one (a server error, where SQLite just finds nothing).
ROW_NUMBER_MAX = 2**31 - 1


class RowNumber(IntegerConverter):
    """`<int:…>` in every path: a number no row can have is not found."""

    def __init__(self, map, fixed_digits=0, min=None, max=ROW_NUMBER_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def address_key(ip: str | None) -> str:
    """A client's address as it is kept (throttles of the portal and of sign-in): a keyed hash only."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, (ip or "-").encode(), hashlib.sha256).hexdigest()[:40]


_tenant_by_slug = None


def init_request_checks(app: Flask) -> None:
    """What a request is answered on before anything about who sends it or for which tenant
    (registered before the tenant and the token are looked at):

    - a method the path does not declare is 405 with `Allow`, not a 401 or 404 from the token
      check or the tenant lookup, which would say the method might work with other credentials;
      OPTIONS lists the methods;
    - text no database keeps (core.forms.unholdable) in the path or the query is a malformed request
      (400): a slug or a search is looked up before any view could refuse it by name. (A form's
      fields are refused by name where they are read, core/forms.py; an API body's, by api.base.body.)"""

    @app.before_request
    def methods_and_text():
        if isinstance(request.routing_exception, MethodNotAllowed):
            raise MethodNotAllowed(sorted(request.routing_exception.valid_methods or ()))  # a stable Allow
        if request.method == "OPTIONS" and getattr(request.url_rule, "provide_automatic_options", False):
            options = app.make_default_options_response()
            options.headers["Allow"] = ", ".join(sorted(options.allow))
            return options
        if any(map(unholdable, [request.path, *request.args.keys(), *request.args.values()])):
            malformed = BadRequest()
            malformed.user_message = "请求的地址或参数中含有空字符（U+0000）"
            raise malformed
        return None


def find_tenants_with(finder) -> None:
    """Tenants (above core) registers how a request's slug is looked up: `finder(slug)`."""
    global _tenant_by_slug
    _tenant_by_slug = finder


def init_tenancy(app: Flask) -> None:
    @app.url_value_preprocessor
    def pull_slug(_endpoint, values):
        if values and "slug" in values:
            g.tenant_slug = values.pop("slug")

    @app.url_defaults
    def push_slug(endpoint, values):
        if "slug" not in values and g.get("tenant") is not None and \
                app.url_map.is_endpoint_expecting(endpoint, "slug"):
            values["slug"] = g.tenant.slug

    @app.before_request
    def resolve_tenant():
        """The one place a tenant is chosen for a request; everything after reads g.tenant."""
        uid = current_user.id if current_user.is_authenticated else None
        slug = g.pop("tenant_slug", None)
        # Tenants are not tenant-owned: looked up before any scope is set, the request tells the
        # database its scope once, before the first statement that needs it.
        tenant = _tenant_by_slug(slug) if slug is not None else None
        if uid is not None:  # even an error page about the tenant shows the user's own switcher
            g.scope_token = set_scope(Scope(None, (), uid, read_only=True))
        if slug is not None:
            if tenant is None or tenant.status == "archived":
                abort(404)
            g.tenant = tenant
            if "scope_token" in g:
                reset_scope(g.pop("scope_token"))
            g.scope_token = set_scope(Scope(tenant.id, (tenant.id,), uid))

    @app.teardown_request
    def drop_scope(_exc):
        Session.remove()
        token = g.pop("scope_token", None)
        if token is not None:
            reset_scope(token)


def init_security_headers(app: Flask, storage_origin: str | None) -> None:
    extra = f" {storage_origin}" if storage_origin else ""
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; "
           f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; form-action 'self'{extra}; "
           "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")

    @app.after_request
    def headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", csp)
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "strict-origin-when-cross-origin"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "geolocation=(), microphone=(), camera=(self)"
        # Pages with personal data, and every API answer (people, phones, receipts: a token or a
        # signature authenticates it, not a cookie), stay out of every cache. The person as the
        # request already loaded them (flask-login keeps them on g): asking here would read the
        # database again, after the request is done with it (or while it is away: an outage's 503).
        user = g.get("_login_user")
        if request.path.startswith("/api/") or (user is not None and getattr(user, "is_authenticated", False)):
            h.setdefault("Cache-Control", "no-store")
        return resp


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        msg = _("表单已过期或来源不明（缺少 CSRF 令牌），请刷新页面后重试")
        if wants_json():
            return jsonify(error_body("csrf_failed", msg)), 400
        return render_template("error.html", code=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code == 404:
            g.pop("tenant", None)  # the page must not even name a tenant the person cannot see
        message = _(getattr(e, "user_message", None) or ERROR_TEXT.get(e.code, e.name))
        if e.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            message = _("提交的内容过大，上限为 {mb} MB", mb=limit)
        # the exception's own headers go along (a 405's Allow, a 401's WWW-Authenticate), not its body's type
        headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
        if wants_json():
            return jsonify(error_body(e.name.lower().replace(" ", "_"), message)), e.code, headers
        return render_template("error.html", code=e.code, message=message), e.code, headers

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def unavailable(e):
        """The database is away (stopped, restarting, unreachable, the pool exhausted): a moment's
        outage, said as one: 503 with Retry-After, on a page that needs nothing from the database."""
        app.logger.warning("database unavailable: %s", str(e).splitlines()[0][:300])
        try:
            Session.rollback()
        except sa_exc.SQLAlchemyError:  # the connection is gone with the server: nothing to undo there
            Session.remove()
        return outage("service_unavailable", _("服务暂时不可用，请稍等片刻再试"))

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(e):
        """Object storage is away: what needs it (an upload, a download, a logo, an import) says so,
        503 with Retry-After; the rest of the site, which needs none, keeps working."""
        app.logger.warning("storage unavailable: %s", e)
        return outage("storage_unavailable", _(STORAGE_UNAVAILABLE))

    def outage(code: str, message: str):
        headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
        if wants_json():
            return jsonify(error_body(code, message)), 503, headers
        # no context processors: they would ask the database who is signed in
        page = app.jinja_env.get_template("unavailable.html").render(message=message, retry=RETRY_AFTER)
        return page, 503, headers

    @app.errorhandler(Exception)
    def server_error(e):
        app.logger.exception("unhandled error")
        Session.rollback()
        if wants_json():
            return jsonify(error_body("server_error", _(ERROR_TEXT[500]))), 500
        return render_template("error.html", code=500, message=_(ERROR_TEXT[500])), 500
