"""商定即办: both sides agree, each for themselves. The resident confirms the agreed plan on the
portal with their receipt code, or draws a signature on the staff's phone (kept as a checked
file); the one who acts signs with their own account. Typed names are not a signature."""
from __future__ import annotations

import base64
import io
import uuid

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

import factories
from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.files.models import Attachment
from shangliang.topics.models import Topic, TopicEvent
from test_portal import raise_topic, receipt_of

PLAN = "物业本周内清理楼道杂物，居民配合腾出自家物品"


def png(draw: bool = True, fmt: str = "PNG", size=(600, 200)) -> str:
    image = Image.new("RGBA", size, (0, 0, 0, 0))  # a canvas: transparent until drawn on
    if draw:
        ImageDraw.Draw(image).line([(40, 150), (120, 40), (200, 160), (330, 60), (480, 140)], fill="black", width=5)
    out = io.BytesIO()
    image.convert("RGB" if fmt == "JPEG" else "RGBA").save(out, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def street(app, world, monkeypatch):
    """燕山 on 三即两提一转, and a topic a resident raised on the portal, consulted and agreed: at 商定即办."""
    from shangliang.portal import operations

    monkeypatch.setattr(operations, "MIN_FILL_SECONDS", 0)
    with app.app_context():
        factories.procedure(world.yanshan, "sanji_liangti_yizhuan")
        db.commit()
    return world.yanshan


@pytest.fixture
def agreed(app, client, street):
    """(number, receipt code) of a portal topic moved to 商定即办 with its plan recorded."""
    code = receipt_of(raise_topic(client))
    with app.app_context(), tenant_context(street.id):
        topic = db.scalar(select(Topic).order_by(Topic.number.desc()).limit(1))
        while topic.step_key != "jishang":
            factories.advance(street, topic, toward="jishang")
        factories.act(street, topic, "record", data={"plan": PLAN})  # 接诉即商: what both sides agreed
        factories.advance(street, topic, toward="jiban")
        assert topic.step_key == "jiban"
        db.commit()
        return topic.number, code


def topic_of(app, street, number) -> Topic:
    with app.app_context(), tenant_context(street.id):
        return db.scalar(select(Topic).where(Topic.number == number))


def sign(client, number, version, **form):
    return client.post(f"/t/yanshan/topics/{number}/act", data={
        "csrf_token": csrf_token(client), "action": "sign", "version": version, **form})


def follow(client, code, **form):
    return client.post("/t/yanshan/follow", data={"csrf_token": csrf_token(client), "code": code, "last4": "5678",
                                                  **form})


def test_typed_names_are_not_a_signature(app, as_user, street, agreed):
    number, _code = agreed
    staff = as_user("yanshan-staff")
    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "签名框" in page and 'name="resident_signature"' not in page
    resp = sign(staff, number, topic_of(app, street, number).version, resident_signature="王大妈",
                staff_signature="李主任")
    assert resp.status_code == 400 and "居民一方确认" in resp.get_data(as_text=True)
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(TopicEvent).where(TopicEvent.action == "sign")) is None


@pytest.mark.parametrize("value, words", [
    (png(draw=False), "签名框是空的"),
    (png(fmt="JPEG"), "须在签名框内手写"),
    ("data:image/png;base64,not-base64!!", "无法读取"),
    ("data:image/png;base64," + "A" * 600_000, "须在签名框内手写"),
    ("王大妈", "须在签名框内手写"),
])
def test_what_is_not_a_drawn_signature_is_refused_naming_the_field(app, as_user, street, agreed, value, words):
    number, _code = agreed
    resp = sign(as_user("yanshan-staff"), number, topic_of(app, street, number).version, signature=value)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and words in html
    assert topic_of(app, street, number).step_key == "jiban"


