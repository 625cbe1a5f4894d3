"""A scripted raw-socket server on 127.0.0.1 for the transport tests (`dlg_bib.links.client`).

Why not http.server: it always answers well-formed HTTP, so it cannot send garbage, chunked
bodies with extensions and trailers, interim 1xx answers, bodies cut short, or nothing at all,
on demand. Here each request gets the next scripted `Reply`: raw bytes written as given, then
the connection is kept open for another request, closed, or left hanging. The server counts
the connections it accepted and records every request head in order, so tests can check
keep-alive from the server side.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Reply:
    """What the server does with one request, after reading its head."""

    parts: tuple[bytes, ...] = ()  # written in order, `pause` seconds apart
    pause: float = 0.0
    close: bool = False  # close the connection after writing the parts
    hang: bool = False  # then write nothing more; close when the server stops or after HANG_LIMIT


def answer(*parts: bytes, pause: float = 0.0, close: bool = False, hang: bool = False) -> Reply:
    return Reply(parts, pause=pause, close=close, hang=hang)


HANG = Reply(hang=True)  # never answer
HANG_LIMIT = 5.0  # seconds: a client that never times out fails its test instead of hanging
DROP = Reply(close=True)  # close the connection without answering


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        owner = self.server.owner
        conn: socket.socket = self.request
        owner._accepted(conn)
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return  # the client closed the connection
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                reply = owner._received(head)
                for index, part in enumerate(reply.parts):
                    if index and reply.pause:
                        time.sleep(reply.pause)
                    conn.sendall(part)
                if reply.hang:
                    owner._stopping.wait(HANG_LIMIT)
                if reply.close or reply.hang:
                    return
        except OSError:
            return  # the client went away mid-answer: expected when it truncates a body


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    owner: RawServer


class RawServer:
    """Use as a context manager; `add` the replies, then send requests to `url(path)`."""

    def __init__(self, *replies: Reply) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._replies: deque[Reply] = deque(replies)
        self._sockets: list[socket.socket] = []
        self.connections = 0  # accepted connections
        self.requests: list[str] = []  # "METHOD /path" of every request, in order
        self.heads: list[bytes] = []  # the raw request heads, without the final blank line
        self._server = _TCPServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _accepted(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._sockets.append(sock)

    def _received(self, head: bytes) -> Reply:
        method, _, rest = head.partition(b" ")
        path = rest.partition(b" ")[0]
        with self._lock:
            self.heads.append(head)
            self.requests.append(f"{method.decode('latin-1')} {path.decode('latin-1')}")
            return self._replies.popleft() if self._replies else DROP

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            for sock in self._sockets:  # wake handlers blocked in recv on idle connections
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join()
