"""The shared HTTP layer: identification, retries and back-off, pacing, the disk cache."""

from __future__ import annotations

import email.utils
import errno
import re
import socket
import time
from pathlib import Path

import pytest
import requests
import responses

from dlg_bib.errors import SourceError
from dlg_bib.sources.http import (
    DEFAULT_RETRIES,
    DiskCache,
    Mode,
    Pacer,
    Response,
    SourcePolicy,
    SourceUnavailable,
    request_key,
    scrub_text,
    scrub_url,
    unreachable_cause,
    user_agent,
)
from dlg_bib.transport import PROJECT_URL
from tests.sources_support import FakeClock, make_client

URL = "https://api.example.org/thing"


def policy(clock: FakeClock, interval: float = 0.0, min_backoff: float = 1.0) -> SourcePolicy:
    return SourcePolicy("test", Pacer(interval, clock=clock), min_backoff=min_backoff)


def test_user_agent_names_the_project_and_the_contact() -> None:
    agent = user_agent("dlg@example.org")
    assert PROJECT_URL in agent
    assert "mailto:dlg@example.org" in agent
    assert agent.startswith("dlg-bib/")
    assert "mailto" not in user_agent(None)


@responses.activate
def test_requests_carry_the_user_agent() -> None:
    responses.get(URL, body="ok")
    clock = FakeClock()
    make_client(clock=clock, contact="dlg@example.org").get(policy(clock), URL)
    assert "mailto:dlg@example.org" in responses.calls[0].request.headers["User-Agent"]


@responses.activate
def test_server_error_then_success_is_retried_with_backoff() -> None:
    responses.get(URL, status=500, body="oops")
    responses.get(URL, status=200, body="fine")
    clock = FakeClock()
    client = make_client(clock=clock)
    response = client.get(policy(clock, min_backoff=2.0), URL)
    assert response.status == 200 and response.body == b"fine"
    assert len(responses.calls) == 2
    assert client.requests["test"] == 2
    assert clock.now >= 2.0  # waited at least the minimum back-off before retrying


@responses.activate
def test_429_plain_text_is_retried_and_retry_after_is_honoured() -> None:
    responses.get(URL, status=429, body="Rate exceeded.", headers={"Retry-After": "30"})
    responses.get(URL, status=200, body="fine")
    clock = FakeClock()
    response = make_client(clock=clock).get(policy(clock), URL)
    assert response.status == 200
    assert clock.now >= 30.0


@responses.activate
def test_retries_give_up_with_a_source_error() -> None:
    for _ in range(3):
        responses.get(URL, status=503, body="busy")
    clock = FakeClock()
    with pytest.raises(SourceError, match=r"HTTP 503.*3 attempts"):
        make_client(clock=clock, retries=2).get(policy(clock), URL)
    assert len(responses.calls) == 3


@responses.activate
def test_timeouts_are_retried_then_reported() -> None:
    responses.get(URL, body=requests.exceptions.ReadTimeout("slow"))
    responses.get(URL, body=requests.exceptions.ReadTimeout("slow"))
    clock = FakeClock()
    with pytest.raises(SourceError, match="timed out"):
        make_client(clock=clock, retries=1).get(policy(clock), URL)
    assert len(responses.calls) == 2


def closed_port() -> int:
    with socket.socket() as sock:  # a port on 127.0.0.1 that nobody listens on
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_gives_the_endpoint_up_after_one_request() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api"
    clock = FakeClock()
    client = make_client(clock=clock, retries=2)
    with pytest.raises(SourceUnavailable, match=r"test unreachable: connection refused"):
        client.get(policy(clock), url)
    with pytest.raises(SourceUnavailable, match=r"connection refused"):
        client.get(policy(clock), url + "/other", {"q": "x"})
    assert client.requests["test"] == 1  # the second request was refused without sending
    assert clock.now == 0.0  # no back-off for an error that retrying cannot cure
    assert [o.message for o in client.outages] == [
        f"test unreachable: connection refused (127.0.0.1:{url.split(':')[2].split('/')[0]})"
    ]


