"""商定即办: both sides agree, and it shows.

三即两提一转's "见证双方签字确认" is kept as two acts of two people, never as names typed by staff:
- the resident confirms the agreed plan themselves, on the portal with their receipt code (a
  `confirm` event, actor none, role resident), or draws their signature on the staff's phone in
  person (a PNG kept as a photo of the topic, so it is checked and stored like any evidence);
- the person who acts for the street or the department signs by signing the `sign` event with
  their own account.
`sign` is refused until the resident's side is there: a confirmation in this visit, or a drawing."""
from __future__ import annotations

import base64
import binascii
import io
import uuid

from PIL import Image, UnidentifiedImageError

from ..core.errors import Refused
from .channels import CHANNELS
from .evidence import EVIDENCE_FILES
from .intake import field_value
from .log import this_visit
from .models import Topic, TopicEvent
from .page import register_part

PREFIX = "data:image/png;base64,"
MAX_BYTES = 400_000  # a hand-drawn signature at phone resolution is 10–60 KB
MAX_SIDE = 4000
INK = 200  # a pixel darker than this (0 black … 255 white) on white is ink
MIN_INK_PIXELS, MIN_WIDTH = 60, 40  # less than a short stroke is not a signature


def confirmation(visit: list[TopicEvent]) -> TopicEvent | None:
    return next((e for e in reversed(visit) if e.action == "confirm"), None)


def may_confirm(here, _transition) -> bool:
    """Offered to the resident where the step asks both sides to sign, once per visit."""
    return ("resident" in here.roles and bool(here.step["evidence"].get("signatures"))
            and confirmation(here.visit) is None)


def confirm(_topic: Topic, data: dict, _log) -> dict:
    """How the resident confirmed: on the portal, a staff's call back, or a service account's
    system (its channel, and its name)."""
    via = data.get("via")
    out = {"via": via if via in ("portal", "callback") or via in CHANNELS else "portal"}
    return {**out, "service": str(data["service"])[:100]} if data.get("service") else out


def drawing(value) -> bytes | None:
    """The PNG a resident drew, or None if none was sent; Refused, naming the field, if it is not
    a signature: not a PNG, too large, or (nearly) blank."""
    if not value:
        return None
    if not isinstance(value, str) or not value.startswith(PREFIX) or len(value) > MAX_BYTES * 4 // 3 + 100:
        raise Refused("签名须在签名框内手写（PNG 图片，不超过 400 KB）", "signature", "validation_error")
    try:
        png = base64.b64decode(value[len(PREFIX):], validate=True)
        image = Image.open(io.BytesIO(png))  # the header only: sizes are checked before decoding
        if image.format != "PNG" or max(image.size) > MAX_SIDE:
            raise Refused("签名须在签名框内手写（PNG 图片，不超过 400 KB）", "signature", "validation_error")
        image.load()
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Refused("签名图片无法读取，请清除后重新签名", "signature", "validation_error") from None
    on_white = Image.new("RGBA", image.size, "white")
    on_white.alpha_composite(image.convert("RGBA"))
    ink = on_white.convert("L").point(lambda p: 255 if p < INK else 0)
    box = ink.getbbox()
    if box is None or box[2] - box[0] < MIN_WIDTH or sum(ink.histogram()[255:]) < MIN_INK_PIXELS:
        raise Refused("签名框是空的：请居民在框内手写签名", "signature", "validation_error")
    return png


def prepare(_tenant, _topic, _actor_id, _roles, data: dict) -> dict:
    """Before anything is written: the drawing decoded and checked, with the id it will be kept as."""
    png = drawing(data.get("signature"))
    return {**data, "signature_png": png, "signature_id": str(uuid.uuid4()) if png else None}


def check(topic: Topic, data: dict, log: list[TopicEvent]) -> dict:
    confirmed = confirmation(this_visit(topic, log))
    if data.get("signature_png") is None and confirmed is None:
        raise Refused("须有居民一方确认：请居民在签名框内手写签名，或凭回执码在网上确认方案", "signature",
                      "validation_error")
    if data.get("signature_png") is not None:
        return {"resident": "drawn", "signature_id": data["signature_id"]}
    return {"resident": "portal"}  # the confirmation is an event of its own, just before


def keep_drawing(tenant, topic: Topic, event: TopicEvent, actor_id: int | None, data: dict) -> None:
    """The drawing is kept as a photo of the topic, checked like any upload (files registers how)."""
    if data.get("signature_png") is not None:
        EVIDENCE_FILES.store(tenant, topic, actor_id, uuid.UUID(data["signature_id"]), data["signature_png"],
                             "居民签名.png")


def agreed_plan(topic: Topic, log: list[TopicEvent]) -> str | None:
    """What both sides agree to: the plan recorded, or else the consultation's agreement."""
    consulted = next((e for e in reversed(log) if e.action == "consult"), None)
    return field_value(topic, "plan") or (consulted.data.get("agreement") if consulted is not None else None)


def agreement_part(topic: Topic, log: list[TopicEvent], _roles, _user_id) -> dict:
    """On the topic's page where both sides sign: the plan, and whether the resident confirmed it."""
    if topic.status != "open" or not topic.step["evidence"].get("signatures"):
        return {"plan": None, "resident_confirmed": False}
    return {"plan": agreed_plan(topic, log), "resident_confirmed": confirmation(this_visit(topic, log)) is not None}


register_part("agreement", agreement_part)
