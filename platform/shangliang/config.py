"""Configuration from the environment, checked before anything starts.

With no variables set, everything is embedded under an instance folder: a SQLite
file, objects on disk and an in-process job worker. Production names its services
with DATABASE_URL, S3_*, BROKER_URL and SECRET_KEY. Any wrong or unreachable
setting raises ConfigError, whose message is one line naming the variable.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable, self.problem = variable, problem


@dataclass
class Config:
    instance_path: Path
    database_url: str
    database_admin_url: str
    secret_key: str
    env: str = "development"
    broker_url: str | None = None
    broker_namespace: str = "shangliang"
    broker_heartbeat_ms: int = 60_000
    jobs_queue: str = "default"
    s3: dict | None = None  # endpoint_url, bucket, region, access_key, secret_key, public_endpoint_url
    max_content_length: int = 16 * 1024 * 1024
    trusted_proxies: int = 0
    storage_quota_mb: int = 2048  # per tenant, unless Tenant.storage_quota says otherwise
    database_listen_url: str | None = None  # where LISTEN reaches PostgreSQL, if not DATABASE_URL; "off"
    # Webhooks (integrations/): the private networks deliveries may reach (none by default: a URL
    # an administrator types must not reach the machine's own services or the intranet behind it),
    # and how long a delivery is retried before it is given up.
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_retry_minutes: int = 60
    public_base_url: str | None = None  # where residents reach the platform (links printed in QR codes)
    session_idle_minutes: int = 30  # a signed-in session ends after this long without a request

    @property
    def embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def listen_url(self) -> str | None:
        """The connection web processes LISTEN on for change notices (core/changes.py): none on
        SQLite or when turned off; DATABASE_LISTEN_URL when a pooler in transaction mode stands
        in front of DATABASE_URL (LISTEN needs a session of its own)."""
        if self.embedded or self.database_listen_url == "off":
            return None
        return (self.database_listen_url or self.database_url).replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def production(self) -> bool:
        return self.env == "production"


def _int(env, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative, got {value}")
    return value


def normalise_database_url(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg" + url[len(scheme):]
    if scheme in ("postgresql+psycopg", "sqlite"):
        return url
    raise ConfigError("DATABASE_URL", f"unsupported scheme {scheme!r}; use postgresql://… or sqlite:///…")


def from_env(env=None) -> Config:
    env = os.environ if env is None else env
    instance = Path(env.get("SHANGLIANG_INSTANCE") or Path.cwd() / "instance").resolve()
    db_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'shangliang.db'}"
    db_url = normalise_database_url(db_url)
    admin_url = env.get("DATABASE_ADMIN_URL") or db_url
    try:
        admin_url = normalise_database_url(admin_url)
    except ConfigError:
        raise ConfigError("DATABASE_ADMIN_URL", "unsupported scheme; use postgresql://…") from None
    run_env = env.get("SHANGLIANG_ENV") or ("development" if db_url.startswith("sqlite") else "production")
    if run_env not in ("development", "production"):
        raise ConfigError("SHANGLIANG_ENV", f"must be development or production, got {run_env!r}")

    secret = env.get("SECRET_KEY")
    if secret is not None and len(secret) < 32:
        raise ConfigError("SECRET_KEY", "must be at least 32 characters (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if not secret:
        if run_env == "production":
            raise ConfigError("SECRET_KEY", "must be set in production")
        secret = _instance_secret(instance)

    listen_url = env.get("DATABASE_LISTEN_URL") or None
    if listen_url and listen_url != "off":
        try:
            listen_url = normalise_database_url(listen_url)
        except ConfigError:
            raise ConfigError("DATABASE_LISTEN_URL", "unsupported scheme; use postgresql://… or off") from None
        if listen_url.startswith("sqlite"):
            raise ConfigError("DATABASE_LISTEN_URL", "must be a PostgreSQL URL (postgresql://…) or off")

    public_base_url = (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None
    if public_base_url:
        parts = urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError("PUBLIC_BASE_URL", "must be an address such as https://shangliang.example.gov.cn "
                                                 "(http:// or https://, a host, no query)")

    broker = env.get("BROKER_URL") or None
    if broker and urlsplit(broker).scheme not in ("redis", "rediss", "amqp", "amqps"):
        raise ConfigError("BROKER_URL", f"unsupported scheme {urlsplit(broker).scheme!r}; use redis:// or amqp://")

    s3 = None
    if env.get("S3_BUCKET"):
        s3 = {
            "bucket": env["S3_BUCKET"],
            "endpoint_url": env.get("S3_ENDPOINT_URL") or None,
            "public_endpoint_url": env.get("S3_PUBLIC_ENDPOINT_URL") or None,
            "region": env.get("S3_REGION") or "us-east-1",
            "access_key": env.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": env.get("S3_SECRET_ACCESS_KEY") or None,
        }
        if bool(s3["access_key"]) != bool(s3["secret_key"]):
            raise ConfigError("S3_ACCESS_KEY_ID", "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither")
        if s3["endpoint_url"] and urlsplit(s3["endpoint_url"]).scheme not in ("http", "https"):
            raise ConfigError("S3_ENDPOINT_URL", "must start with http:// or https://")
    elif env.get("S3_ENDPOINT_URL"):
        raise ConfigError("S3_BUCKET", "must be set when S3_ENDPOINT_URL is")

    networks = tuple(n.strip() for n in (env.get("WEBHOOK_ALLOW_NETWORKS") or "").split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigError("WEBHOOK_ALLOW_NETWORKS", f"not a network: {network!r} (e.g. 10.20.0.0/16)") from None
    retry_minutes = _int(env, "WEBHOOK_RETRY_MINUTES", 60)
    if retry_minutes < 1:
        raise ConfigError("WEBHOOK_RETRY_MINUTES", "must be at least 1")

    idle_minutes = _int(env, "SESSION_IDLE_MINUTES", 30)
    if idle_minutes < 1:
        raise ConfigError("SESSION_IDLE_MINUTES", "must be at least 1 (minutes without a request before a session ends)")

    return Config(
        instance_path=instance, database_url=db_url, database_admin_url=admin_url, secret_key=secret,
        env=run_env, broker_url=broker, s3=s3, database_listen_url=listen_url,
        broker_namespace=env.get("BROKER_NAMESPACE") or "shangliang",
        broker_heartbeat_ms=_int(env, "BROKER_HEARTBEAT_MS", 60_000),
        jobs_queue=env.get("JOBS_QUEUE") or "default",
        max_content_length=_int(env, "MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
        storage_quota_mb=_int(env, "STORAGE_QUOTA_MB", 2048),
        webhook_allow_networks=networks, webhook_retry_minutes=retry_minutes,
        public_base_url=public_base_url, session_idle_minutes=idle_minutes,
    )


def _instance_secret(instance: Path) -> str:
    """Embedded default only: a key made once and kept in the instance folder."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# ---------------------------------------------------------------- reachability

