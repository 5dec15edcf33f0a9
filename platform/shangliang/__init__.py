"""Shangliang (商量): the application factory."""
from __future__ import annotations

import time

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.local import LocalProxy
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_mod
from .core import jobs
from .core.db import Session, bind, make_engine
from .core.storage import make_storage
from .core.web import RowNumber
from .core.menu import tenant_menu

csrf = CSRFProtect()


def create_app(cfg: config_mod.Config | None = None, *, check: bool = True, command: bool = False) -> Flask:
    """Build the app. With `check`, unreachable services raise ConfigError (one line).
    `command`: a one-off CLI process, which must not hand jobs to an in-memory broker."""
    cfg = cfg or config_mod.from_env()
    app = Flask(__name__, instance_path=str(cfg.instance_path))
    app.url_map.converters["int"] = RowNumber  # before any rule is added: every <int:…> is bounded
    app.config.update(
        SHANGLIANG=cfg,
        SECRET_KEY=cfg.secret_key,
        MAX_CONTENT_LENGTH=cfg.max_content_length,
        SESSION_COOKIE_NAME="shangliang_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.production,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead, which expires on its own
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    cfg.instance_path.mkdir(parents=True, exist_ok=True)

    engine = make_engine(cfg.database_url)
    bind(engine)
    storage = make_storage(cfg)
    app.extensions["storage"] = storage
    app.extensions["engine"] = engine
    if check:
        config_mod.check_services(cfg, engine, storage)
    jobs.configure(engine, cfg.broker_url, queue=cfg.jobs_queue, namespace=cfg.broker_namespace,
                   heartbeat_ms=cfg.broker_heartbeat_ms, send_after_commit=not (command and not cfg.broker_url))

    _register(app, cfg)
    if cfg.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.trusted_proxies, x_proto=cfg.trusted_proxies,
                                x_host=cfg.trusted_proxies)
    app.wsgi_app = TenantHostMiddleware(app.wsgi_app)
    return app


def _register(app: Flask, cfg) -> None:
    from .accounts.views import bp as accounts_bp, login_manager, manage as members_bp
    from .accounts.token_views import bp as tokens_bp
    from .api.views import bp as api_bp  # every area's API operations
    from .audit.views import bp as audit_bp
    from .branding.brand import request_brand
    from .branding.views import bp as branding_bp
    from .core import changes, lifecycle, web
    from .core.health import bp as health_bp
    from .core.storage_routes import storage_bp
    from .files.views import bp as files_bp
    from .i18n import _, get_locale
    from .notifications import tasks  # noqa: F401  (declares the actors)
    from .topics import tasks as topic_tasks  # noqa: F401
    from .meetings import tasks as meeting_tasks  # noqa: F401
    from .meetings import files as meeting_files  # noqa: F401  (meetings and work items own files)
    from .benchmarks import tasks as benchmark_tasks  # noqa: F401
    from .meetings.views import bp as meetings_bp
    from .notifications.views import bp as notifications_bp
    from .portal.views import bp as portal_bp
    from .portal.poster_views import bp as posters_bp
    from .procedures.views import bp as procedure_bp
    from .procedures.schema import FIELD_LABELS
    from .topics.operations import describe_missing, mask_phone
    from .topics.views import bp as topics_bp
    from .topics.transfer_views import bp as transfers_bp
    from .topics.escalation_views import bp as escalations_bp
    from .topics.publication_views import bp as publication_bp
    from .topics.notice_views import bp as notice_bp
    from .departments.views import bp as departments_bp
    from .roster.views import bp as roster_bp, duty_bp
    from .roster.pairing_views import bp as pairing_bp
    from .benchmarks.views import bp as benchmarks_bp
    from .ledger.views import bp as ledger_bp
    from .transfer.views import bp as transfer_bp
    from .tenants.views import bp as tenants_bp
    from .console.views import bp as console_bp
    from .integrations import delivery as webhook_delivery, sources as webhook_sources  # noqa: F401
    from .integrations.views import bp as webhooks_bp  # its tasks too
    from .integrations.oauth_views import bp as oauth_bp, token_bp as oauth_token_bp
    from .integrations.hotline.inbound import bp as hotline_api_bp  # the 12345 platform's signed endpoints
    from .integrations.hotline.views import bp as hotline_bp

    changes.init_changes(app, cfg.listen_url)  # first: every later hook reads the kept rows
    webhook_delivery.configure(cfg)  # the worker's jobs read these outside any request
    login_manager.init_app(app)
    web.init_request_checks(app)  # before the tenant and the token: a 405 or a malformed request, whoever asks
    web.init_tenancy(app)  # first: every later hook, error pages included, runs inside the scope
    lifecycle.init_lifecycle(app)  # one commit point per request
    csrf.init_app(app)
    csrf.exempt(api_bp)  # token-authenticated, no cookies
    csrf.exempt(hotline_api_bp)  # signed with the county's hotline secret, no cookies
    csrf.exempt(storage_bp)  # the upload carries its own signed policy, like S3's
    csrf.exempt(oauth_token_bp)  # OAuth's token endpoint: a program's POST, proved by its PKCE verifier
    app.register_blueprint(files_bp)  # photos and attachments: uploads, checks, signed downloads
    for bp in (accounts_bp, members_bp, tokens_bp, tenants_bp, audit_bp, notifications_bp, procedure_bp, topics_bp,
               api_bp, health_bp, storage_bp, portal_bp, branding_bp, transfer_bp, meetings_bp,
               roster_bp, duty_bp, pairing_bp, ledger_bp, benchmarks_bp, console_bp, departments_bp, transfers_bp,
               escalations_bp, publication_bp, notice_bp, webhooks_bp, posters_bp, oauth_bp, oauth_token_bp,
               hotline_api_bp, hotline_bp):
        app.register_blueprint(bp)
    storage_origin = (cfg.s3 or {}).get("public_endpoint_url") or (cfg.s3 or {}).get("endpoint_url")
    web.init_security_headers(app, storage_origin)
    web.init_errors(app)
    from .accounts.models import ROLE_LABELS

    app.jinja_env.globals.update(_=_, get_locale=get_locale, role_label=lambda r: _(ROLE_LABELS.get(r, r)),
                                 mask_phone=mask_phone, describe_missing=lambda m: _(describe_missing(m)),
                                 field_label=lambda f: _(FIELD_LABELS.get(f, f)),
                                 brand=LocalProxy(request_brand),  # this request's tenant's brand, or None
                                 tenant_menu=tenant_menu)
    app.context_processor(_template_context)
    app.jinja_env.filters["local"] = _local_time
    app.jinja_env.filters["zone"] = _zone_label
    app.teardown_appcontext(lambda _exc: Session.remove())


