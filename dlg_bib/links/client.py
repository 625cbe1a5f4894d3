"""The link checker's HTTP transport: one aiohttp session per run, bounded bodies, and
failures translated into what the checker judges (OSError subclasses or BadAnswer).

aiohttp does the protocol: keep-alive, chunked and compressed bodies, interim answers,
folded headers, proxies (CONNECT for https), TLS. What stays ours: the ASCII host name,
computed once (IDNA2008) because the per-host gate keys on it (`straße.de` and
`xn--strae-oqa.de` are one host) and the URL goes to aiohttp already encoded; reading at most
`max_body` bytes; and redirects, cookies and retries, which the checker does hop by hop so
that every request goes through the gate.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import BaseCookie
from urllib.parse import quote, unquote, urlsplit

import aiohttp
import idna
from yarl import URL

from dlg_bib import transport

# Characters allowed unencoded in a request target; anything else is percent-encoded so that
# URLs written with spaces or non-ASCII letters still make a valid request line.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
# Real sites send long Content-Security-Policy and Set-Cookie lines; aiohttp's 8 KiB default
# would turn them into "bad answer". The old client allowed a 64 KiB head.
_MAX_FIELD = 64 * 1024
_MAX_HEADERS = 256
_DNS_TTL = 300  # seconds; a run takes minutes, and names do not move meanwhile


class BadURL(ValueError):
    """A URL that cannot be requested (no host, unsupported scheme)."""


class BadAnswer(Exception):
    """The server answered something that is not HTTP/1.x, or broke off mid-answer."""


class ConnectTimeout(TimeoutError):
    """No connection within the timeout: nothing answers at the host's address."""


class ProxyFailure(OSError):
    """The proxy, not the link, failed: it is unreachable or refused the request."""