def test_a_drawn_signature_is_kept_as_a_checked_file_and_signs_with_the_staffs_account(app, as_user, world, street,
                                                                                       agreed, run_jobs):
    number, _code = agreed
    staff = as_user("yanshan-staff")
    assert sign(staff, number, topic_of(app, street, number).version, signature=png()).status_code == 302
    with app.app_context(), tenant_context(street.id):
        event = db.scalar(select(TopicEvent).where(TopicEvent.action == "sign"))
        assert event.data["resident"] == "drawn" and event.actor_id == world.users["yanshan-staff"].id
        kept = db.scalar(select(Attachment).where(Attachment.id == uuid.UUID(event.data["signature_id"])))
        assert kept.owner_kind == "topic" and kept.filename == "居民签名.png"
    run_jobs()
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(Attachment.status).where(Attachment.id == kept.id)) == "ready"
    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "居民当面手写签名" in page and f"/files/{kept.id}" in page
    assert "双方签字" not in _still_missing(page)


def _still_missing(page: str) -> str:
    return page.split("离开本步骤还需", 1)[1].split("</div>", 1)[0] if "离开本步骤还需" in page else ""


def test_the_resident_confirms_on_the_portal_and_staff_then_sign(app, client, as_user, street, agreed):
    number, code = agreed
    shown = follow(client, code).get_data(as_text=True)
    assert "请您确认协商方案" in shown
    done = follow(client, code, action="confirm")
    assert done.status_code == 200 and "您已确认协商方案" in done.get_data(as_text=True)
    again = follow(client, code, action="confirm")
    assert again.status_code == 409 and "您已确认过" in again.get_data(as_text=True)

    staff = as_user("yanshan-staff")
    page = staff.get(f"/t/yanshan/topics/{number}").get_data(as_text=True)
    assert "居民凭回执码确认了协商方案" in page and "签名框" not in page
    assert sign(staff, number, topic_of(app, street, number).version).status_code == 302
    with app.app_context(), tenant_context(street.id):
        event = db.scalar(select(TopicEvent).where(TopicEvent.action == "sign"))
        assert event.data["resident"] == "portal"
        confirmed = db.scalar(select(TopicEvent).where(TopicEvent.action == "confirm"))
        assert confirmed.actor_id is None and confirmed.actor_role == "resident"


def test_nothing_to_confirm_before_the_agreement(app, client, street):
    code = receipt_of(raise_topic(client))
    resp = follow(client, code, action="confirm")
    assert resp.status_code == 400 and "没有需要您确认的方案" in resp.get_data(as_text=True)
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(TopicEvent).where(TopicEvent.action == "confirm")) is None


def test_storage_down_when_keeping_a_drawing_records_nothing(app, as_user, street, agreed, monkeypatch):
    from shangliang.files import uploads

    number, _code = agreed

    def down(*_a, **_k):
        raise OSError("storage is down")

    with app.app_context():
        store = uploads.current_storage()
    monkeypatch.setattr(store, "put", down)
    resp = sign(as_user("yanshan-staff"), number, topic_of(app, street, number).version, signature=png())
    assert resp.status_code == 503 and "存储服务暂时不可用" in resp.get_data(as_text=True)
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(TopicEvent).where(TopicEvent.action == "sign")) is None
        assert db.scalar(select(Attachment).where(Attachment.filename == "居民签名.png")) is None


def test_a_drawing_whose_header_claims_a_huge_canvas_is_refused_before_it_is_decoded(app, as_user, street, agreed):
    """A few hundred bytes of PNG can claim 60,000 × 60,000 pixels: refused on its header, never decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    number, _code = agreed
    resp = sign(as_user("yanshan-staff"), number, topic_of(app, street, number).version,
                signature="data:image/png;base64," + base64.b64encode(bomb).decode())
    html = resp.get_data(as_text=True)  # Pillow may itself refuse to open it (a decompression bomb)
    assert resp.status_code == 400 and ("须在签名框内手写" in html or "签名图片无法读取" in html)
