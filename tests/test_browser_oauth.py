"""The OAuth consent page in a real browser, in 燕山's brand, on a desktop and a phone: a member
agrees, the program gets the code at its callback and exchanges it for a token that acts as them.
Screenshots go to test-output/browser/oauth-*.png."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest

from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.demo.brands import ensure_demo_brand
from shangliang.integrations.oauth import register_client
from shangliang.tenants.models import Tenant
from support.browser import CHROMIUM, SHOTS, browser, live_server, shows, sign_in  # noqa: F401  (fixtures)
from test_oauth import authorize_url, exchange, pkce

if not os.path.exists(CHROMIUM):
    pytestmark = pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def test_a_member_consents_on_the_streets_page(app, world, live_server, browser):
    callback = f"{live_server}/callback"
    with app.app_context(), tenant_context(world.yanshan.id):
        yanshan = db.get(Tenant, world.yanshan.id)
        ensure_demo_brand(yanshan, None)
        client_id = register_client(yanshan, None, "燕山议事小程序", callback, ["read", "topics"])[0].id.hex
        db.commit()
    verifier, challenge = pkce()
    url = live_server + authorize_url(client_id, challenge, redirect_uri=callback)
    page = sign_in(browser, live_server, "yanshan-member")
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(url)
        shows(page, "燕山议事小程序", "读取", "办理议题", "同意授权", "拒绝授权")
        page.screenshot(path=str(SHOTS / f"oauth-consent-{name}.png"), full_page=True)
    page.click("button[value=allow]")
    page.wait_for_url(f"{callback}?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["xyz"]
    body = exchange(app.test_client(), client_id, query["code"][0], verifier, redirect_uri=callback).get_json()
    me = app.test_client().get("/api/v1/t/yanshan/token", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.get_json()["owner"]["username"] == "yanshan-member"