@dataclass(frozen=True)
class Target:
    """A URL split into what a request needs, the host as ASCII (IDNA2008 punycode)."""

    scheme: str
    host: str
    port: int
    path: str  # request target: path plus query, percent-encoded

    @property
    def default_port(self) -> bool:
        return self.port == (443 if self.scheme == "https" else 80)

    @property
    def url(self) -> str:
        """The URL as it goes on the wire (what proxies and the cookie jar see)."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        netloc = name if self.default_port else f"{name}:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"


def ascii_host(host: str) -> str:
    """`host` as DNS knows it: IDNA2008 with UTS #46 mapping (`Straße.de` is
    `xn--strae-oqa.de`, not `strasse.de` as IDNA2003 has it). Raises BadURL."""
    if host.isascii():
        # The idna codec is slow pure Python; ASCII names only need its label checks.
        if ":" not in host and not all(0 < len(lb) < 64 for lb in host.rstrip(".").split(".")):
            raise BadURL("invalid host name: empty or too long label")
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        pass
    try:
        # Names IDNA2008 disallows (symbols such as ☃) still resolve where they were
        # registered under IDNA2003; browsers reach them too.
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BadURL(f"invalid host name: {exc}") from exc


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
    host = ascii_host(unquote(parts.hostname))
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_QUERY)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]  # lower-case names; the last of repeated headers
    cookies: BaseCookie[str]  # what Set-Cookie asked for, Domain and Path kept
    body: bytes


class Transport:
    """The run's aiohttp session. Open it inside the event loop that uses it.

    Its connection limits match the checker's gate (`overall`, `per_host`), so a request
    that holds a gate slot never waits for a connection; the gate decides who goes first."""

    def __init__(
        self,
        timeout: float,
        overall: int,
        per_host: int,
        proxies: transport.Proxies | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.timeout = timeout
        self._overall = overall
        self._per_host = per_host
        self._proxies = proxies
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> Transport:
        # Proxies and trust come from the environment once per run, not once per request
        # (aiohttp's trust_env looks the proxy up again for every request, in a thread).
        if self._proxies is None:
            self._proxies = transport.Proxies.from_environment()
        connector = aiohttp.TCPConnector(
            limit=self._overall,
            limit_per_host=self._per_host,
            use_dns_cache=True,
            ttl_dns_cache=_DNS_TTL,
            ssl=self._ssl if self._ssl is not None else transport.ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # Cookies belong to one link's redirect chain (see check._Chain), not the run.
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout),
            trust_env=False,
            max_line_size=_MAX_FIELD,
            max_field_size=_MAX_FIELD,
            max_headers=_MAX_HEADERS,
        )
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        target: Target,
        headers: Mapping[str, str],
        max_body: int,
    ) -> Response:
        """One request, no redirects followed; reads at most `max_body` bytes of the body.
        Raises OSError subclasses (TimeoutError, socket.gaierror, ssl.SSLError,
        ConnectionError, ProxyFailure...) or BadAnswer."""
        if self._session is None or self._proxies is None:
            raise RuntimeError("open the transport first")
        url = target.url
        proxy = self._proxies.for_url(url)
        proxy_headers = None
        if proxy is not None:
            proxy, proxy_headers = _proxy_and_auth(proxy)
            if proxy_headers and target.scheme == "http":
                # A plain-HTTP request goes to the proxy itself: the credentials ride on it
                # (aiohttp puts proxy_headers on CONNECT only).
                headers = {**headers, **proxy_headers}
                proxy_headers = None
        try:
            async with self._session.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                allow_redirects=False,
                proxy=proxy,
                proxy_headers=proxy_headers,
            ) as resp:
                async with asyncio.timeout(self.timeout):
                    body, complete = await _read_bounded(resp.content, max_body)
                if not complete:
                    resp.close()  # do not drain a large body just to reuse the connection
                return Response(
                    status=resp.status,
                    headers={name.lower(): value for name, value in resp.headers.items()},
                    cookies=resp.cookies,
                    body=body,
                )
        except aiohttp.ConnectionTimeoutError as exc:
            if proxy is not None:
                raise ProxyFailure(f"the proxy {proxy} did not connect in time") from exc
            raise ConnectTimeout(f"no connection to {target.host} in time") from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise exc.certificate_error from exc
        except aiohttp.ClientProxyConnectionError as exc:
            reason = exc.os_error.strerror or str(exc.os_error)
            raise ProxyFailure(f"cannot reach the proxy {proxy}: {reason}") from exc
        except aiohttp.ClientHttpProxyError as exc:
            raise ProxyFailure(f"the proxy answered {exc.status} {exc.message}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise exc.os_error from exc  # DNS, refused, TLS handshake: the link's own failure
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            raise BadAnswer(_reason(exc)) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise BadAnswer("connection closed before an answer") from exc
        except aiohttp.InvalidURL as exc:
            raise BadURL(str(exc)) from exc


def _reason(exc: aiohttp.ClientError) -> str:
    message = getattr(exc, "message", "") or str(exc)
    return str(message).splitlines()[0][:200] if message else type(exc).__name__


async def _read_bounded(content: aiohttp.StreamReader, max_body: int) -> tuple[bytes, bool]:
    """At most `max_body` bytes, and whether that was the whole body."""
    body = bytearray()
    while len(body) < max_body:
        data = await content.read(max_body - len(body))
        if not data:
            return bytes(body), True
        body += data
    return bytes(body), content.at_eof()


def _proxy_and_auth(proxy: str) -> tuple[str, dict[str, str] | None]:
    """The proxy URL without credentials, and the Proxy-Authorization header they make."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return proxy, None
    login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    header = "Basic " + base64.b64encode(login.encode("utf-8")).decode("ascii")
    bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return bare, {"Proxy-Authorization": header}


class Cookies:
    """The cookies of one link's redirect chain, by the rules browsers follow (Domain, Path,
    Secure, expiry): aiohttp's CookieJar, made only once a server sets a cookie."""

    def __init__(self) -> None:
        self._jar: aiohttp.CookieJar | None = None

    def remember(self, url: str, cookies: BaseCookie[str]) -> None:
        if not cookies:
            return
        if self._jar is None:
            # unsafe: accept cookies from IP-address hosts too; links may name one.
            self._jar = aiohttp.CookieJar(unsafe=True)
        self._jar.update_cookies(cookies, URL(url, encoded=True))

    def header(self, url: str) -> str:
        """The Cookie header for a request to `url` ("" for none)."""
        if self._jar is None:
            return ""
        found = self._jar.filter_cookies(URL(url, encoded=True))
        return "; ".join(f"{name}={morsel.coded_value}" for name, morsel in found.items())


def connection_budget(reserve: int = 64) -> int | None:
    """How many sockets this process may open besides `reserve` other files (the soft
    RLIMIT_NOFILE, often 1024 on desktops), or None where there is no such limit."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(1, soft - reserve)


def is_dns_failure(exc: BaseException) -> bool:
    """True for "no such host" (NXDOMAIN), False for temporary resolver failures."""
    return isinstance(exc, socket.gaierror) and exc.errno in (
        socket.EAI_NONAME,
        getattr(socket, "EAI_NODATA", socket.EAI_NONAME),
    )