def test_an_unresolvable_name_gives_the_endpoint_up_after_one_request() -> None:
    clock = FakeClock()
    client = make_client(clock=clock)
    url = "http://dlg-bib-test.invalid/api"
    for _ in range(3):
        with pytest.raises(SourceUnavailable, match=r"name not resolved \(dlg-bib-test\.invalid\)"):
            client.get(policy(clock), url)
    assert client.requests["test"] == 1


@responses.activate
def test_another_endpoint_of_the_same_source_is_still_asked() -> None:
    dns_failure = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    responses.get("http://dlg-bib-test.invalid/api", body=requests.ConnectionError(dns_failure))
    responses.get(URL, body="fine")
    clock = FakeClock()
    client = make_client(clock=clock)
    with pytest.raises(SourceUnavailable):
        client.get(policy(clock), "http://dlg-bib-test.invalid/api")
    assert client.get(policy(clock), URL).body == b"fine"


@responses.activate
def test_server_errors_across_requests_give_the_endpoint_up() -> None:
    responses.get(re.compile(re.escape(URL) + ".*"), status=500, body="down")
    clock = FakeClock()
    client = make_client(clock=clock)
    with pytest.raises(SourceError, match=r"HTTP 500.*gave up after 3 attempts"):
        client.get(policy(clock), URL)  # one record may always fail: only itself
    with pytest.raises(SourceUnavailable, match=r"test unavailable: server error \(HTTP 500\)"):
        client.get(policy(clock), URL + "/b")  # a second request fails too: the source is down
    with pytest.raises(SourceUnavailable):
        client.get(policy(clock), URL + "/c")
    assert len(responses.calls) == 4
    assert clock.now < 10.0


@responses.activate
def test_one_record_that_always_fails_stops_only_itself() -> None:
    responses.get(URL, status=500, body="this DOI breaks the server")
    responses.get(URL + "/b", body="fine")
    clock = FakeClock()
    client = make_client(clock=clock)
    with pytest.raises(SourceError) as failed:
        client.get(policy(clock), URL)
    assert not isinstance(failed.value, SourceUnavailable)
    assert client.get(policy(clock), URL + "/b").body == b"fine"
    assert client.outages == []


@responses.activate
def test_two_throttles_and_two_server_errors_are_survived() -> None:
    for _ in range(2):
        responses.get(URL, status=429, body="slow down", headers={"Retry-After": "1"})
    for _ in range(2):
        responses.get(URL, status=500, body="oops")
    responses.get(URL, body="fine")
    clock = FakeClock()
    client = make_client(clock=clock, retries=DEFAULT_RETRIES)
    assert client.get(policy(clock), URL).body == b"fine"
    assert len(responses.calls) == 5 and client.outages == []
    assert clock.now >= 2.0  # both Retry-After waits were kept


@responses.activate
def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    responses.get(URL, status=429, body="", headers={"Retry-After": when})
    responses.get(URL, body="fine")
    clock = FakeClock()
    assert make_client(clock=clock).get(policy(clock), URL).body == b"fine"
    assert 25.0 <= clock.now <= 35.0


@responses.activate
def test_client_errors_are_returned_not_retried() -> None:
    responses.get(URL, status=404, body="Resource not found.")
    clock = FakeClock()
    response = make_client(clock=clock).get(policy(clock), URL)
    assert response.status == 404
    assert len(responses.calls) == 1


def test_pacer_spaces_request_starts() -> None:
    clock = FakeClock()
    pacer = Pacer(3.0, clock=clock)
    starts = []
    for _ in range(3):
        pacer.acquire()
        starts.append(clock.monotonic())
        pacer.release()
    assert starts == [0.0, 3.0, 6.0]
    pacer.hold_off(10.0)
    pacer.acquire()
    assert clock.monotonic() >= 16.0
    pacer.release()


