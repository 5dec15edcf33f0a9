"""The street brand (品牌): checks with clear refusals, versions, preview, publish and restore,
the public stylesheet and images, and no brand crossing from one tenant to another."""
from __future__ import annotations

import io
import re

import pytest

from conftest import csrf_token

BRAND = "/t/yanshan/manage/brand/"


def brand_form(**over) -> dict:
    form = {"display_name": "燕山街道政协“商量”工作站", "brand_name": "有事好商量", "slogan": "有事莫心急 下楼来商量",
            "intro": "楼下有事，下楼来商量。", "primary_colour": "#b3261e", "accent_colour": "#9c6500",
            "text_colour": "#ffffff", "hotlines": "委员商量热线: 0531-86920315\n市民服务热线：12345",
            "mailbox": "社区书记信箱（居委会门口）",
            "stations": "庭院网格e站 | 燕子山小区 3 号楼南侧 | 每周三 9:00–11:30\n商量工作站 | 燕子山路 1 号",
            "footer": "历下区政协燕山街道委员联络室", "note": ""}
    form.update(over)
    return form


def image(fmt="PNG", size=(64, 64), mode="RGB", colour=(179, 38, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, colour if mode != "1" else 0).save(out, fmt)
    return out.getvalue()


def post(client, form=None, files=None, url=BRAND):
    data = {"csrf_token": csrf_token(client), **(form or brand_form())}
    for kind, (content, name) in (files or {}).items():
        data[kind] = (io.BytesIO(content), name)
    return client.post(url, data=data, content_type="multipart/form-data")


def save(app, tenant, form=None, files=None, publish=False, actor=None):
    """A brand version written directly through the operations (as a job or the demo would)."""
    from shangliang.branding import operations as ops
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    with app.app_context(), tenant_context(tenant.id):
        t = db.get(Tenant, tenant.id)
        row = ops.save_version(t, actor, form or brand_form(), files or {})
        if publish:
            ops.publish(t, actor, row.number)
        db.commit()
        return row.number


def audit_actions(app, tenant) -> list[str]:
    from sqlalchemy import select

    from shangliang.audit.models import AuditLog
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(tenant.id):
        return list(db.scalars(select(AuditLog.action).where(AuditLog.action.like("brand.%")).order_by(AuditLog.at)))


def brand_numbers(app, tenant) -> list[int]:
    from sqlalchemy import select

    from shangliang.branding.models import BrandVersion
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context

    with app.app_context(), tenant_context(tenant.id):
        return list(db.scalars(select(BrandVersion.number).order_by(BrandVersion.number)))


# ---------------------------------------------------------------- colours

def test_contrast_ratio_follows_wcag():
    from shangliang.branding.colours import contrast_ratio

    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast_ratio("#b3261e", "#ffffff") == contrast_ratio("#ffffff", "#b3261e")


def test_the_default_look_passes_its_own_checks_and_matches_app_css(app, world):
    from pathlib import Path

    from shangliang.branding import brand, colours, fields

    with app.test_request_context():
        values, errors = fields.check_fields(brand.form_values(world.yanshan, None))
    assert errors == {}
    css = (Path(colours.__file__).parents[1] / "static" / "app.css").read_text("utf-8")
    root = css[css.index(":root"):css.index("}")]
    assert f"--primary: {colours.DEFAULT_PRIMARY}" in root and f"--accent: {colours.DEFAULT_ACCENT}" in root
    assert colours.contrast_ratio(colours.DEFAULT_ACCENT, "#ffffff") >= 4.5


# ---------------------------------------------------------------- refusals

BOMB = None


def big_pixels_png() -> bytes:
    """10000×10000 one-bit pixels: a few kilobytes on disk, 100 million pixels once decoded."""
    global BOMB
    if BOMB is None:
        BOMB = image("PNG", (10000, 10000), mode="1")
    return BOMB


def truncated_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.radial_gradient("L").resize((400, 400)).save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


REFUSALS = [
    # (field, form changes, files, what the message must say)
    ("primary_colour", {"primary_colour": "red"}, {}, "#rrggbb"),
    ("primary_colour", {"primary_colour": "#b3261"}, {}, "#rrggbb"),
    ("primary_colour", {"primary_colour": "#f5c518", "text_colour": "#ffffff"}, {},
     "主色与文字颜色的对比度为 1.6:1，低于 4.5:1"),
    ("accent_colour", {"accent_colour": "#c98a1b"}, {}, "强调色在白色页面上的对比度为 2.9:1，低于 4.5:1"),
    ("logo", {}, {"logo": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                           b'</script></svg>', "logo.svg")}, "SVG 文件可以携带脚本"),
    ("logo", {}, {"logo": (b"<svg onload=alert(1)>", "logo.png")}, "不接受 SVG"),  # by content, not name
    ("logo", {}, {"logo": (b"MZ\x90\x00\x03" + b"\x00" * 200 + b"This program cannot be run in DOS mode",
                           "logo.png")}, "可执行程序"),
    ("logo", {}, {"logo": (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "logo.png")}, "可执行程序"),
    ("qr", {}, {"qr": (b"%PDF-1.7 not an image", "qr.jpg")}, "只接受 PNG、JPEG 或 WebP"),
    ("logo", {}, {"logo": (truncated_png(), "logo.png")}, "已损坏或不完整"),
    ("logo", {}, {"logo": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "logo.png")}, "已损坏或不完整"),
    ("banner", {}, {"banner": (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "banner.jpg")}, "已损坏或不完整"),
    ("logo", {}, {"logo": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024), "logo.png")}, "文件过大"),
    ("logo", {}, {"logo": (big_pixels_png, "logo.png")}, "像素"),
    ("banner", {}, {"banner": (lambda: image("PNG", (6001, 10)), "banner.png")},
     "尺寸过大（6001×10 像素），上限为 6000×4000 像素"),
    ("slogan", {"slogan": "有" * 41}, {}, "口号不能超过 40 个字（现在 41 个）"),
    ("display_name", {"display_name": "  "}, {}, "请填写显示名称"),
    ("hotlines", {"hotlines": "委员热线: 0531-86920315\n没有号码的一行"}, {}, "热线电话第 2 行"),
    ("hotlines", {"hotlines": "委员热线: call me"}, {}, "热线电话第 1 行：号码须为"),
    ("stations", {"stations": "e站 | 地址 | 时间\n\n只有名称"}, {}, "站点第 3 行"),
]


