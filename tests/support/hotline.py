"""A stand-in for a 12345 hotline platform on loopback: the webhook tests' receiver (a real HTTP
server in a thread; down: connection refused) that checks each status callback's signature with the
account's secret and answers the status it is told, and the signing of the orders it sends."""
from __future__ import annotations

import json
import time

from shangliang.integrations import signing
from support.receiver import Receiver


class StandIn(Receiver):
    def __init__(self):
        super().__init__()
        self.secret: str | None = None
        self.answered: list[dict] = []  # every callback that reached it, in arrival order
        self._last_ts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/12345/callback"

    def answer(self, headers: dict, body: bytes) -> int:
        """Checks the signature with the account's secret (401 when it does not verify)."""
        headers = {k.lower(): v for k, v in headers.items()}
        verified = self.secret is not None and signing.verify(
            self.secret, headers.get("x-shangliang-timestamp"), body, headers.get("x-shangliang-signature"))
        status = self.status if verified else 401
        self.answered.append({"delivery": headers.get("x-shangliang-delivery"), "status": status,
                              "event": headers.get("x-shangliang-event"), "body": json.loads(body)})
        return status

    def accepted(self) -> list[dict]:
        """The callbacks it took (2xx), each delivery once: what its own de-duplication keeps."""
        return [a for a in self.answered if 200 <= a["status"] < 300]

    # ------------------------------------------------------------ sending

    def headers(self, body: bytes, secret: str | None = None, ts: int | None = None) -> dict:
        if ts is None:  # each request its own second: a resend is signed anew, never a replay
            ts = self._last_ts = max(int(time.time()), self._last_ts + 1)
        return {"Content-Type": "application/json", "X-Shangliang-Timestamp": str(ts),
                "X-Shangliang-Signature": signing.signature(secret or self.secret, ts, body)}

    def send(self, client, county: str, path: str, payload=None, *, secret: str | None = None,
             ts: int | None = None, headers: dict | None = None):
        """A signed POST (or GET, without a payload) to the county's hotline endpoint."""
        url = f"/api/v1/t/{county}/hotline/{path}"
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        sent = self.headers(body, secret, ts) if headers is None else headers
        if payload is None:
            return client.get(url, headers=sent)
        return client.post(url, data=body, headers=sent)


def order(number: str = "DZ20261207001", **fields) -> dict:
    """A work order as a 12345 platform sends it."""
    return {"number": number, "called_at": "2026-12-07T09:30:00+08:00",
            "caller": {"name": "王女士", "phone": "13812345678"},
            "address": "德州市历下区燕山街道立功社区3号楼", "category": "市容环境",
            "content": "楼道灯坏了一个月，晚上老人上下楼看不见。", "due_at": "2026-12-14T18:00:00+08:00", **fields}
