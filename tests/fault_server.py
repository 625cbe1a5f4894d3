"""A loopback HTTP server that answers every GET from a plan: the next planned answer while
there is one, then the same default answer forever. Counts requests per path.

For subprocess tests of sources that fail (point `DLG_BIB_*_API` at `server.url`):
a Crossref that answers 500 to everything, truncated JSON, 429 with Retry-After.
"""

from __future__ import annotations

import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        answer = self.server.next_answer(urlsplit(self.path).path)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, default: Answer, plan: list[Answer] | None = None, tls: ssl.SSLContext | None = None
    ):
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.default = default
        self.plan = list(plan or [])
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def next_answer(self, path: str) -> Answer:
        with self._lock:
            self.hits[path] += 1
            return self.plan.pop(0) if self.plan else self.default


@contextmanager
def serving(
    default: Answer, plan: list[Answer] | None = None, tls: ssl.SSLContext | None = None
) -> Iterator[FaultServer]:
    server = FaultServer(default, plan, tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
