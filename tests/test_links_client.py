"""The asyncio HTTP/1.1 client of the link checker, against a scripted raw-socket server.

What matters: bodies are read whole or cut at `max_body`; a connection goes back to the pool
only when its answer was read to the end; interim, bodiless and malformed answers, silent
servers and stale keep-alive connections are handled; URLs become valid request targets.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from dlg_bib.links.client import (
    BadAnswer,
    BadURL,
    ConnectionPool,
    Response,
    Target,
    parse_target,
    send,
)
from tests.raw_http_server import DROP, HANG, RawServer, Reply, answer

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


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
    pause: float = 0.0,
    headers: dict[str, str] | None = None,
) -> list[Response]:
    """Send "METHOD /path" requests one after the other through one pool; `pause` seconds
    between them."""

    async def main() -> list[Response]:
        pool = ConnectionPool(timeout)
        responses = []
        try:
            for index, request in enumerate(requests):
                if index and pause:
                    await asyncio.sleep(pause)
                method, path = request.split(" ")
                target = parse_target(url.rstrip("/") + path)
                responses.append(await send(pool, method, target, headers or {}, max_body))
        finally:
            pool.close()
        return responses

    return asyncio.run(main())


# Bodies and keep-alive


def test_content_length_body_is_read_whole_and_connection_reused(server: RawServer) -> None:
    server.add(answer(ok(b"first")), answer(ok(b"second")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert (first.status, first.body, second.body) == (200, b"first", b"second")
    assert server.connections == 1
    assert server.requests == ["GET /a", "GET /b"]


def test_content_length_body_at_max_body_is_complete(server: RawServer) -> None:
    server.add(answer(ok(b"x" * 10)), answer(ok(b"y")))
    first, _ = fetch(server.url(), "GET /a", "GET /b", max_body=10)
    assert first.body == b"x" * 10
    assert server.connections == 1


def test_content_length_body_over_max_body_is_cut_and_connection_dropped(
    server: RawServer,
) -> None:
    server.add(answer(ok(b"x" * 5000)), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /big", "GET /b", max_body=100)
    assert first.body == b"x" * 100
    assert second.body == b"next"
    assert server.connections == 2


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", CHUNKED + b"3E8\r\n"],
    ids=["content-length", "chunked"],
)
def test_body_past_max_body_is_not_waited_for(server: RawServer, head: bytes) -> None:
    # The server sends 100 of 1000 bytes and stalls: max_body=40 must not wait for the rest.
    server.add(answer(head + b"x" * 100, hang=True))
    (response,) = fetch(server.url(), "GET /a", max_body=40, timeout=0.5)
    assert response.body == b"x" * 40


def test_content_length_body_cut_short_by_server_returns_partial(server: RawServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    server.add(answer(head, b"only this", close=True), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert first.body == b"only this"
    assert second.body == b"next"
    assert server.connections == 2


def test_chunked_body_is_joined_and_connection_reused(server: RawServer) -> None:
    body = (b"5;x=y\r\nhello\r\n", b"1\r\n \r\n", b"5\r\nworld\r\n", b"0\r\nX-Trailer: t\r\n\r\n")
    server.add(answer(CHUNKED, *body, pause=0.01), answer(ok(b"again")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert first.body == b"hello world"
    assert second.body == b"again"
    assert server.connections == 1


def test_chunked_body_of_exactly_max_body_keeps_the_connection(server: RawServer) -> None:
    server.add(answer(CHUNKED + b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /a", "GET /b", max_body=10)
    assert (first.body, second.body) == (b"helloworld", b"next")
    assert server.connections == 1


def test_chunked_body_split_mid_line_is_joined(server: RawServer) -> None:
    body = b"A\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n"
    server.add(answer(CHUNKED + body[:2], body[2:14], body[14:], pause=0.01))
    (response,) = fetch(server.url(), "GET /a")
    assert response.body == b"0123456789abc"


def test_chunked_body_over_max_body_is_cut_and_connection_dropped(server: RawServer) -> None:
    chunks = b"".join(b"10\r\n" + b"z" * 16 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    server.add(answer(CHUNKED + chunks), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /a", "GET /b", max_body=40)
    assert first.body == b"z" * 40
    assert second.body == b"next"
    assert server.connections == 2


def test_http10_body_without_length_is_read_until_close(server: RawServer) -> None:
    parts = (b"HTTP/1.0 200 OK\r\n\r\n", b"one ", b"two ", b"three")
    server.add(answer(*parts, pause=0.02, close=True), answer(ok(b"next")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert first.body == b"one two three"
    assert second.body == b"next"
    assert server.connections == 2


def test_http10_body_without_length_is_bounded_by_max_body(server: RawServer) -> None:
    parts = (b"HTTP/1.0 200 OK\r\n\r\n", b"a" * 30, b"b" * 30, b"c" * 30)
    server.add(answer(*parts, pause=0.02, close=True))
    (response,) = fetch(server.url(), "GET /a", max_body=45)
    assert response.body == b"a" * 30 + b"b" * 15


@pytest.mark.parametrize(
    "head",
    [
        "HTTP/1.1 200 OK\r\nConnection: close",
        "HTTP/1.1 200 OK\r\nConnection: Close",
        "HTTP/1.0 200 OK",
    ],
)
def test_answer_without_keep_alive_is_not_reused(server: RawServer, head: str) -> None:
    # The server keeps the connection open: only the client's choice makes a second one.
    server.add(answer(f"{head}\r\nContent-Length: 3\r\n\r\nbye".encode()), answer(ok(b"hi")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert (first.body, second.body) == (b"bye", b"hi")
    assert server.connections == 2


def test_http10_keep_alive_answer_is_reused(server: RawServer) -> None:
    head = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n"
    server.add(answer(head + b"one"), answer(ok(b"two")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert (first.body, second.body) == (b"one", b"two")
    assert server.connections == 1


def test_interim_answers_are_skipped(server: RawServer) -> None:
    interim = (b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n")
    server.add(answer(*interim, ok(b"gone", status="404 Not Found"), pause=0.01))
    (response,) = fetch(server.url(), "GET /a")
    assert (response.status, response.body) == (404, b"gone")
    assert "link" not in response.headers


def test_head_answer_has_no_body_and_connection_is_reused(server: RawServer) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    server.add(answer(head), answer(ok(b"body")))
    first, second = fetch(server.url(), "HEAD /a", "GET /a", timeout=0.5)
    assert (first.status, first.body, first.headers["content-length"]) == (200, b"", "1000")
    assert second.body == b"body"
    assert server.connections == 1


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_bodiless_statuses_return_empty_body_and_reuse(server: RawServer, status: str) -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Length: 7\r\n\r\n".encode()
    server.add(answer(head), answer(ok(b"body")))
    first, second = fetch(server.url(), "GET /a", "GET /b", timeout=0.5)
    assert (first.status, first.body) == (int(status[:3]), b"")
    assert second.body == b"body"
    assert server.connections == 1


def test_concurrent_requests_never_share_a_connection(server: RawServer) -> None:
    server.add(*(answer(ok(b"x" * 100), pause=0.05) for _ in range(3)))

    async def main() -> list[Response]:
        pool = ConnectionPool(1.0)
        target = parse_target(server.url("/a"))
        try:
            pair = await asyncio.gather(*(send(pool, "GET", target, {}, 1000) for _ in range(2)))
            return [*pair, await send(pool, "GET", target, {}, 1000)]
        finally:
            pool.close()

    responses = asyncio.run(main())
    assert [r.body for r in responses] == [b"x" * 100] * 3
    assert server.connections == 2


def test_head_answer_with_a_body_does_not_go_back_to_the_pool(server: RawServer) -> None:
    # Bytes no request asked for are already buffered: the connection is not reused.
    server.add(answer(ok(b"stray")), answer(ok(b"body")))
    first, second = fetch(server.url(), "HEAD /a", "GET /a")
    assert (first.body, second.body) == (b"", b"body")
    assert server.connections == 2


def test_head_answer_with_a_late_body_spoils_no_later_request(server: RawServer) -> None:
    # The stray body arrives after the connection went back to the pool: the next answer on
    # it does not parse, so the request goes again on a fresh connection instead of failing
    # its link.
    head_only = ok(b"stray")[: -len(b"stray")]
    server.add(answer(head_only, b"stray", pause=0.05), answer(ok(b"spoilt")), answer(ok(b"body")))
    first, second = fetch(server.url(), "HEAD /a", "GET /a")
    assert (first.body, second.body) == (b"", b"body")
    assert server.connections == 2


# Stale and broken connections


@pytest.mark.parametrize("pause", [0.0, 0.05], ids=["at-once", "after-close-seen"])
def test_keep_alive_closed_by_server_is_replaced(server: RawServer, pause: float) -> None:
    server.add(answer(ok(b"first"), close=True), answer(ok(b"second")))
    first, second = fetch(server.url(), "GET /a", "GET /b", pause=pause)
    assert (first.body, second.body) == (b"first", b"second")
    assert server.connections == 2


def test_keep_alive_dropped_on_next_request_is_resent_once(server: RawServer) -> None:
    server.add(answer(ok(b"first")), DROP, answer(ok(b"second")))
    first, second = fetch(server.url(), "GET /a", "GET /b")
    assert (first.body, second.body) == (b"first", b"second")
    assert server.connections == 2
    assert server.requests == ["GET /a", "GET /b", "GET /b"]


@pytest.mark.parametrize("reply", [DROP, answer(b"HTTP/1.1 200 OK\r\nConte", close=True)])
def test_fresh_connection_closed_before_answer_is_bad_answer(
    server: RawServer, reply: Reply
) -> None:
    server.add(reply, answer(ok(b"never")))
    with pytest.raises(BadAnswer):
        fetch(server.url(), "GET /a")
    assert server.connections == 1


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


def test_refused_connection_raises_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        fetch(f"http://127.0.0.1:{port}", "GET /a")


# Malformed answers


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
        CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n",
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
        "negative-chunk-size",
    ],
)
def test_malformed_answer_is_bad_answer(server: RawServer, reply: bytes) -> None:
    server.add(answer(reply))
    with pytest.raises(BadAnswer):
        fetch(server.url(), "GET /a")


# Headers


def test_last_repeated_header_wins_and_every_cookie_is_kept(server: RawServer) -> None:
    headers = ("Set-Cookie: a=1", "X-Dup: first", "SET-COOKIE: b=2", "x-dup:  second ")
    server.add(answer(ok(b"", *headers, "Content-Type: text/html")))
    (response,) = fetch(server.url(), "GET /a")
    assert response.headers["x-dup"] == "second"
    assert response.set_cookies == ["a=1", "b=2"]
    assert response.headers["content-type"] == "text/html"
    assert all(name == name.lower() for name in response.headers)


def test_request_line_host_and_headers_are_sent(server: RawServer) -> None:
    server.add(answer(b"HTTP/1.1 200 OK\r\n\r\n"))
    fetch(server.url(), "HEAD /path?q", headers={"User-Agent": "dlg-bib-test", "Accept": "*/*"})
    lines = server.heads[0].split(b"\r\n")
    assert lines[0] == b"HEAD /path?q HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"User-Agent: dlg-bib-test" in lines
    assert b"Accept: */*" in lines


# URLs


def test_parse_target_percent_encodes_path_and_query() -> None:
    target = parse_target("http://example.org/a b/ü?q=a b&x=é#frag")
    assert target.path == "/a%20b/%C3%BC?q=a%20b&x=%C3%A9"


def test_parse_target_keeps_encoded_and_reserved_characters() -> None:
    url = "http://example.org/a%20b/c;d=e?x=1&y=/z?w"
    assert parse_target(url).path == "/a%20b/c;d=e?x=1&y=/z?w"


def test_parse_target_encodes_host_with_idna() -> None:
    target = parse_target("https://Bücher.Example/")
    assert (target.host, target.port) == ("xn--bcher-kva.example", 443)


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
    ("target", "host"),
    [
        (Target("http", "example.org", 80, "/"), "example.org"),
        (Target("https", "example.org", 443, "/"), "example.org"),
        (Target("https", "example.org", 80, "/"), "example.org:80"),
        (Target("http", "::1", 8080, "/"), "[::1]:8080"),
    ],
)
def test_host_header_names_port_only_when_not_default(target: Target, host: str) -> None:
    assert target.host_header == host


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
