"""A webhook receiver on loopback for the tests: a real HTTP server in a thread that keeps what it
was sent and answers with the status it is told; it can be taken down (the port then refuses
connections) and brought back on the same port."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []  # (headers, raw body), in arrival order
        self.status = 200
        self.port = None
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/shangliang?from=test"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(receiver.answer({k: v for k, v in self.headers.items()}, body))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def answer(self, headers: dict, body: bytes) -> int:
        """What it does with a request: keeps it and answers the status it was told."""
        self.received.append((headers, body))
        return self.status

    def stop(self) -> None:
        """Down: connections to the port are refused until `start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def header(self, i: int, name: str) -> str:
        return {k.lower(): v for k, v in self.received[i][0].items()}[name.lower()]
