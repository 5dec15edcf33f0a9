"""QR codes and posters of the 点单 form for stations and grids: the code is read back by a real
decoder (zxing-cpp) from the PNG, from the SVG file and from the poster page itself, and leads to the
form with the place chosen; the poster is for those who manage the place only; the topic raised
through it records the place and its channel, which benchmarking counts; whatever a forged address
names is dropped without an error."""
from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.portal import operations as portal_ops
from shangliang.portal.posters import grid_key
from shangliang.tenants.models import Tenant
from shangliang.tenants.operations import save_places
from shangliang.topics.models import Topic, TopicEvent

PLACES = "燕子山社区：1 网格，3 网格\n立功社区：5 网格"
FORM = {"title": "3 号楼楼道灯坏了", "description": "晚上回家看不见台阶。", "resident_phone": "13812345678"}
GRID_POSTER = f"/t/yanshan/posters/grids/{grid_key('燕子山社区', '3 网格')}"


@pytest.fixture
def street(app, world, monkeypatch):
    """燕山 with a procedure, its lists of communities and grids, a station in use, one stopped,
    and 广武门 with a station of its own. Returns the station ids."""
    monkeypatch.setattr(portal_ops, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan)
        factories.procedure(world.guangwumen)
        with tenant_context(world.yanshan.id):
            save_places(db.get(Tenant, world.yanshan.id), None, PLACES, "")
        db.commit()
        ids = {"e": factories.station(world.yanshan, "燕子山庭院网格e站", community="燕子山社区",
                                      address="燕子山小区 3 号楼东", hours="每周二、四 9:00–11:30").id,
               "stopped": factories.station(world.yanshan, "旧议事室", kind="meeting_room").id,
               "other": factories.station(world.guangwumen, "广武门委员工作室", kind="member_studio").id}
        with tenant_context(world.yanshan.id):
            factories.roster.save_station(world.yanshan, None, {"name": "旧议事室", "kind": "meeting_room",
                                                                "active": "0"}, _station(ids["stopped"]))
        db.commit()
    return ids


def _station(station_id):
    from shangliang.roster.models import Station

    return db.get(Station, (db.scalar(select(Station.tenant_id).where(Station.id == station_id)), station_id))


def decode(image: Image.Image) -> str:
    [found] = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return found.text


def svg_image(svg: str) -> Image.Image:
    """segno's SVG drawn as pixels: its dark path is rows of `h` strokes at half-module heights."""
    root = ET.fromstring(svg)
    size = int(float(root.get("viewBox").split()[2]))
    path = next(p for p in root.iter() if p.tag.rsplit("}")[-1] == "path" and p.get("class") == "qrline")
    img, x, y, scale = Image.new("L", (size * 8, size * 8), 255), 0.0, 0.0, 8
    draw = ImageDraw.Draw(img)
    for cmd, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", path.get("d")):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        else:
            row = int(y)
            draw.rectangle([x * scale, row * scale, (x + float(a)) * scale - 1, (row + 1) * scale - 1], fill=0)
            x += float(a)
    return img


