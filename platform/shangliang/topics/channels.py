"""Intake channels (渠道): a registry, so a new channel is data, not a branch."""
from __future__ import annotations

from dataclasses import dataclass

from ..accounts.tokens import SERVICE_CHANNELS


@dataclass(frozen=True)
class IntakeChannel:
    key: str
    zh: str
    en: str


CHANNELS: dict[str, IntakeChannel] = {}


def register(key: str, zh: str, en: str, systems: bool = False) -> IntakeChannel:
    """`systems`: a channel residents reach through a system of their own (a hotline, a mailbox, a
    mini-program), which a service account acting for them may raise its topics by; not a person's
    visit, a meeting or a poster."""
    CHANNELS[key] = IntakeChannel(key, zh, en)
    if systems:
        SERVICE_CHANNELS[key] = CHANNELS[key]
    return CHANNELS[key]


register("hotline_12345", "12345 热线", "12345 hotline", systems=True)
register("mailbox", "委员/书记信箱", "Mailbox", systems=True)
register("wechat", "微信群", "WeChat group", systems=True)
register("door_visit", "入户走访", "Door visit")
register("stall", "摆摊设点/现场接待", "Street stall or reception in person")  # 4+X 狮子楼: “摆摊设点听民声”
register("meeting", "党群议事会/居民会议", "Party or residents' meeting")
register("wish", "微心愿", "Micro-wish", systems=True)
register("portal", "网上点单", "Public portal", systems=True)
register("grid_worker", "网格员代办", "Grid worker on a resident's behalf")
# 点单 through a QR code on a station's or a grid's poster (portal/posters.py): the topic keeps the
# station (Topic.station_id) or the grid (Topic.grid), and benchmarking counts each channel.
register("station_qr", "站点扫码点单", "Station QR code")
register("grid_qr", "网格扫码点单", "Grid QR code")
# A street's own WeChat mini-program, whose back end raises topics for residents with a service
# account (api/residents.py); a WeChat group's messages that staff type in stay `wechat`.
register("wechat_mini", "微信小程序", "WeChat mini-program", systems=True)