@pytest.mark.parametrize("field,changes,files,says", REFUSALS,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_a_bad_brand_is_refused_naming_the_field_and_keeping_what_was_typed(app, as_user, world, field, changes,
                                                                             files, says):
    c = as_user("yanshan-admin")
    files = {k: (content() if callable(content) else content, name) for k, (content, name) in files.items()}
    form = brand_form(**changes, footer="页脚<保留>", mailbox="信箱地址 A-17")
    resp = post(c, form, files)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, body[:500]
    assert says in body
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', body, re.S), f"{field} not marked"
    # Everything typed is still there (escaped), nothing was saved.
    assert 'value="页脚&lt;保留&gt;"' in body and 'value="信箱地址 A-17"' in body
    assert "委员商量热线: 0531-86920315" in body or "hotlines" in changes
    assert brand_numbers(app, world.yanshan) == []
    if files:
        assert "请重新选择" in body  # the browser cannot keep a chosen file: say so


def test_refusals_are_refused_errors_with_the_field(app, world):
    from shangliang.core.errors import Refused

    with pytest.raises(Refused) as exc:
        save(app, world.yanshan, files={"logo": b"MZ\x90\x00 renamed.exe"})
    assert exc.value.field == "logo" and "可执行程序" in exc.value.message
    with pytest.raises(Refused) as exc:
        save(app, world.yanshan, brand_form(text_colour="#333333"))
    assert exc.value.field == "primary_colour" and re.search(r"对比度为 \d+\.\d:1，低于 4\.5:1", exc.value.message)


def test_several_problems_are_named_at_once(app, as_user, world):
    resp = post(as_user("yanshan-admin"), brand_form(brand_name="", accent_colour="#ffff00", slogan="口" * 50))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "请填写品牌名称" in body and "强调色在白色页面上的对比度" in body and "口号不能超过 40 个字" in body


def test_refusals_are_in_english_for_english_readers(app, as_user, world):
    c = as_user("yanshan-admin")
    c.set_cookie("lang", "en")
    body = post(c, brand_form(primary_colour="#f5c518"), {"logo": (b"<svg/>", "x.svg")}).get_data(as_text=True)
    assert "The contrast between the primary colour and the text colour is 1.6:1, below 4.5:1" in body
    assert "Logo: SVG is not accepted because an SVG file can carry scripts" in body


# ---------------------------------------------------------------- saving, preview, publish, restore

def test_save_preview_publish_and_serve_the_images(app, as_user, client, world):
    c = as_user("yanshan-admin")
    logo, banner, qr = image("PNG"), image("JPEG", (1200, 300)), image("WEBP", (200, 200))
    resp = post(c, brand_form(note="第一版"), {"logo": (logo, "a.bin"), "banner": (banner, "b.png"),
                                            "qr": (qr, "qr")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/t/yanshan/manage/brand/preview/1")
    # A draft: the public portal still shows the platform's look; the preview shows the draft.
    portal = client.get("/t/yanshan/").get_data(as_text=True)
    assert "有事莫心急" not in portal and "/brand/1.css" not in portal
    preview = c.get("/t/yanshan/manage/brand/preview/1").get_data(as_text=True)
    assert "预览：第 1 版，尚未发布" in preview and "有事莫心急 下楼来商量" in preview
    assert 'href="/t/yanshan/brand/1.css"' in preview and 'src="/t/yanshan/brand/1/logo"' in preview
    staff = c.get("/t/yanshan/manage/brand/preview/1?show=staff")
    assert staff.status_code == 200 and staff.headers["Cache-Control"] == "no-store"
    assert "预览：第 1 版，尚未发布" in staff.get_data(as_text=True)
    assert 'style="' not in preview  # style-src 'self': no inline styles anywhere

    resp = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c), "confirm": "1"})
    assert resp.status_code == 302
    portal = client.get("/t/yanshan/").get_data(as_text=True)
    assert "有事莫心急 下楼来商量" in portal and 'href="/t/yanshan/brand/1.css"' in portal
    assert "历下区政协燕山街道委员联络室" in portal  # the footer
    assert '<img class="brand-logo" src="/t/yanshan/brand/1/logo"' in portal

    css = client.get("/t/yanshan/brand/1.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    text = css.get_data(as_text=True)
    assert "--primary: #b3261e" in text and "--primary-ink: #ffffff" in text and "--accent: #9c6500" in text
    for kind, data, ctype in (("logo", logo, "image/png"), ("banner", banner, "image/jpeg"), ("qr", qr, "image/webp")):
        resp = client.get(f"/t/yanshan/brand/1/{kind}")
        assert resp.status_code == 200 and resp.data == data and resp.mimetype == ctype
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/t/yanshan/brand/1/favicon").status_code == 404
    assert client.get("/t/yanshan/brand/2.css").status_code == 404


def test_versions_carry_images_over_publish_and_restore_with_audit(app, as_user, client, world):
    from shangliang.branding.models import BrandVersion
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.tenants.models import Tenant

    c = as_user("yanshan-admin")
    post(c, brand_form(), {"logo": (image("PNG"), "logo.png"), "banner": (image("PNG", (600, 200)), "b.png")})
    c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c), "confirm": "1"})
    # The form now starts from version 1; version 2 changes the slogan, keeps the logo, drops the banner.
    page = c.get(BRAND).get_data(as_text=True)
    assert 'name="base" value="1"' in page and 'value="有事莫心急 下楼来商量"' in page
    assert "委员商量热线: 0531-86920315" in page and "庭院网格e站 | 燕子山小区 3 号楼南侧 | 每周三 9:00–11:30" in page
    resp = post(c, brand_form(slogan="有事好商量 众人的事情由众人商量", base="1", remove_banner="1"))
    assert resp.status_code == 302
    with app.app_context(), tenant_context(world.yanshan.id):
        v1, v2 = db.query(BrandVersion).order_by(BrandVersion.number).all()
        assert v2.logo_key == v1.logo_key and v1.banner_key and v2.banner_key is None
        assert v2.published_at is None and db.get(Tenant, world.yanshan.id).brand_number == 1
        assert v2.hotlines == [{"label": "委员商量热线", "number": "0531-86920315"},
                               {"label": "市民服务热线", "number": "12345"}]
        assert v2.stations[1] == {"name": "商量工作站", "address": "燕子山路 1 号", "hours": ""}
    c.post("/t/yanshan/manage/brand/publish/2", data={"csrf_token": csrf_token(c), "confirm": "1"})
    assert "众人的事情由众人商量" in client.get("/t/yanshan/").get_data(as_text=True)
    page = c.get(BRAND).get_data(as_text=True)
    assert "使用中" in page and "曾发布" in page and ">恢复</button>" in page
    # Restore version 1: the tenant points back at it; both versions remain, unchanged.
    resp = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c), "confirm": "1"}, follow_redirects=True)
    assert "已恢复第 1 版品牌" in resp.get_data(as_text=True)
    assert "有事莫心急 下楼来商量" in client.get("/t/yanshan/").get_data(as_text=True)
    with app.app_context():
        assert db.get(Tenant, world.yanshan.id).brand_number == 1
    assert brand_numbers(app, world.yanshan) == [1, 2]
    assert audit_actions(app, world.yanshan) == ["brand.save", "brand.publish", "brand.save", "brand.publish",
                                                 "brand.restore"]
    # Both published versions stay fetchable (cached for good by browsers that saw them).
    assert client.get("/t/yanshan/brand/2.css").status_code == 200