def _template_context():
    from flask import g
    from flask_login import current_user

    from .tenants.operations import visible_tenants
    from .core.permissions import can

    def switchable():
        return visible_tenants(current_user) if current_user.is_authenticated else []

    return {"tenant": g.get("tenant"), "can": can, "switchable_tenants": switchable}


def _local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in the tenant's time zone (Asia/Shanghai by default)."""
    from zoneinfo import ZoneInfo

    from flask import g

    if value is None:
        return ""
    tenant = g.get("tenant")
    return value.astimezone(ZoneInfo(tenant.timezone if tenant else "Asia/Shanghai")).strftime(fmt)


ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Urumqi": "乌鲁木齐时间", "Asia/Hong_Kong": "香港时间"}


def _zone_label(name: str) -> str:
    """A time zone as people name it (北京时间 UTC+8), not as the tz database does (Asia/Shanghai)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from .i18n import _

    offset = datetime.now(ZoneInfo(name)).utcoffset()
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    utc = f"UTC{'+' if offset.total_seconds() >= 0 else '-'}{abs(hours)}" + (f":{minutes:02d}" if minutes else "")
    return f"{_(ZONE_NAMES[name])}（{utc}）" if name in ZONE_NAMES else utc


class TenantHostMiddleware:
    """A street's own host name (e.g. shangliang.yanshan.gov.cn) serves its `/t/<slug>/` pages."""

    PASS = ("/t/", "/static/", "/storage/", "/api/", "/healthz", "/login", "/logout", "/lang/")
    TTL = 60.0

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.cache: dict[str, tuple[str | None, float]] = {}

    def slug_for(self, host: str) -> str | None:
        hit = self.cache.get(host)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        from .tenants.models import Tenant

        with Session.session_factory() as s:
            slug = s.scalar(select(Tenant.slug).where(Tenant.custom_host == host, Tenant.status != "archived"))
        if len(self.cache) > 1000:  # random Host headers must not grow memory without bound
            self.cache.clear()
        self.cache[host] = (slug, time.monotonic() + self.TTL)
        return slug

    def __call__(self, environ, start_response):
        host = (environ.get("HTTP_HOST") or "").split(":")[0].lower()
        path = environ.get("PATH_INFO", "/")
        if host and host not in ("localhost", "127.0.0.1") and not path.startswith(self.PASS):
            slug = self.slug_for(host)
            if slug:
                environ["PATH_INFO"] = f"/t/{slug}{path}"
        return self.wsgi_app(environ, start_response)
