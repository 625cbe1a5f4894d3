"""A real threaded HTTP server on 127.0.0.1 for the link-checker tests, with counters.

Each path prefix is one behaviour (see `_ROUTES`). The server counts requests per path and
the requests in flight per Host header, so tests can verify politeness from the server side.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()  # path (without query) -> requests
        self.methods: defaultdict[str, list[str]] = defaultdict(list)
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self.in_flight: Counter[str] = Counter()  # Host header -> requests being answered
        self.peak: Counter[str] = Counter()
        self.peak_total = 0
        self.cookies: defaultdict[str, list[str]] = defaultdict(list)  # path -> Cookie headers

    def enter(self, host: str, path: str, method: str, cookie: str = "") -> int:
        with self.lock:
            self.cookies[path].append(cookie)
            self.hits[path] += 1
            self.methods[path].append(method)
            self.times[path].append(time.monotonic())
            self.in_flight[host] += 1
            self.peak[host] = max(self.peak[host], self.in_flight[host])
            self.peak_total = max(self.peak_total, sum(self.in_flight.values()))
            return self.hits[path]

    def leave(self, host: str) -> None:
        with self.lock:
            self.in_flight[host] -= 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle plus delayed ACKs
    # add 40 ms to answers on kept-alive connections.
    disable_nagle_algorithm = True
    server: LinkServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        host = self.headers.get("Host", "")
        counters = self.server.counters
        nth = counters.enter(host, parts.path, method, self.headers.get("Cookie", ""))
        self._host: str | None = host
        try:
            self._route(method, parts.path, parse_qs(parts.query), nth)
        finally:
            self._done()

    def _done(self) -> None:
        # Counted out before the answer is written: once the client has the answer it may
        # start its next request, which must not overlap this one in the counters.
        if self._host is not None:
            self.server.counters.leave(self._host)
            self._host = None

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self._done()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, status: int, location: str, headers: dict[str, str] | None = None) -> None:
        self._reply(status, b"", {"Location": location, **(headers or {})})

    def _route(self, method: str, path: str, query: dict[str, list[str]], nth: int) -> None:
        name = path.strip("/").split("/")[0]
        arg = path.strip("/").split("/")[1] if path.count("/") > 1 else ""
        if name == "ok" or name == "signed":
            self._reply(200, b"<html>fine</html>", {"Content-Type": "text/html"})
        elif name == "big":
            self._reply(200, b"x" * 200_000, {"Content-Type": "application/pdf"})
        elif name in ("status",):
            self._reply(int(arg), b"status page")
        elif name == "head-refused":
            self._reply(405 if method == "HEAD" else 200, b"get works")
        elif name == "head-404":
            self._reply(404 if method == "HEAD" else 200, b"get works")
        elif name == "perm":
            self._redirect(301, "/ok")
        elif name == "perm-chain":
            self._redirect(301, "/perm-chain2")
        elif name == "perm-chain2":
            self._redirect(308, "/ok")
        elif name == "perm-then-temp":
            self._redirect(301, "/temp")
        elif name == "temp":
            self._redirect(302, "/ok")
        elif name == "perm-dead":
            self._redirect(301, "/status/404")
        elif name == "chain":
            hops = int(arg)
            self._redirect(302 if hops % 2 else 307, f"/chain/{hops - 1}" if hops else "/ok")
        elif name == "loop-a":
            self._redirect(302, "/loop-b")
        elif name == "loop-b":
            self._redirect(301, "/loop-a")
        elif name == "cookie":
            if "visited=1" in self.headers.get("Cookie", ""):
                self._reply(200, b"welcome back")
            else:
                self._redirect(302, "/cookie", {"Set-Cookie": "visited=1; Path=/"})
        elif name == "jar":
            self._jar(path)
        elif name == "flap":  # 503 twice, then fine
            self._reply(503 if nth <= 2 else 200, b"flap")
        elif name == "rate-retry-after":  # 429 with Retry-After: 1 once, then fine
            if nth == 1:
                self._reply(429, b"slow down", {"Retry-After": "1"})
            else:
                self._reply(200, b"ok now")
        elif name == "rate-no-header":  # 429 twice without Retry-After, then fine
            self._reply(429 if nth <= 2 else 200, b"rate")
        elif name == "rate-forever":
            self._reply(429, b"rate")
        elif name == "rate-long":
            self._reply(429, b"rate", {"Retry-After": "3600"})
        elif name == "slow":
            time.sleep(float(query.get("s", ["1.0"])[0]))
            self._reply(200, b"late")
        elif name == "challenge":
            self._reply(503, b"checking your browser", {"cf-mitigated": "challenge"})
        elif name == "head-hang":  # a CDN that never answers HEAD
            if method == "HEAD":
                self.server.stopping.wait(10)
            else:
                self._reply(200, b"get works")
        elif name == "hang":
            self.server.stopping.wait(10)
        elif name == "delay":
            time.sleep(float(query.get("s", ["0.1"])[0]))
            self._reply(200, b"delayed")
        elif name == "wayback":
            self._wayback(query)
        else:
            self._reply(404, b"no such route")

    def _jar(self, path: str) -> None:
        # A login dance across two hosts of one site; the cookies each hop receives are in
        # counters.cookies. `elsewhere.test` is not this site: that cookie must be refused.
        port = self.server.server_address[1]
        if path == "/jar/start":
            cookies = [
                "site=1; Domain=cookies.test; Path=/",
                "hostonly=1; Path=/",
                "foreign=1; Domain=elsewhere.test; Path=/",
            ]
            self._redirect_with_cookies(f"http://login.cookies.test:{port}/jar/login", cookies)
        elif path == "/jar/login":
            self._redirect_with_cookies("/jar/private/page", ["token=2; Path=/jar/private"])
        elif path == "/jar/private/page":
            self._redirect(302, "/jar/public")
        else:
            self._reply(200, b"in")

    def _redirect_with_cookies(self, location: str, cookies: list[str]) -> None:
        self._done()
        self.send_response(302)
        self.send_header("Location", location)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _wayback(self, query: dict[str, list[str]]) -> None:
        url = query.get("url", [""])[0]
        snapshots = self.server.archived
        if url in snapshots:
            closest = {"available": True, "url": snapshots[url], "timestamp": "20200101000000"}
            data = {"url": url, "archived_snapshots": {"closest": {**closest, "status": "200"}}}
        else:
            data = {"url": url, "archived_snapshots": {}}
        body = json.dumps(data).encode()
        headers = {"Content-Type": "application/json"}
        if self.server.gzip_answers and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
            self.server.gzipped += 1
        self._reply(200, body, headers)


class LinkServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            # The handshake runs in accept(): fine for tests that connect a few times.
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.counters = Counters()
        self.stopping = threading.Event()
        self.archived: dict[str, str] = {}
        self.gzip_answers = False  # the Wayback route answers gzip to clients that accept it
        self.gzipped = 0
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out hang up on purpose

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.server_address[1]}{path}"

    def start(self) -> LinkServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GarbageServer:
    """Answers every connection with a line that is not HTTP."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HELLO THERE\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[LinkServer]:
    server = LinkServer(tls).start()
    try:
        yield server
    finally:
        server.stop()