def test_publishing_says_what_will_change_and_publishes_only_once_confirmed(app, as_user, client, world):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    c = as_user("yanshan-admin")
    post(c, brand_form(), {"logo": (image("PNG"), "logo.png")})
    asked = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c)})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "发布第 1 版品牌？" in page and "data-confirm" in page
    assert "发布后，公开页面和工作人员页面立即使用第 1 版品牌：燕山街道政协“商量”工作站「有事好商量」。" in page
    assert "此前这些页面使用默认的名称和颜色。" in page and 'href="/t/yanshan/manage/brand/preview/1"' in page
    with app.app_context():
        assert db.get(Tenant, world.yanshan.id).brand_number is None  # nothing published yet
    assert audit_actions(app, world.yanshan) == ["brand.save"]
    assert "有事莫心急" not in client.get("/t/yanshan/").get_data(as_text=True)

    done = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c), "confirm": "1"},
                  follow_redirects=True)
    assert "已发布第 1 版品牌，公开页面和工作页面已使用此版本。" in done.get_data(as_text=True)
    assert "有事莫心急 下楼来商量" in client.get("/t/yanshan/").get_data(as_text=True)
    # A second version says what it changes from the one in use; restoring the first says so too.
    post(c, brand_form(slogan="有事好商量", primary_colour="#0b5d3b", base="1"))
    page = c.post("/t/yanshan/manage/brand/publish/2", data={"csrf_token": csrf_token(c)}).get_data(as_text=True)
    assert "与正在使用的第 1 版相比，改变的是：口号、主色。" in page  # the logo carried over is no change
    c.post("/t/yanshan/manage/brand/publish/2", data={"csrf_token": csrf_token(c), "confirm": "1"})
    page = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c)}).get_data(as_text=True)
    assert "恢复第 1 版品牌？" in page and "恢复后，公开页面和工作人员页面立即使用第 1 版品牌" in page
    assert "改变的是：口号、主色。" in page and "确认恢复" in page
    with app.app_context():
        assert db.get(Tenant, world.yanshan.id).brand_number == 2
    c.set_cookie("lang", "en")
    english = c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c)}).get_data(as_text=True)
    assert "Restore brand version 1?" in english and "this changes: Slogan" in english


