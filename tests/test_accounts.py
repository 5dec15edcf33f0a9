"""Sign-in, sessions, switching tenants and signing out, as a person would."""
from __future__ import annotations

import re

from conftest import PASSWORD, csrf_token, login


def test_sign_in_lists_only_my_tenants_and_sign_out_kills_the_session(client, world):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.location

    login(client, "lixia-admin")
    home = client.get("/").get_data(as_text=True)
    # A county admin sees the county and its streets, nothing of the other county.
    assert "历下区" in home and "燕山街道" in home and "狼山镇街道" in home
    assert "城关区" not in home and "广武门街道" not in home

    # Switching tenant is following a link; the other county is not reachable.
    assert client.get("/t/yanshan/manage/").status_code == 200
    assert client.get("/t/guangwumen/manage/").status_code == 404

    cookie = client.get_cookie("shangliang_session")
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/t/yanshan/manage/").status_code == 302  # back to login

    # Replaying the old cookie gets nowhere: the session is gone on the server.
    client.set_cookie("shangliang_session", cookie.value)
    resp = client.get("/t/yanshan/manage/")
    assert resp.status_code == 302 and "/login" in resp.location


def test_street_admin_sees_only_the_street(as_user, world):
    c = as_user("yanshan-admin")
    resp = c.get("/")
    assert resp.status_code == 302 and resp.location.endswith("/t/yanshan/manage/")
    for slug in ("lixia", "langshan", "guangwumen", "chengguan", "platform"):
        assert c.get(f"/t/{slug}/manage/").status_code == 404, slug


def test_operator_sees_every_tenant(as_user, world):
    page = as_user("operator").get("/t/platform/manage/tenants").get_data(as_text=True)
    for name in ("历下区", "城关区", "燕山街道", "狼山镇街道", "广武门街道"):
        assert name in page


def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    token = csrf_token(client)
    a = client.post("/login", data={"username": "yanshan-admin", "password": "wrong-password-123",
                                    "csrf_token": token})
    b = client.post("/login", data={"username": "no-such-user", "password": "wrong-password-123",
                                    "csrf_token": token})
    assert a.status_code == b.status_code == 401
    assert "用户名或密码不正确" in a.get_data(as_text=True)
    assert "用户名或密码不正确" in b.get_data(as_text=True)


def test_login_issues_a_new_session(client, world):
    client.get("/login")
    before = client.get_cookie("shangliang_session").value
    login(client, "yanshan-admin")
    after = client.get_cookie("shangliang_session").value
    assert before != after


def test_missing_csrf_token_is_refused_with_a_clear_message(client, world):
    resp = client.post("/login", data={"username": "yanshan-admin", "password": PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)


def test_empty_login_form_names_the_field(client, world):
    resp = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(client)})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "请输入用户名和密码" in html
    assert re.search(r'id="username"[^>]*aria-invalid="true"', html)


def test_next_parameter_cannot_redirect_off_site(client, world):
    client.get("/login")
    resp = client.post("/login", data={"username": "yanshan-admin", "password": PASSWORD,
                                       "csrf_token": csrf_token(client), "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp.location == "/"


def test_language_switch_to_english(client, world):
    client.get("/lang/en?next=/login")
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html


def test_every_interface_string_has_an_english_translation():
    """Chinese first, English available: a new string without a translation fails here."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "platform" / "shangliang"
    from shangliang.i18n import load_catalog

    catalog = load_catalog("en")
    used = set()
    for path in list(root.rglob("*.html")) + list(root.rglob("*.py")):
        text = path.read_text("utf-8")
        used |= set(re.findall(r"""\b_\(\s*['"]([^'"]+)['"]""", text))
        used |= set(re.findall(r"Refused\(\s*\"([^\"{]+)\"", text))  # shown through _(exc.message)
        used |= set(re.findall(r'user_message = "([^"]+)"', text))
    from shangliang.core.web import ERROR_TEXT

    used |= set(ERROR_TEXT.values())
    missing = sorted(s for s in used if s not in catalog)
    assert not missing, missing


def test_production_hashes_are_argon2id_at_owasps_minimum():
    from argon2 import PasswordHasher

    from shangliang.accounts.passwords import PARAMETERS

    stored = PasswordHasher(**PARAMETERS).hash("correct-horse-battery")
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored
