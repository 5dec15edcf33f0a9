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
from urllib.parse import quote, urlsplit

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


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def as_reached(ip):
    """The address a connection to `ip` reaches in the end: an IPv6 address that carries an IPv4
    one (::ffff:10.0.0.1, 6to4 2002:0a00:0001::, NAT64 64:ff9b::10.0.0.1) is judged by that."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def permitted(ip) -> bool:
    ip = as_reached(ip)
    if any(ip.version == n.version and ip in n for n in NEVER):
        return False
    if ip.is_global and not ip.is_multicast:
        return True
    return any(ip.version == n.version and ip in n for n in _allowed["networks"])


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
        host = parts.hostname.encode("idna").decode("ascii")  # 例子.中国 → xn--…: what DNS and Host take
        pinned_address(host, port or (443 if parts.scheme == "https" else 80))
    except UnicodeError:
        raise Refused("找不到接收地址的主机，请检查拼写", "url", "validation_error") from None
    except BadTarget as exc:
        if exc.reason == "dns":
            raise Refused("找不到接收地址的主机，请检查拼写", "url", "validation_error") from None
        raise Refused("接收地址指向本机或内网，按本系统的设置不允许推送", "url", "validation_error") from None
    return ascii_url(parts, host)


def ascii_url(parts, host: str) -> str:
    """The URL as the request line and the Host header must spell it: the host in IDNA, anything
    else that is not ASCII percent-encoded (what is encoded already stays as it is)."""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    safe = "/:@!$&'()*+,;=-._~%?"
    path, query = quote(parts.path, safe=safe), quote(parts.query, safe=safe)
    return f"{parts.scheme}://{netloc}{path or '/'}" + (f"?{query}" if query else "")
