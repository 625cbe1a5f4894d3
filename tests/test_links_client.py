"""The link checker's transport (aiohttp underneath) against a scripted raw-socket server.

What still matters now that aiohttp speaks the protocol: bodies are cut at `max_body` and a
stalled body past it is not waited for; silent servers time out; malformed answers become
BadAnswer; odd but valid answers (folded headers, interim 1xx, HTTP/1.0) are read; URLs and
host names become what goes on the wire (IDNA2008). Connection reuse is aiohttp's concern.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import Iterator

import pytest

from dlg_bib.links.client import (
    BadAnswer,
    BadURL,
    ProxyFailure,
    Response,
    Target,
    Transport,
    ascii_host,
    parse_target,
)
from dlg_bib.transport import Proxies
from tests.links_server import closed_port
from tests.raw_http_server import DROP, HANG, RawServer, answer

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
NO_PROXIES = Proxies()


@pytest.fixture
def server() -> Iterator[RawServer]:
    with RawServer() as raw:
        yield raw


def ok(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    """A complete HTTP/1.1 answer with a Content-Length body."""
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def fetch(
    url: str,
    *requests: str,
    max_body: int = 1000,
    timeout: float = 1.0,
    headers: dict[str, str] | None = None,
    proxies: Proxies = NO_PROXIES,
) -> list[Response]:
    """Send "METHOD /path" requests one after the other through one transport."""

    async def main() -> list[Response]:
        transport = await Transport(timeout, 4, 2, proxies=proxies).open()
        try:
            responses = []
            for request in requests:
                method, path = request.split(" ")
                target = parse_target(url.rstrip("/") + path)
                responses.append(await transport.send(method, target, headers or {}, max_body))
            return responses
        finally:
            await transport.close()

    return asyncio.run(main())


# Bodies


def test_body_within_max_body_is_read_whole(server: RawServer) -> None:
    server.add(answer(ok(b"first")), answer(ok(b"second")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert (first.status, first.body, second.body) == (200, b"first", b"second")
    assert server.requests == ["GET /a", "GET /b"]


def test_body_over_max_body_is_cut_and_the_next_request_still_works(server: RawServer) -> None:
    server.add(answer(ok(b"x" * 5000)), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /big", "GET /b", max_body=100)
    assert first.body == b"x" * 100
    assert second.body == b"next"


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", CHUNKED + b"3E8\r\n"],
    ids=["content-length", "chunked"],
)
def test_body_past_max_body_is_not_waited_for(server: RawServer, head: bytes) -> None:
    # The server sends 100 of 1000 bytes and stalls: max_body=40 must not wait for the rest.
    server.add(answer(head + b"x" * 100, hang=True))
    start = time.monotonic()
    (response,) = fetch(server.url(), "GET /a", max_body=40, timeout=2)
    assert response.body == b"x" * 40
    assert time.monotonic() - start < 1.5


def test_chunked_body_with_extensions_and_trailers_is_joined(server: RawServer) -> None:
    body = (b"5;x=y\r\nhello\r\n", b"1\r\n \r\n", b"5\r\nworld\r\n", b"0\r\nX-Trailer: t\r\n\r\n")
    server.add(answer(CHUNKED, *body, pause=0.01))
    (response,) = fetch(server.url(), "GET /a")
    assert response.body == b"hello world"


def test_http10_body_without_length_is_bounded_by_max_body(server: RawServer) -> None:
    parts = (b"HTTP/1.0 200 OK\r\n\r\n", b"a" * 30, b"b" * 30, b"c" * 30)
    server.add(answer(*parts, pause=0.02, close=True))
    (response,) = fetch(server.url(), "GET /a", max_body=45)
    assert response.body == b"a" * 30 + b"b" * 15


def test_gzip_body_is_decoded(server: RawServer) -> None:
    data = gzip.compress(b'{"archived_snapshots": {}}')
    server.add(answer(ok(data, "Content-Encoding: gzip", "Content-Type: application/json")))
    (response,) = fetch(server.url(), "GET /a")
    assert response.body == b'{"archived_snapshots": {}}'


def test_head_answer_has_no_body(server: RawServer) -> None:
    server.add(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), answer(ok(b"body")))
    first, second = fetch(server.url(), "HEAD /a", "GET /a", timeout=0.5)
    assert (first.status, first.body, first.headers["content-length"]) == (200, b"", "1000")
    assert second.body == b"body"


def test_interim_answers_are_skipped(server: RawServer) -> None:
    interim = (b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n")
    server.add(answer(*interim, ok(b"gone", status="404 Not Found"), pause=0.01))
    (response,) = fetch(server.url(), "GET /a")
    assert (response.status, response.body) == (404, b"gone")
    assert "link" not in response.headers


# Silence and broken connections


def test_silent_server_times_out(server: RawServer) -> None:
    server.add(HANG)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        fetch(server.url(), "GET /a", timeout=0.2)
    assert time.monotonic() - start < 3


def test_body_that_stops_coming_times_out(server: RawServer) -> None:
    server.add(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", hang=True))
    with pytest.raises(TimeoutError):
        fetch(server.url(), "GET /a", timeout=0.2)


def test_connection_closed_before_an_answer_is_bad_answer(server: RawServer) -> None:
    server.add(DROP)
    with pytest.raises(BadAnswer):
        fetch(server.url(), "GET /a")


def test_refused_connection_raises_connection_refused() -> None:
    with pytest.raises(ConnectionRefusedError):
        fetch(f"http://127.0.0.1:{closed_port()}", "GET /a")


def test_unreachable_proxy_is_a_proxy_failure_not_a_refused_link(server: RawServer) -> None:
    proxies = Proxies({"http": f"http://127.0.0.1:{closed_port()}"})
    with pytest.raises(ProxyFailure, match="cannot reach the proxy"):
        fetch(server.url(), "GET /a", proxies=proxies)
    assert server.requests == []


# Malformed and odd answers


@pytest.mark.parametrize(
    "reply",
    [
        b"HELLO\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n",
    ],
    ids=[
        "garbage",
        "http2",
        "bad-code",
        "long-code",
        "head-over-64k",
        "bad-length",
        "negative-length",
        "bad-chunk-size",
    ],
)
def test_malformed_answer_is_bad_answer(server: RawServer, reply: bytes) -> None:
    server.add(answer(reply))
    with pytest.raises(BadAnswer):
        fetch(server.url(), "GET /a")


def test_long_header_lines_within_64k_are_accepted(server: RawServer) -> None:
    # Content-Security-Policy and Set-Cookie lines past aiohttp's 8 KiB default are real.
    policy = "default-src " + "https://cdn.example.org " * 1000
    server.add(answer(ok(b"", f"Content-Security-Policy: {policy}")))
    (response,) = fetch(server.url(), "GET /a")
    assert response.status == 200


def test_folded_location_header_is_read_whole(server: RawServer) -> None:
    head = (
        b"HTTP/1.1 301 Moved\r\nLocation:\r\n http://example.org/new\r\nContent-Length: 0\r\n\r\n"
    )
    server.add(answer(head))
    (response,) = fetch(server.url(), "GET /a")
    assert (response.status, response.headers["location"]) == (301, "http://example.org/new")


def test_last_repeated_header_wins_and_every_cookie_is_kept(server: RawServer) -> None:
    headers = ("Set-Cookie: a=1", "X-Dup: first", "SET-COOKIE: b=2; Path=/x", "x-dup:  second ")
    server.add(answer(ok(b"", *headers, "Content-Type: text/html")))
    (response,) = fetch(server.url(), "GET /a")
    assert response.headers["x-dup"] == "second"
    assert sorted(response.cookies) == ["a", "b"]
    assert response.cookies["b"]["path"] == "/x"
    assert all(name == name.lower() for name in response.headers)


def test_request_line_host_and_headers_are_sent(server: RawServer) -> None:
    server.add(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    fetch(server.url(), "HEAD /path?q", headers={"User-Agent": "dlg-bib-test", "Accept": "*/*"})
    lines = server.heads[0].split(b"\r\n")
    assert lines[0] == b"HEAD /path?q HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"User-Agent: dlg-bib-test" in lines
    assert b"Accept: */*" in lines


def test_percent_encoded_target_goes_out_unchanged(server: RawServer) -> None:
    server.add(answer(ok(b"")))
    fetch(server.url(), "GET /a%20b/%C3%BC?q=a%2Fb")
    assert server.requests == ["GET /a%20b/%C3%BC?q=a%2Fb"]


# URLs and host names


def test_parse_target_percent_encodes_path_and_query() -> None:
    target = parse_target("http://example.org/a b/ü?q=a b&x=é#frag")
    assert target.path == "/a%20b/%C3%BC?q=a%20b&x=%C3%A9"


def test_parse_target_keeps_encoded_and_reserved_characters() -> None:
    url = "http://example.org/a%20b/c;d=e?x=1&y=/z?w"
    assert parse_target(url).path == "/a%20b/c;d=e?x=1&y=/z?w"


@pytest.mark.parametrize(
    ("host", "ascii"),
    [
        ("straße.de", "xn--strae-oqa.de"),  # IDNA2008; IDNA2003 would give strasse.de
        ("Bücher.Example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),
        ("Example.ORG", "example.org"),
        ("☃.net", "xn--n3h.net"),  # IDNA2008 disallows it; registered under IDNA2003
    ],
)
def test_host_names_are_idna2008_punycode(host: str, ascii: str) -> None:
    assert ascii_host(host) == ascii
    assert parse_target(f"https://{host}/x").host == ascii


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org", Target("http", "example.org", 80, "/")),
        ("https://example.org", Target("https", "example.org", 443, "/")),
        ("HTTP://example.org:8080/x", Target("http", "example.org", 8080, "/x")),
        ("http://[::1]:8080/", Target("http", "::1", 8080, "/")),
    ],
)
def test_parse_target_ports(url: str, expected: Target) -> None:
    assert parse_target(url) == expected


@pytest.mark.parametrize(
    ("target", "url"),
    [
        (Target("http", "example.org", 80, "/"), "http://example.org/"),
        (Target("https", "example.org", 443, "/a?b"), "https://example.org/a?b"),
        (Target("https", "example.org", 80, "/"), "https://example.org:80/"),
        (Target("http", "::1", 8080, "/"), "http://[::1]:8080/"),
    ],
)
def test_target_url_names_the_port_only_when_not_default(target: Target, url: str) -> None:
    assert target.url == url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/file",
        "mailto:someone@example.org",
        "example.org/page",
        "http:///path",
        "http://example.org:abc/",
        "http://example.org:99999/",
        "http://bü..cher/",
    ],
)
def test_parse_target_rejects_unusable_urls(url: str) -> None:
    with pytest.raises(BadURL):
        parse_target(url)


def test_a_stub_resolver_sees_the_punycode_name(server: RawServer) -> None:
    # What DNS is asked: the IDNA2008 name, and the Host header carries it too.
    asked: list[str] = []
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        asked.append(host)
        return real("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]

    server.add(answer(ok(b"")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", resolve)
        fetch(f"http://straße.de:{server.port}", "GET /")
    assert asked == ["xn--strae-oqa.de"]
    assert f"Host: xn--strae-oqa.de:{server.port}".encode() in server.heads[0].split(b"\r\n")
