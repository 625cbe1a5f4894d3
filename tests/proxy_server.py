"""A loopback HTTP proxy for the link-checker tests: it records every request it is asked
to carry, answers plain-HTTP requests itself, and tunnels CONNECT to 127.0.0.1.

Answering itself is the point: the tests send links to names that do not resolve
(`*.invalid`), so a link that comes back ok can only have gone through the proxy. The
status comes from the path (`/status/404` answers 404; anything else 200).
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from types import TracebackType
from urllib.parse import urlsplit


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        buffer = b""
        with contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.server.owner.record(f"{method} {target}", headers)
                if method == "CONNECT":
                    self._tunnel(conn, target, buffer)
                    return
                path = urlsplit(target).path
                status = int(path.split("/")[2]) if path.startswith("/status/") else 200
                body = b"" if method == "HEAD" else b"via the proxy"
                conn.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
                )

    def _tunnel(self, conn: socket.socket, target: str, early: bytes) -> None:
        _host, _, port = target.rpartition(":")
        # Every name leads to the loopback: the proxy, not the client, resolves names.
        upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if early:
            upstream.sendall(early)
        with upstream:
            while True:
                ready, _, _ = select.select([conn, upstream], [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is conn else conn).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ProxyServer


class ProxyServer:
    """Use as a context manager; `url` goes into HTTP_PROXY/HTTPS_PROXY."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[str] = []  # "METHOD target" as the client sent it
        self.hosts: list[str] = []  # the Host header of each request
        self.headers: list[dict[str, str]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def record(self, request: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(request)
            self.hosts.append(headers.get("host", ""))
            self.headers.append(headers)

    def __enter__(self) -> ProxyServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