def test_cache_round_trip_and_modes(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    key = request_key("test", URL, {"q": "x"})
    assert client.cached(key) is None
    client.remember(key, Response(200, b"body", {"content-type": "text/plain"}, URL))
    cached = client.cached(key)
    assert cached is not None and cached.from_cache
    assert cached.body == b"body" and cached.content_type == "text/plain"
    client.mode = Mode.REFRESH
    assert client.cached(key) is None
    client.mode = Mode.OFFLINE
    clock = FakeClock()
    with pytest.raises(SourceError, match="--offline"):
        client.get(policy(clock), "https://api.example.org/other")


def test_damaged_or_stale_cache_files_are_misses(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.store("test:a", Response(200, b"x"))
    path = next(tmp_path.rglob("*.json"))
    path.write_text("{not json", "utf-8")
    assert cache.load("test:a") is None
    cache.store("test:b", Response(200, b"y"))
    assert DiskCache(tmp_path, max_age=-1).load("test:b") is None


@responses.activate
def test_broken_transfers_are_retried_and_bad_endpoints_are_not() -> None:
    responses.get(URL, body=requests.exceptions.ChunkedEncodingError("cut"))
    responses.get(URL, body="whole")
    clock = FakeClock()
    assert make_client(clock=clock).get(policy(clock), URL).body == b"whole"
    with pytest.raises(SourceError, match="cannot send the request"):
        make_client(clock=clock).get(policy(clock), "not-a-url")


# ---- per-source retries, the Retry-After cap, credentials ---------------------------------


@responses.activate
def test_a_source_may_forbid_retries() -> None:
    responses.get(URL, status=429, body="")
    responses.get(URL, status=200, body="fine")
    clock = FakeClock()
    strict = SourcePolicy("test", Pacer(0.0, clock=clock), retries=0)
    with pytest.raises(SourceError, match=r"HTTP 429.*1 attempts"):
        make_client(clock=clock, retries=3).get(strict, URL)
    assert len(responses.calls) == 1 and clock.now == 0.0


@responses.activate
def test_a_retry_after_beyond_the_cap_gives_up_instead_of_sleeping() -> None:
    responses.get(URL, status=429, body="", headers={"Retry-After": "3600"})
    responses.get(URL, status=200, body="fine")
    clock = FakeClock()
    capped = SourcePolicy("test", Pacer(0.0, clock=clock), max_wait=60.0)
    with pytest.raises(SourceError, match=r"asked to wait 3600 s \(more than 60 s\)"):
        make_client(clock=clock).get(capped, URL)
    assert len(responses.calls) == 1 and clock.now < 60.0


def test_credentials_are_scrubbed_from_urls_keys_and_messages() -> None:
    url = "https://api.openalex.org/works/doi:10.1/x?api_key=SECRET&mailto=a%40b.org"
    assert scrub_url(url) == "https://api.openalex.org/works/doi:10.1/x?mailto=a%40b.org"
    assert "SECRET" not in request_key("openalex", URL, {"api_key": "SECRET", "q": "x"})
    assert request_key("openalex", URL, {"api_key": "SECRET"}) == request_key("openalex", URL)
    message = "HTTPSConnectionPool: Max retries exceeded with url: /w?api_key=SECRET (Caused…"
    assert "SECRET" not in scrub_text(message) and "api_key=***" in scrub_text(message)


@responses.activate
def test_the_disk_cache_never_stores_a_credential(tmp_path: Path) -> None:
    responses.get(URL, body="{}", content_type="application/json")
    clock = FakeClock()
    client = make_client(tmp_path, clock=clock)
    response = client.get(policy(clock), URL, {"api_key": "SECRET"})
    assert "SECRET" in (responses.calls[0].request.url or "")  # sent, as it must be
    assert "SECRET" not in response.url
    client.remember(request_key("test", URL, {"api_key": "SECRET"}), response)
    stored = [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    assert stored and not any("SECRET" in text for text in stored)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "name not resolved"),
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure"), "name not resolved"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connection refused"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), None),  # transient: retried
        (TimeoutError("timed out"), None),
    ],
)
def test_what_counts_as_unreachable(error: OSError, cause: str | None) -> None:
    # As requests raises them: the socket error two wrappers down.
    try:
        try:
            raise error
        except OSError as inner:
            raise ValueError("urllib3 wrapper") from inner
    except ValueError as wrapped:
        assert unreachable_cause(requests.ConnectionError(wrapped)) == cause
