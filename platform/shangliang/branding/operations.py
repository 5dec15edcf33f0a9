"""A tenant's brand (品牌) versions: saving a checked brand as a draft, publishing, restoring.

Versions are immutable: saving writes a new draft; publishing points `Tenant.brand_number` at one;
restoring publishes an older one again. Images are stored under the tenant's `brand` area.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core.db import db, utcnow
from ..core.errors import Refused
from ..core.storage import tenant_key
from ..files.reconcile import expect_objects
from ..tenants.models import Tenant
from .fields import COLOURS, FIELD_LABELS, MAX_LENGTHS, BrandInvalid, check_fields
from .images import IMAGE_KINDS, CheckedImage, check_image, upload_of
from .models import BrandVersion

expect_objects(BrandVersion, "logo_key", "banner_key", "qr_key")  # the storage check reports a lost image


def versions(tenant: Tenant, limit: int = 50) -> list[BrandVersion]:
    return list(db.scalars(select(BrandVersion).order_by(BrandVersion.number.desc()).limit(limit)))


def version(tenant: Tenant, number: int) -> BrandVersion | None:
    return db.scalar(select(BrandVersion).where(BrandVersion.number == number))


def latest_version(tenant: Tenant) -> BrandVersion | None:
    return db.scalar(select(BrandVersion).order_by(BrandVersion.number.desc()).limit(1))


def save_version(tenant: Tenant, actor_id: int | None, form: dict, files: dict | None = None,
                 base_number: int | None = None) -> BrandVersion:
    """Check a submitted brand and save it as the next version, a draft (not yet shown).

    `form` holds the text fields as the page sends them (hotlines and stations as lines),
    `remove_<kind>` to clear an image and optionally `base` (the version being edited): an
    image not uploaded again is carried over from that version. `files` maps logo/banner/qr
    to an upload (werkzeug FileStorage) or bytes. Nothing is stored unless everything passes.
    """
    values, errors = check_fields(form)
    if base_number is None:
        try:
            base_number = int(form.get("base") or 0)
        except (TypeError, ValueError):
            base_number = 0
    base = version(tenant, base_number) if base_number else None
    images: dict[str, CheckedImage] = {}
    for kind in IMAGE_KINDS:
        upload = upload_of(files, kind)
        if upload is None:
            continue
        try:
            images[kind] = check_image(kind, *upload)
        except BrandInvalid as exc:
            errors.update(exc.errors)
    if errors:
        ordered = {f: errors[f] for f in FIELD_LABELS if f in errors}
        raise BrandInvalid(ordered)

    keys = {}
    storage = current_app.extensions["storage"]
    for kind in IMAGE_KINDS:
        if kind in images:
            img = images[kind]
            keys[kind] = tenant_key(tenant.id, "brand", img.ext)
            storage.put(keys[kind], img.data, img.content_type)
        elif _checked(form.get(f"remove_{kind}")):
            keys[kind] = None
        else:
            keys[kind] = getattr(base, f"{kind}_key") if base else None

    number = (db.scalar(select(func.max(BrandVersion.number))) or 0) + 1
    row = BrandVersion(tenant_id=tenant.id, number=number, created_by=actor_id,
                       logo_key=keys["logo"], banner_key=keys["banner"], qr_key=keys["qr"],
                       **{k: values[k] for k in (*MAX_LENGTHS, *COLOURS, "hotlines", "stations")})
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # two saves at once: the unique number lets one win
        raise Refused("另一位管理员刚刚保存了品牌，请刷新后重试", "base", "conflict") from None
    record(tenant.id, actor_id, "brand.save", f"v{number} {row.display_name}",
           {"images": sorted(images), "removed": sorted(k for k, v in keys.items() if v is None)})
    return row


def _checked(value) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


def publish(tenant: Tenant, actor_id: int | None, number: int) -> BrandVersion:
    """Show version `number` from now on. A version published before is a restore."""
    row = version(tenant, number)
    if row is None:
        raise Refused("没有这个品牌版本", "number", "not_found")
    restore = row.published_at is not None
    previous = tenant.brand_number
    if row.published_at is None:
        row.published_at = utcnow()
    tenant.brand_number = row.number
    record(tenant.id, actor_id, "brand.restore" if restore else "brand.publish", f"v{row.number} {row.display_name}",
           {"previous": previous})
    return row


def restore(tenant: Tenant, actor_id: int | None, number: int) -> BrandVersion:
    """Bring back an earlier version: the same as publishing it again."""
    return publish(tenant, actor_id, number)


COMPARED = ("display_name", "brand_name", "slogan", "intro", "primary_colour", "accent_colour", "text_colour",
            "hotlines", "mailbox", "stations", "footer", *IMAGE_KINDS)


def differences(old: BrandVersion, new: BrandVersion) -> list[str]:
    """The labels (Chinese source strings) of what `new` shows differently from `old`; an image by
    its stored object, so one carried over is no change."""
    def value(row, name):
        return getattr(row, f"{name}_key") if name in IMAGE_KINDS else getattr(row, name)
    return [FIELD_LABELS[name] for name in COMPARED if value(old, name) != value(new, name)]


def authors(rows: list[BrandVersion]) -> dict[int, str]:
    ids = {r.created_by for r in rows if r.created_by}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
