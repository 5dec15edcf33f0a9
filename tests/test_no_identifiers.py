"""No identifier reaches a page (issue 15): every page of the demo, crawled in zh-CN as each kind of
person (a street's administrator on each procedure, a member, a grid worker, a street's and a county's
department contact, a county administrator, the platform's operator, a resident), says things in
words. A Latin word in a page's text fails the crawl unless it is on the allow-list below: names of
formats and products people know by them, and data people typed or use (login names, a street's 标识,
addresses, file names). What a page shows as code (`<code>`, `<pre>`, a YAML `<textarea>`) is for
the integrators it is written for."""
from __future__ import annotations

import html as markup
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import SERVICES

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(SERVICES, reason="the demo runs on the embedded default")

PEOPLE = ("yanshan-admin", "shizilou-admin", "guangwumen-admin", "langshan-admin", "guangchuan-admin",
          "yanshan-limh", "yanshan-chenj", "yanshan-zhenglei", "lixia-zhujian", "lixia-admin", "operator", None)
PORTALS = ["/t/yanshan/", "/t/shizilou/", "/t/guangwumen/", "/t/langshan/", "/t/guangchuan/", "/t/lixia/"]
# formats, units and products known by these names; protocol names an integrator's page uses in words
ALLOWED = set("API OAuth PKCE QR PNG SVG PDF JPEG WebP HEIC Excel Word PowerPoint CSV MB KB GB "
              "URL HTTP HTTPS JSON YAML SMS HMAC English UTC A4 UTF-8 GBK".split())
DATA = re.compile(r"https?://\S+|\S+@\S+\.\w+|[\w\-.（）()]+\.(?:jpe?g|png|webp|heic|pdf|docx?|xlsx?|pptx?|csv|svg)\b"
                  r"|XXXXX-XXXXX|\b20\d\d-Q[1-4]\b", re.I)  # addresses, e-mail, file names; patterns typed: receipt codes, periods
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]")
SKIP = re.compile(r"logout|/lang/|\.(xlsx|csv|png|svg|zip|css|js|pdf|json)(\?|$)|/static/|/files/[0-9a-f-]{36}|/api/"
                  r"|/oauth/authorize|/brand/\d+/|export")
DEMO_PASSWORD = "shangliang-demo"  # every demo login's (cli.DEMO_PASSWORD)
PER_KIND = 3  # pages of one kind visited (topics, meetings, a person's ledger...): what differs is the data


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from shangliang import create_app

    instance = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "BROKER_", "S3_"))}
    env["SHANGLIANG_INSTANCE"] = str(instance)
    for args in (("db", "upgrade"), ("demo", "load", "--today", "2026-06-15")):
        subprocess.run([str(BIN / "shangliang"), *args], env=env, cwd=ROOT, capture_output=True, check=True, timeout=180)
    os.environ["SHANGLIANG_INSTANCE"], before = str(instance), os.environ.get("SHANGLIANG_INSTANCE")
    try:
        app = create_app()
    finally:
        if before is None:
            os.environ.pop("SHANGLIANG_INSTANCE")
        else:
            os.environ["SHANGLIANG_INSTANCE"] = before
    return app


TAG = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")  # an attribute's value may hold a ">"


def words_of(page: str) -> list[str]:
    """The words a reader sees: the text, and what placeholders, titles and labels say; not what a
    page shows as code, nor what is marked as English (an English name beside the Chinese one)."""
    page = re.sub(r"<(script|style|code|pre|kbd|textarea)\b[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"""<(\w+)\b[^>]*\blang="en"[^>]*>.*?</\1>""", " ", page, flags=re.S)
    tags = [t for t in TAG.findall(page) if 'lang="en"' not in t]
    shown = " ".join(v for t in tags for v in re.findall(r'(?:placeholder|title|alt|aria-label)="([^"]*)"', t))
    text = DATA.sub(" ", markup.unescape(TAG.sub(" ", page) + " " + shown))
    return WORD.findall(text)


def crawl(app, username: str | None, known: set[str]) -> tuple[dict, int]:
    client = app.test_client()
    if username:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                           "csrf_token": token}).status_code == 302
    queue, seen, kinds, found = (["/"] if username else list(PORTALS)), set(), Counter(), defaultdict(set)
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        resp = client.get(url, follow_redirects=True)
        if "text/html" not in resp.headers.get("Content-Type", ""):
            continue
        page = resp.get_data(as_text=True)
        for word in words_of(page):
            if word not in ALLOWED and word not in known and not re.fullmatch(r"v\d+|\d+\w*", word):
                found[word].add(url)
        for href in map(markup.unescape, re.findall(r'href="(/[^"#]*)"', page)):
            kind = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\b\d+\b", "#", href.split("?")[0])
            if href not in seen and not SKIP.search(href) and kinds[kind] < PER_KIND:
                kinds[kind] += 1
                queue.append(href)
    return found, len(seen)


def test_no_page_of_the_demo_shows_an_identifier(demo):
    from sqlalchemy import select

    from shangliang.accounts.models import User
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    with demo.app_context():  # data people type and use: login names, each street's 标识
        known = set(db.scalars(select(User.username))) | set(db.scalars(select(Tenant.slug)))
    leaks, pages = {}, 0
    for username in PEOPLE:
        found, visited = crawl(demo, username, known)
        pages += visited
        leaks.update({f"{username or 'resident'}: {word}": sorted(urls)[:3] for word, urls in found.items()})
    assert pages > 400  # the crawl reached the pages, not a login form
    assert leaks == {}