def check_services(cfg: Config, engine, storage) -> None:
    """Fail fast, one line per cause: the services named in the environment must answer."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ConfigError("DATABASE_URL", f"cannot connect: {first_line(exc)}") from None
    if cfg.broker_url:
        check_broker(cfg.broker_url)
    try:
        storage.check()
    except Exception as exc:
        var = "S3_BUCKET" if cfg.s3 else "SHANGLIANG_INSTANCE"
        raise ConfigError(var, f"object storage not usable: {first_line(exc)}") from None


def safe_url(url: str) -> str:
    """`url` as it may be shown to an operator (a log, /healthz): without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def check_broker(url: str) -> None:
    parts = urlsplit(url)
    port = parts.port or (6379 if parts.scheme.startswith("redis") else 5672)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=3).close()
    except OSError as exc:
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
        raise ConfigError("BROKER_URL", f"cannot reach {safe_url(url)} ({reason})") from None
    try:
        if parts.scheme.startswith("redis"):
            import redis

            redis.Redis.from_url(url, socket_timeout=3).ping()
        else:
            import pika

            params = pika.URLParameters(url)
            params.socket_timeout = 3
            pika.BlockingConnection(params).close()
    except Exception as exc:
        raise ConfigError("BROKER_URL", f"{safe_url(url)} refused the connection: {first_line(exc)}") from None


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