def raise_form(client, url="/t/yanshan/raise"):
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(station|community|grid)" value="([^"]*)"', html))
    return html, {"csrf_token": csrf_token(client), "form_token": token, **hidden}


def topics_of(app, tenant_id):
    with app.app_context(), tenant_context(tenant_id):
        return [(t, db.scalar(select(TopicEvent).where(TopicEvent.topic_id == t.id, TopicEvent.action == "create")))
                for t in db.scalars(select(Topic).order_by(Topic.number))]


# ---------------------------------------------------------------- the poster and its code

def test_a_stations_poster_shows_the_place_the_brand_and_hotlines_and_its_code_opens_the_form(app, as_user, world,
                                                                                             street):
    from shangliang.branding import operations as brand_ops

    with app.app_context(), tenant_context(world.yanshan.id):
        yanshan = db.get(Tenant, world.yanshan.id)
        row = brand_ops.save_version(yanshan, None, {
            "display_name": "燕山街道政协委员工作室", "brand_name": "下楼来商量", "slogan": "有事莫心急 下楼来商量",
            "primary_colour": "#1d4f91", "accent_colour": "#8a5a00", "text_colour": "#ffffff",
            "hotlines": "委员商量热线: 0531-86000000\n市民服务热线: 12345", "footer": "燕山街道政协联络室"})
        brand_ops.publish(yanshan, None, row.number)
        db.commit()
    admin = as_user("yanshan-admin")
    stations = admin.get("/t/yanshan/roster/stations").get_data(as_text=True)
    assert f'/t/yanshan/posters/stations/{street["e"]}"' in stations  # opened from the stations list
    assert f'/t/yanshan/posters/stations/{street["stopped"]}"' not in stations  # a stopped station has none
    resp = admin.get(f"/t/yanshan/posters/stations/{street['e']}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for text in ("燕子山庭院网格e站", "庭院网格e站", "燕子山小区 3 号楼东", "每周二、四 9:00–11:30", "下楼来商量",
                 "燕山街道政协委员工作室", "委员商量热线", "0531-86000000", "12345", "扫码点单", "燕山街道政协联络室"):
        assert text in page, text
    want = f"http://localhost/t/yanshan/raise?station={street['e']}"
    inline = re.search(r'<svg viewBox="[^"]+" class="poster-qr-code">.*?</svg>', page, re.S).group(0)
    assert decode(svg_image(inline)) == want  # the code printed on the poster itself
    png = admin.get(f"/t/yanshan/posters/stations/{street['e']}/qr.png")
    assert decode(Image.open(io.BytesIO(png.data))) == want
    svg = admin.get(f"/t/yanshan/posters/stations/{street['e']}/qr.svg")
    assert decode(svg_image(svg.get_data(as_text=True))) == want
    # …and that address opens the 点单 form with the station chosen, for everyone to see
    form = admin.get(urlsplit(want).path + "?" + urlsplit(want).query).get_data(as_text=True)
    assert "扫码来自" in form and "燕子山庭院网格e站" in form
    assert re.search(r'<option selected>燕子山社区</option>', form)  # its community, chosen but changeable


def test_a_grids_poster_is_opened_from_the_places_page_and_its_code_names_the_grid(app, as_user, street):
    admin = as_user("yanshan-admin")
    places = admin.get("/t/yanshan/manage/places").get_data(as_text=True)
    link = re.search(r'href="(/t/yanshan/posters/grids/[0-9a-f]+)">3 网格<', places).group(1)
    assert link == f"/t/yanshan/posters/grids/{grid_key('燕子山社区', '3 网格')}"
    resp = admin.get(link)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "燕子山社区" in page and "3 网格" in page and "还没有填写热线电话" in page  # no brand hotlines yet
    url = decode(Image.open(io.BytesIO(admin.get(f"{link}/qr.png").data)))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", "/t/yanshan/raise")
    assert parse_qs(parts.query) == {"community": ["燕子山社区"], "grid": ["3 网格"]}
    form = admin.get(f"{parts.path}?{parts.query}").get_data(as_text=True)
    assert "扫码来自" in form and "燕子山社区 3 网格" in form
    assert 'name="community" value="燕子山社区"' in form and '<select id="community"' not in form  # fixed with it


def test_the_code_prints_the_streets_own_host_or_the_public_address(app, client, as_user, world, street,
                                                                   monkeypatch):
    admin = as_user("yanshan-admin")
    cfg = app.config["SHANGLIANG"]
    monkeypatch.setattr(cfg, "public_base_url", "https://shangliang.example.gov.cn")
    png = admin.get(f"/t/yanshan/posters/stations/{street['e']}/qr.png").data
    assert decode(Image.open(io.BytesIO(png))) == \
        f"https://shangliang.example.gov.cn/t/yanshan/raise?station={street['e']}"
    with app.app_context():
        db.get(Tenant, world.yanshan.id).custom_host = "shangliang.yanshan.example"
        db.commit()
    url = decode(Image.open(io.BytesIO(admin.get(f"/t/yanshan/posters/stations/{street['e']}/qr.png").data)))
    assert url == f"https://shangliang.yanshan.example/raise?station={street['e']}"
    monkeypatch.setattr(cfg, "public_base_url", None)  # no public address: the scheme of the request
    url = decode(Image.open(io.BytesIO(admin.get(f"/t/yanshan/posters/stations/{street['e']}/qr.png").data)))
    assert url == f"http://shangliang.yanshan.example/raise?station={street['e']}"
    # the street's own host serves that address: the form with the station chosen
    form = client.get(f"/raise?station={street['e']}", headers={"Host": "shangliang.yanshan.example"})
    assert form.status_code == 200 and "燕子山庭院网格e站" in form.get_data(as_text=True)


def test_the_files_are_named_in_chinese_with_their_content_types(as_user, street):
    admin = as_user("yanshan-admin")
    for url, ext, mimetype, name in (
            (f"/t/yanshan/posters/stations/{street['e']}/qr.png", "png", "image/png", "燕山街道-燕子山庭院网格e站-点单二维码.png"),
            (f"/t/yanshan/posters/stations/{street['e']}/qr.svg", "svg", "image/svg+xml",
             "燕山街道-燕子山庭院网格e站-点单二维码.svg"),
            (f"{GRID_POSTER}/qr.png", "png", "image/png",
             "燕山街道-燕子山社区3网格-点单二维码.png"),
            (f"{GRID_POSTER}/qr.svg", "svg", "image/svg+xml",
             "燕山街道-燕子山社区3网格-点单二维码.svg")):
        resp = admin.get(url)
        assert resp.status_code == 200 and resp.mimetype == mimetype
        disposition = resp.headers["Content-Disposition"]
        assert disposition.isascii()  # a header is Latin-1: the Chinese name travels encoded
        assert disposition.startswith("attachment; ")
        assert unquote(re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1)) == name
        assert re.search(r'filename="[\w.-]+\.' + ext + '"', disposition)  # for clients that read only this
        if ext == "png":
            assert resp.data.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert ET.fromstring(resp.data).tag == "{http://www.w3.org/2000/svg}svg"


# ---------------------------------------------------------------- who may open it

@pytest.mark.parametrize("user, station_status, grid_status", [
    ("yanshan-admin", 200, 200), ("lixia-admin", 200, 200), ("operator", 200, 200),  # the street, its county, the platform
    ("yanshan-staff", 403, 403), ("yanshan-member", 403, 403),  # on the street, not managing stations or lists
    ("guangwumen-admin", 404, 404), ("nobody", 404, 404),  # another street's: not even there
])
def test_only_those_who_manage_stations_or_the_lists_open_posters(as_user, street, user, station_status,
                                                                 grid_status):
    c = as_user(user)
    station = f"/t/yanshan/posters/stations/{street['e']}"
    assert c.get(station).status_code == station_status
    assert c.get(f"{station}/qr.png").status_code == station_status
    assert c.get(f"{station}/qr.svg").status_code == station_status
    assert c.get(GRID_POSTER).status_code == grid_status
    assert c.get(f"{GRID_POSTER}/qr.svg").status_code == grid_status


def test_no_poster_for_what_is_not_a_place_of_this_street(client, as_user, street):
    assert client.get(f"/t/yanshan/posters/stations/{street['e']}").status_code == 302  # signed out: log in
    admin = as_user("yanshan-admin")
    for url in (f"/t/yanshan/posters/stations/{street['other']}",  # 广武门's station
                f"/t/yanshan/posters/stations/{street['other']}/qr.png",
                f"/t/yanshan/posters/stations/{street['stopped']}",  # stopped
                f"/t/yanshan/posters/stations/{uuid.uuid4()}",
                "/t/yanshan/posters/stations/not-a-uuid", "/t/yanshan/posters/stations/1/qr.png",
                f"/t/yanshan/posters/grids/{grid_key('立功社区', '3 网格')}",  # a grid of another community
                f"/t/yanshan/posters/grids/{grid_key('燕子山社区', '9 网格')}/qr.png", "/t/yanshan/posters/grids/x",
                "/t/yanshan/posters/grids/", f"{GRID_POSTER}/qr.jpg",
                f"/t/yanshan/posters/stations/{street['e']}/qr.gif"):
        assert admin.get(url).status_code == 404, url
    guangwumen = as_user("guangwumen-admin")
    assert guangwumen.get(f"/t/guangwumen/posters/stations/{street['e']}").status_code == 404  # 燕山's, from 广武门
    assert guangwumen.get(f"/t/guangwumen/posters/stations/{street['other']}").status_code == 200
    assert as_user("lixia-admin").get(f"/t/lixia/posters/stations/{street['e']}").status_code == 403  # a county
    assert as_user("lixia-admin").get(f"/t/lixia/{GRID_POSTER[11:]}").status_code == 403


# ---------------------------------------------------------------- the form and the topic

def test_a_topic_raised_through_a_stations_code_records_the_station_and_its_channel(app, client, world, street):
    html, form = raise_form(client, f"/t/yanshan/raise?station={street['e']}")
    assert form["station"] == str(street["e"])
    resp = client.post("/t/yanshan/raise", data={**form, **FORM, "community": "立功社区"})
    assert resp.status_code == 201
    [(topic, created)] = topics_of(app, world.yanshan.id)
    assert (topic.channel, topic.station_id, topic.community, topic.grid) == ("station_qr", street["e"], "立功社区", None)
    assert created.data == {"channel": "station_qr", "station": "燕子山庭院网格e站"}  # named as it was then
    staff = app.test_client()
    from conftest import login

    login(staff, "yanshan-admin")
    page = staff.get(f"/t/yanshan/topics/{topic.number}").get_data(as_text=True)
    assert "站点扫码点单" in page and "燕子山庭院网格e站" in page  # staff see where it came from


def test_a_topic_raised_through_a_grids_code_records_the_grid_and_its_channel(app, client, world, street):
    html, form = raise_form(client, "/t/yanshan/raise?community=燕子山社区&grid=3%20网格")
    assert (form["community"], form["grid"]) == ("燕子山社区", "3 网格")
    assert client.post("/t/yanshan/raise", data={**form, **FORM}).status_code == 201
    [(topic, created)] = topics_of(app, world.yanshan.id)
    assert (topic.channel, topic.community, topic.grid, topic.station_id) == ("grid_qr", "燕子山社区", "3 网格", None)
    assert created.data == {"channel": "grid_qr"}


def test_a_refused_form_keeps_the_place_chosen(app, client, world, street):
    _html, form = raise_form(client, f"/t/yanshan/raise?station={street['e']}")
    resp = client.post("/t/yanshan/raise", data={**form, **FORM, "resident_phone": "123"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "请填写 11 位手机号码" in page and "扫码来自" in page
    assert f'name="station" value="{street["e"]}"' in page
    assert topics_of(app, world.yanshan.id) == []


@pytest.mark.parametrize("query", [
    "station=not-a-uuid", "station=", "station=%27%3B--%20OR%201=1", "station=" + "f" * 5000, "station=12345678",
    "station=00000000-0000-0000-0000-000000000000", "station={other}", "station={stopped}",
    "station={e}&station=x",  # the first one counts: still the station
    "community=立功社区&grid=3%20网格", "community=燕子山社区&grid=9%20网格", "grid=3%20网格", "community=燕子山社区",
    "community=" + "燕" * 500 + "&grid=3%20网格",
])
def test_a_forged_or_stale_address_gives_the_plain_form_and_a_plain_topic(app, client, world, street, query):
    url = "/t/yanshan/raise?" + query.format(**{k: str(v) for k, v in street.items()})
    resp = client.get(url)
    assert resp.status_code == 200
    _html, form = raise_form(client, url)
    chosen = query.startswith("station={e}")
    assert ("扫码来自" in resp.get_data(as_text=True)) == chosen
    # the same forged values sent with the form: the topic is a plain portal topic, never an error
    raw = parse_qs(urlsplit(url).query, keep_blank_values=True)
    sent = {k: v[0] for k, v in raw.items() if k in ("station", "grid")}
    resp = client.post("/t/yanshan/raise", data={**form, **FORM, **sent})
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    [(topic, created)] = topics_of(app, world.yanshan.id)
    if chosen:
        assert (topic.channel, topic.station_id) == ("station_qr", street["e"])
    else:
        assert (topic.channel, topic.station_id, topic.grid) == ("portal", None, None)
        assert "station" not in created.data


def test_a_nul_in_a_qr_address_is_a_bad_request_not_a_server_error(client, world):
    """No database keeps a NUL: the request checks refuse it before the street is looked up."""
    assert client.get("/t/yanshan/raise?station=%00%27%3B--").status_code == 400


def test_a_station_without_a_listed_community_and_a_street_without_lists(app, client, world, street):
    with app.app_context():
        other = factories.station(world.yanshan, "街道议事室", kind="meeting_room", community=None)
        db.commit()
    html, form = raise_form(client, f"/t/yanshan/raise?station={other.id}")
    assert "街道议事室" in html and '<option value="">不确定</option>' in html
    assert client.post("/t/yanshan/raise", data={**form, **FORM}).status_code == 201
    [(topic, _created)] = topics_of(app, world.yanshan.id)
    assert (topic.channel, topic.station_id, topic.community) == ("station_qr", other.id, None)


# ---------------------------------------------------------------- benchmarking, by channel

def channel_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="table bench-table channels">(.*?)</table>', html, re.S).group(1)
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def test_benchmarking_counts_qr_raised_topics_by_channel(app, client, as_user, world, street):
    from shangliang.benchmarks import rollups
    from shangliang.benchmarks.models import Rollup
    from shangliang.benchmarks.periods import of
    from shangliang.core.db import utcnow

    for url in (f"/t/yanshan/raise?station={street['e']}", f"/t/yanshan/raise?station={street['e']}",
                "/t/yanshan/raise?community=燕子山社区&grid=3%20网格", "/t/yanshan/raise"):
        _html, form = raise_form(client, url)
        assert client.post("/t/yanshan/raise", data={**form, **FORM}).status_code == 201
    with app.app_context():
        factories.procedure(world.langshan)
        factories.raise_topic(world.langshan)  # registered by staff, from a WeChat group
        db.commit()
    [(first, _e), *_rest] = topics_of(app, world.yanshan.id)
    period = of(first.created_at, "Asia/Shanghai")
    as_of = utcnow()
    with app.app_context():
        changed = set()
        for tenant_id in (world.yanshan.id, world.langshan.id):
            with tenant_context(tenant_id):
                changed |= set(rollups.refresh(db.get(Tenant, tenant_id), as_of))
                db.commit()
        with tenant_context(world.lixia.id):
            rollups.derive_county(db.get(Tenant, world.lixia.id), sorted(changed), as_of)
            db.commit()
        yanshan = {"station_qr": 2, "grid_qr": 1, "portal": 1}
        for tenant_id, want in ((world.yanshan.id, yanshan), (world.lixia.id, {**yanshan, "wechat": 1})):
            with tenant_context(tenant_id):
                rows = {r.period: r for r in db.scalars(select(Rollup))}
                for key in (p.key for p in period.containing()):  # its month, quarter and year
                    assert rows[key].channels == want, (tenant_id, key)
                    assert rows[key].collected == sum(want.values())
    street_page = as_user("yanshan-admin").get(f"/t/yanshan/benchmarks/?period={period.key}")
    assert street_page.status_code == 200
    assert channel_rows(street_page.get_data(as_text=True)) == [
        ["渠道", "议题", "占比"], ["网上点单", "1", "25.0%"], ["站点扫码点单", "2", "50.0%"], ["网格扫码点单", "1", "25.0%"]]
    county_page = as_user("lixia-admin").get(f"/t/lixia/benchmarks/?period={period.key}")
    rows = channel_rows(county_page.get_data(as_text=True))
    assert rows[0] == ["街道", "微信群", "网上点单", "站点扫码点单", "网格扫码点单", "合计"]
    assert sorted(rows[1:]) == [["燕山街道", "0", "1", "2", "1", "4"], ["狼山镇街道", "1", "0", "0", "0", "1"]]
