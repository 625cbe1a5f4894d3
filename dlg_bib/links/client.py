"""A small HTTP/1.1 client on http.client: keep-alive pools per host, bounded body reads.

Why not requests: a link check sends thousands of tiny requests and needs none of its
conveniences; http.client costs a fraction of the CPU per request, which matters with many
threads on a 2-core machine. Redirects, retries and verdicts are the checker's job.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

# Characters allowed unencoded in a request target; anything else is percent-encoded so that
# URLs written with spaces or non-ASCII letters still make a valid request line.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_MAX_IDLE_PER_HOST = 64

Origin = tuple[str, str, int]


class BadURL(ValueError):
    """A URL that cannot be requested (no host, unsupported scheme)."""


@dataclass(frozen=True)
class Target:
    """A URL split into what a request needs."""

    scheme: str
    host: str  # ASCII (IDNA) host name
    port: int
    path: str  # request target: path plus query

    @property
    def origin(self) -> Origin:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def parse_target(url: str) -> Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadURL(f"unsupported scheme {scheme!r}")
    if not parts.hostname:
        raise BadURL("URL without a host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"invalid host name: {exc}") from exc
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_QUERY)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    set_cookies: list[str]
    body: bytes


class ConnectionPool:
    """Idle keep-alive connections per origin, shared by the worker threads."""

    def __init__(self, timeout: float, ssl_context: ssl.SSLContext | None = None):
        self.timeout = timeout
        self._ssl = ssl_context or ssl.create_default_context()
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, target: Target) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to the target's origin and whether it was reused."""
        with self._lock:
            idle = self._idle.get(target.origin)
            if idle:
                return idle.pop(), True
        if target.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                target.host, target.port, timeout=self.timeout, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(target.host, target.port, timeout=self.timeout)
        return conn, False

    def give_back(self, target: Target, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(target.origin, [])
            if len(idle) < _MAX_IDLE_PER_HOST:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


# Errors of a reused keep-alive connection that the server closed meanwhile: resend once on a
# fresh connection; they say nothing about the link.
_STALE_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def send(
    pool: ConnectionPool,
    method: str,
    target: Target,
    headers: Mapping[str, str],
    max_body: int,
) -> Response:
    """One request; reads at most `max_body` bytes of the body. Raises OSError subclasses."""
    while True:
        conn, reused = pool.take(target)
        try:
            return _exchange(pool, conn, method, target, headers, max_body)
        except _STALE_ERRORS:
            conn.close()
            if not reused:
                raise
        except BaseException:
            conn.close()
            raise


def _exchange(
    pool: ConnectionPool,
    conn: http.client.HTTPConnection,
    method: str,
    target: Target,
    headers: Mapping[str, str],
    max_body: int,
) -> Response:
    conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", target.host_header)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    resp = conn.getresponse()
    # HEAD has no body; reading closes the response so the connection can be reused.
    body = resp.read(max_body)
    if not resp.isclosed():
        # The rest of the body is not needed: drop the connection rather than read it.
        conn.close()
    elif resp.will_close:
        conn.close()
    else:
        pool.give_back(target, conn)
    return Response(
        status=resp.status,
        headers={k.lower(): v for k, v in resp.getheaders()},
        set_cookies=resp.headers.get_all("Set-Cookie") or [],
        body=body,
    )


def is_dns_failure(exc: BaseException) -> bool:
    """True for "no such host" (NXDOMAIN), False for temporary resolver failures."""
    return isinstance(exc, socket.gaierror) and exc.errno in (
        socket.EAI_NONAME,
        getattr(socket, "EAI_NODATA", socket.EAI_NONAME),
    )
