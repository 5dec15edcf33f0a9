"""The county the 12345 tests share: 历下区 with its streets on the small procedure, their
communities and grids (what routing reads), and the county's hotline account calling back a
stand-in 12345 platform on loopback (support/hotline.py)."""
from __future__ import annotations

import pytest

import factories
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.integrations.hotline import accounts
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from support.hotline import StandIn

PLACES = {"yanshan": "立功社区：一网格、二网格\n燕子山社区：燕子山网格",
          "langshan": "狼山社区：东网格\n和平社区：西网格"}


@pytest.fixture
def config(config):
    """Callbacks to loopback, where the stand-in listens (production refuses it by default)."""
    config.webhook_allow_networks = ("127.0.0.0/8",)
    return config


@pytest.fixture
def hotline():
    h = StandIn().start()
    yield h
    h.stop()


def streets_ready(app, world) -> None:
    """燕山 and 狼山 on the small procedure, with their communities and grids."""
    with app.app_context():
        for slug, places in PLACES.items():
            street = db.get(Tenant, world.tenant(slug).id)
            factories.procedure(street)
            with tenant_context(street.id):
                save_places(street, None, places, "")
        db.commit()


@pytest.fixture
def county(app, world, hotline):
    """历下区 ready for orders: its account made (the stand-in keeps the secret)."""
    streets_ready(app, world)
    with app.app_context():
        with tenant_context(world.lixia.id):
            _account, hotline.secret = accounts.create(db.get(Tenant, world.lixia.id), None,
                                                       {"name": "德州 12345 热线", "callback_url": hotline.url})
            db.commit()
    return world.lixia