# ---------------------------------------------------------------- who may see what

def test_drafts_and_previews_are_for_brand_managers_only(app, as_user, client, world):
    save(app, world.yanshan, files={"logo": image()})  # version 1, a draft
    for who in (None, "yanshan-staff", "yanshan-member", "langshan-admin", "guangwumen-admin"):
        c = as_user(who) if who else client
        assert c.get("/t/yanshan/brand/1.css").status_code == 404, who
        assert c.get("/t/yanshan/brand/1/logo").status_code == 404, who
    assert client.get("/t/yanshan/manage/brand/preview/1").status_code == 302  # to the login page
    for who, status in (("yanshan-staff", 403), ("yanshan-member", 403), ("langshan-admin", 404),
                        ("guangwumen-admin", 404)):
        c = as_user(who)
        assert c.get("/t/yanshan/manage/brand/preview/1").status_code == status, who
        assert c.get(BRAND).status_code == status, who
        assert c.post("/t/yanshan/manage/brand/publish/1", data={"csrf_token": csrf_token(c), "confirm": "1"}).status_code == status
        assert post(c).status_code == status
    admin = as_user("yanshan-admin")
    css = admin.get("/t/yanshan/brand/1.css")
    assert css.status_code == 200 and css.headers["Cache-Control"] == "no-store"
    assert admin.get("/t/yanshan/brand/1/logo").headers["Cache-Control"] == "no-store"
    assert brand_numbers(app, world.yanshan) == [1]  # nobody else saved or published anything


