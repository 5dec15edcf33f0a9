"""Which URLs a webhook may be posted to.

A URL is typed by an administrator and fetched by the server, from inside the network the server
sits in: without a check it would reach the machine's own services (the database, the broker, a
cloud's metadata address) or the intranet behind it (server-side request forgery). So only
http/https, and every address the host name resolves to must be public, or inside a network the
installation allows (WEBHOOK_ALLOW_NETWORKS: the 政务外网 range a 12345 platform sits on, or
127.0.0.0/8 for a receiver on the same machine, as the tests run one). The check is made again at
each delivery on a fresh resolution, and the request goes to the address that was checked (a
name that resolves to a public address at creation and a private one later gains nothing)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ..core.errors import Refused
from ..core.forms import has_control

URL_MAX = 500
NEVER = (ipaddress.ip_network("0.0.0.0/8"), ipaddress.ip_network("::/128"), ipaddress.ip_network("224.0.0.0/4"),
         ipaddress.ip_network("ff00::/8"))  # unspecified and multicast: no receiver lives there
_allowed: dict[str, tuple] = {"networks": ()}


def allow_networks(networks) -> None:
    _allowed["networks"] = tuple(ipaddress.ip_network(n, strict=False) for n in networks)


class BadTarget(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return ip.is_global and not ip.is_multicast


def permitted(ip) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == n.version and ip in n for n in NEVER):
        return False
    return is_public(ip) or any(ip.version == n.version and ip in n for n in _allowed["networks"])


def addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address literal is itself); BadTarget when none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadTarget("dns", f"{host}: {exc}") from None
    found = list(dict.fromkeys(info[4][0] for info in infos))
    if not found:
        raise BadTarget("dns", f"{host}: no address")
    return found


def pinned_address(host: str, port: int) -> str:
    """The address to connect to: the first of the host's, when every one of them is permitted."""
    found = addresses(host, port)
    refused = [a for a in found if not permitted(ipaddress.ip_address(a.split("%")[0]))]
    if refused:
        raise BadTarget("forbidden", f"{host} → {', '.join(refused)}")
    return found[0]


def check_url(raw) -> str:
    """The URL as kept, or Refused naming the field `url` and what is wrong, in words."""
    url = str(raw or "").strip()
    if not url:
        raise Refused("请填写接收地址", "url", "validation_error")
    if len(url) > URL_MAX or has_control(url) or any(ch.isspace() for ch in url):
        raise Refused("接收地址过长或含有空格、控制字符", "url", "validation_error")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("接收地址的格式不对，例如：https://hotline.example.gov.cn/shangliang/events", "url",
                      "validation_error") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("接收地址必须以 http:// 或 https:// 开头，并写明主机名", "url", "validation_error")
    if parts.username is not None or parts.password is not None:
        raise Refused("接收地址里不能写用户名和密码，请由接收方用签名验证来源", "url", "validation_error")
    if parts.fragment:
        raise Refused("接收地址不能带 # 后面的部分", "url", "validation_error")
    try:
        pinned_address(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except BadTarget as exc:
        if exc.reason == "dns":
            raise Refused("找不到接收地址的主机，请检查拼写", "url", "validation_error") from None
        raise Refused("接收地址指向本机或内网，按本系统的设置不允许推送", "url", "validation_error") from None
    return url
