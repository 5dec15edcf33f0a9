"""A real browser for the tests (Debian's headless Chromium through Playwright) and the app served
to it on loopback. Screenshots go to test-output/browser/."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


# A seed case runs once, against the real services (PostgreSQL under RLS, the S3 API, Redis: `make
# test-services`), where its uploads, cross-tenant reads and jobs are what a county deploys.
SEED_CASE = [pytest.mark.services] + ([] if os.path.exists(CHROMIUM) else [
    pytest.mark.skipif(os.environ.get("CI") != "true", reason="no chromium: run `make browser`")])


@pytest.fixture
def live_server(app, world):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright  # lazy: only where Chromium is there to drive

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


def sign_in(browser, base, username):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def go_to(page, label: str) -> None:
    """Follow the tenant menu's entry `label` as a person does: opening its group first when the
    entry sits in one (core/menu.py)."""
    group = page.locator("nav.tenantnav details.navgroup").filter(has=page.locator(f"a:text-is('{label}')"))
    if group.count():
        group.locator("summary").click()
    page.locator(f"nav.tenantnav a:text-is('{label}')").click()


def choose_files(page, scope: str, files) -> None:
    """Give the upload widget inside `scope` its files, once static/files.js listens to it: a page
    just loaded may show the widget before its deferred script has run, and a file chosen then
    would never be sent."""
    page.locator(f"{scope} [data-upload][data-ready] input[type=file]").set_input_files(files)


def shows(page, *texts):
    """Wait until the page's text holds each of `texts`. A click that submits a form returns once
    the navigation has started, so reading `page.content()` right after it may read a document
    that is still empty; Playwright's expect retries until the new page shows the text."""
    from playwright.sync_api import expect

    for text in texts:
        expect(page.locator("body")).to_contain_text(text, timeout=15_000)