def test_brand_nav_link_only_for_brand_managers(as_user, world):
    assert 'href="/t/yanshan/manage/brand/"' in as_user("yanshan-admin").get("/t/yanshan/manage/").get_data(
        as_text=True)
    assert "/manage/brand/" not in as_user("yanshan-staff").get("/t/yanshan/manage/").get_data(as_text=True)


def test_public_brand_routes_are_gone_with_an_archived_tenant(app, client, world):
    from shangliang.core.db import db
    from shangliang.tenants.models import Tenant

    save(app, world.langshan, brand_form(display_name="狼山镇街道协商议事室"), {"logo": image()}, publish=True)
    assert client.get("/t/langshan/brand/1.css").status_code == 200
    with app.app_context():
        db.get(Tenant, world.langshan.id).status = "archived"
        db.commit()
    assert client.get("/t/langshan/brand/1.css").status_code == 404
    assert client.get("/t/langshan/brand/1/logo").status_code == 404


def test_another_tenants_version_number_means_nothing_here(app, client, world):
    for _ in range(3):
        save(app, world.guangwumen, brand_form(display_name="广武门街道议事室"), publish=True)
    assert client.get("/t/guangwumen/brand/3.css").status_code == 200
    assert client.get("/t/yanshan/brand/3.css").status_code == 404
    assert client.get("/t/yanshan/brand/3/logo").status_code == 404


