"""What the file tests share: an empty bucket, a topic to attach files to, and looks at the rows
and the stored objects behind an upload."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

import factories
from shangliang.core.db import db
from shangliang.core.storage import tenant_prefix
from shangliang.core.tenancy import tenant_context
from shangliang.files.models import Attachment


@pytest.fixture(autouse=True)
def empty_store(app):
    """Services mode shares one bucket across tests while tenant ids restart at 1."""
    store = app.extensions["storage"]
    for key in list(store.list_keys("tenants/")):
        store.delete(key)


@pytest.fixture
def topic(app, world):
    """An open topic in 燕山街道, at a step where staff may attach evidence."""
    with app.app_context():
        factories.procedure(world.yanshan)
        t = factories.raise_topic(world.yanshan, title="楼道灯坏了")
        db.commit()
        return t


def row(app, world, attachment_id, tenant=None):
    with app.app_context(), tenant_context((tenant or world.yanshan).id):
        att = db.scalar(select(Attachment).where(Attachment.id == uuid.UUID(str(attachment_id))))
        db.expunge(att)
        return att


def objects(app, tenant) -> list[str]:
    with app.app_context():
        return list(app.extensions["storage"].list_keys(tenant_prefix(tenant.id)))


def stored(app, key) -> bytes:
    with app.app_context():
        return app.extensions["storage"].get(key)
