"""The county's 12345 account: a service account for the hotline platform. It has a name, the
channel its orders come in by (12345 热线) and its own role in the logs (`hotline`: what it does is
logged as the hotline's, by no person), a secret both sides sign with, shown once and kept sealed,
the URL status goes back to, and whether it may post at all. Each change here is carried to the
subscriptions it keeps in the county's streets (callbacks.py) and audited; none commits."""
from __future__ import annotations

from sqlalchemy import select

from ...audit.operations import record
from .. import audit_kinds  # noqa: F401 (its audit entries, in words)
from ...core import forms
from ...core.db import db, new_id, utcnow
from ...core.errors import Invalid, Refused
from ...tenants.models import Tenant
from .. import signing, targets
from ..operations import where_to
from . import callbacks
from .models import HotlineAccount
from .routing import streets_of

NAME_MAX = 60


def of(county: Tenant) -> HotlineAccount | None:
    return db.scalar(select(HotlineAccount).where(HotlineAccount.tenant_id == county.id))


def secret_of(account: HotlineAccount) -> str:
    """Raises signing.Unreadable when SECRET_KEY changed since it was sealed (rotate it then)."""
    return signing.unseal(account.secret_sealed, account.tenant_id, account.id)


def via(account: HotlineAccount) -> str:
    """How the audit log names what the account did (no person did it: actor None)."""
    return f"12345 热线账号 {account.name}"


def _checked(form: dict) -> dict:
    checks = {"name": lambda: forms.text(form, "name", limit=NAME_MAX, required="请填写账号名称，例如：德州 12345 热线"),
              "callback_url": lambda: targets.check_url(form["callback_url"]) if str(
                  form.get("callback_url") or "").strip() else None}
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except Refused as exc:
            errors[name] = exc.message
    if errors:
        raise Invalid(errors)
    return values


def _county_only(county: Tenant) -> None:
    if county.kind != "county":
        raise Refused("12345 热线账号由区县设置", None, "forbidden")


def create(county: Tenant, actor_id: int | None, form: dict) -> tuple[HotlineAccount, str]:
    """The county's account and its secret, shown this once (the caller shows it)."""
    _county_only(county)
    values = _checked(form)
    if of(county) is not None:
        raise Refused("本区县已有 12345 热线账号，请修改它或更换密钥", "form", "conflict")
    secret, now = signing.new_secret(), utcnow()
    account = HotlineAccount(id=new_id(), tenant_id=county.id, name=values["name"],
                             callback_url=values["callback_url"], active=True, created_by=actor_id,
                             created_at=now, updated_at=now)
    account.secret_sealed = signing.seal(secret, county.id, account.id)
    db.add(account)
    db.flush()
    _carry(county, account, secret, actor_id)
    record(county.id, actor_id, "hotline.account.create", f"hotline:{account.id}",
           {"name": account.name, "callback_url": where_to(account.callback_url) if account.callback_url else None})
    return account, secret


def update(county: Tenant, actor_id: int | None, account: HotlineAccount, form: dict) -> None:
    values = _checked(form)
    account.name, account.callback_url, account.updated_at = values["name"], values["callback_url"], utcnow()
    _carry(county, account, secret_of(account), actor_id)
    record(county.id, actor_id, "hotline.account.update", f"hotline:{account.id}",
           {"name": account.name, "callback_url": where_to(account.callback_url) if account.callback_url else None})


def rotate(county: Tenant, actor_id: int | None, account: HotlineAccount, confirmed: bool) -> str:
    """A new secret at once: the hotline must sign with it from now on, and callbacks are signed
    with it from their next attempt (pending ones included)."""
    if not confirmed:
        raise Refused("更换密钥前请勾选“确认更换”：旧密钥立即失效，热线平台须同时改用新密钥", "confirm",
                      "validation_error")
    secret, now = signing.new_secret(), utcnow()
    account.secret_sealed, account.rotated_at, account.updated_at = signing.seal(secret, county.id, account.id), now, now
    _carry(county, account, secret, actor_id)
    record(county.id, actor_id, "hotline.account.rotate", f"hotline:{account.id}", {"name": account.name})
    return secret


def set_active(county: Tenant, actor_id: int | None, account: HotlineAccount, active: bool) -> None:
    """Disabled: its orders are refused (401) and its callbacks wait, kept, until it is enabled."""
    if account.active == active:
        return
    account.active, account.updated_at = active, utcnow()
    _carry(county, account, secret_of(account), actor_id)
    record(county.id, actor_id, "hotline.account.enable" if active else "hotline.account.disable",
           f"hotline:{account.id}", {"name": account.name})


def _carry(county: Tenant, account: HotlineAccount, secret: str, actor_id: int | None) -> None:
    """Every street of the county gets the account's subscription as it now is."""
    for street in streets_of(county):
        callbacks.keep(account, secret, street.id, actor_id)