def test_two_tenants_in_one_process_never_cross(app, as_user, client, world):
    """Same app, same worker, one request after the other: each page and stylesheet is its own."""
    ys_logo, ls_logo = image(colour=(179, 38, 30)), image(colour=(31, 111, 74))
    save(app, world.yanshan, brand_form(display_name="燕山街道商量工作站", slogan="有事莫心急 下楼来商量",
                                        footer="燕山页脚"), {"logo": ys_logo}, publish=True)
    save(app, world.langshan, brand_form(display_name="狼山镇协商议事室", slogan="政协搭台 多方参与",
                                         primary_colour="#1f6f4a", accent_colour="#8e2c48", footer="狼山页脚"),
         {"logo": ls_logo}, publish=True)
    mine = {"yanshan": ("燕山街道商量工作站", "有事莫心急", "燕山页脚", "#b3261e", ys_logo),
            "langshan": ("狼山镇协商议事室", "政协搭台", "狼山页脚", "#1f6f4a", ls_logo)}
    operator = as_user("operator")  # sees both tenants: the only thing that differs is the tenant
    for slug in ("yanshan", "langshan", "yanshan", "langshan", "yanshan"):
        other = "langshan" if slug == "yanshan" else "yanshan"
        for c, path in ((client, f"/t/{slug}/"), (operator, f"/t/{slug}/"), (operator, f"/t/{slug}/manage/")):
            page = c.get(path).get_data(as_text=True)
            for text in mine[slug][:3] if "manage" not in path else (mine[slug][0], mine[slug][2]):
                assert text in page, (path, text)
            for text in mine[other][:3]:
                assert text not in page, (path, text)
            assert f"/t/{slug}/brand/1.css" in page and f"/t/{other}/brand/" not in page
        css = client.get(f"/t/{slug}/brand/1.css").get_data(as_text=True)
        assert mine[slug][3] in css and mine[other][3] not in css
        assert client.get(f"/t/{slug}/brand/1/logo").data == mine[slug][4]
    # A tenant without a brand shows the platform's look, not the last brand served.
    page = operator.get("/t/guangwumen/manage/").get_data(as_text=True)
    assert "/brand/1" not in page and ".css\"" not in page.replace("app.css\"", "") \
        and "页脚" not in page and "广武门街道" in page


def test_a_preview_does_not_leak_into_the_next_request(app, as_user, client, world):
    save(app, world.yanshan, brand_form(slogan="已发布的口号"), publish=True)
    save(app, world.yanshan, brand_form(slogan="草稿的口号"))
    admin = as_user("yanshan-admin")
    assert "草稿的口号" in admin.get("/t/yanshan/manage/brand/preview/2").get_data(as_text=True)
    for c in (admin, client):
        page = c.get("/t/yanshan/").get_data(as_text=True)
        assert "已发布的口号" in page and "草稿的口号" not in page and "尚未发布" not in page


# ---------------------------------------------------------------- demo presets

@pytest.mark.parametrize("slug", ["yanshan", "guangwumen", "langshan", "shizilou", "guangchuan"])
def test_demo_presets_pass_the_checks_and_draw_valid_logos(app, slug):
    from shangliang.branding import fields, images
    from shangliang.demo import brands as presets

    spec = presets.preset(slug)
    values, errors = fields.check_fields(presets.form_of(spec))
    assert errors == {}, errors
    assert values["hotlines"] and values["stations"]
    logo = presets.draw_logo(spec["logo_char"], slug[0].upper(), spec["primary_colour"], spec["text_colour"])
    assert images.check_image("logo", logo).content_type == "image/png"
    banner = presets.draw_banner(spec["slogan"], spec["primary_colour"], spec["accent_colour"], spec["text_colour"])
    assert images.check_image("banner", banner).content_type == "image/jpeg"
    assert presets.preset("guangchuan")["brand_name"] == "月月说事"


def test_a_photo_with_a_gps_position_loses_it_before_it_is_stored():
    from io import BytesIO

    from PIL import Image

    from shangliang.branding.images import GPS_TAG, check_image

    exif = Image.Exif()
    exif[0x0132] = "2026:11:24 10:00:00"  # DateTime
    exif.get_ifd(GPS_TAG).update({1: "N", 2: (36.0, 40.0, 0.0), 3: "E", 4: (117.0, 1.0, 0.0)})
    buf = BytesIO()
    Image.new("RGB", (1200, 400), "#b3261e").save(buf, "JPEG", exif=exif)
    with Image.open(BytesIO(buf.getvalue())) as original:
        assert GPS_TAG in original.getexif()  # the test photo really carries a position
    checked = check_image("banner", buf.getvalue(), "banner.jpg", "image/jpeg")
    with Image.open(BytesIO(checked.data)) as stored:
        assert GPS_TAG not in stored.getexif() and stored.size == (1200, 400)
    plain = BytesIO()
    Image.new("RGB", (64, 64), "#0b5d3b").save(plain, "PNG")
    assert check_image("logo", plain.getvalue()).data == plain.getvalue()  # nothing to remove: as uploaded
