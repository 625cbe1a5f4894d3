"""The checker against a real threaded HTTP server on 127.0.0.1 (tests/links_server.py)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from dlg_bib.errors import DlgBibError
from dlg_bib.links.check import Checker, CheckOptions, LinkResult, check_urls
from dlg_bib.links.policy import HostRule
from tests.links_server import GarbageServer, LinkServer, closed_port, serving
from tests.proxy_server import ProxyServer
from tests.raw_http_server import RawServer, answer

# Small timeouts and backoffs keep the suite fast; the behaviour is the same as with defaults.
FAST = CheckOptions(timeout=0.3, backoff=0.01, concurrency=8, per_host=4, max_retry_after=5)


@pytest.fixture
def server() -> Iterator[LinkServer]:
    # One server per test: counters and "nth request" behaviours start from zero.
    with serving() as srv:
        yield srv


def check(url: str, options: CheckOptions = FAST) -> LinkResult:
    return check_urls([url], options)[url]


def asked_before(server: LinkServer, options: CheckOptions = FAST) -> Checker:
    """A checker that has already sent the server's host its first request (a GET), so the
    next links there start with HEAD."""
    checker = Checker(options)
    assert checker.check(server.url("/status/200")).verdict == "ok"
    return checker


@pytest.mark.parametrize(
    ("path", "verdict", "status"),
    [
        ("/ok", "ok", 200),
        ("/status/404", "dead", 404),
        ("/status/410", "dead", 410),
        ("/status/401", "blocked", 401),
        ("/status/403", "blocked", 403),
        ("/status/999", "blocked", 999),
        ("/status/451", "blocked", 451),
        ("/status/500", "error", 500),
        ("/status/400", "error", 400),
        ("/perm", "redirected", 200),
        ("/slow?s=1", "timeout", None),
    ],
)
def test_every_verdict_from_status_or_silence(
    server: LinkServer, path: str, verdict: str, status: int | None
) -> None:
    result = check(server.url(path))
    assert (result.verdict, result.status) == (verdict, status)


def test_dead_is_confirmed_with_get_after_head(server: LinkServer) -> None:
    result = asked_before(server).check(server.url("/status/404"))
    assert result.verdict == "dead"
    assert server.counters.methods["/status/404"] == ["HEAD", "GET"]


def test_a_hosts_first_request_is_a_get(server: LinkServer) -> None:
    # One after the other: checked together, either link may be the host's first.
    checker = Checker(FAST)
    first = checker.check(server.url("/status/404"))
    second = checker.check(server.url("/head-refused"))
    assert (first.verdict, first.requests) == ("dead", 1)
    assert (second.verdict, second.requests) == ("ok", 2)
    assert server.counters.methods["/status/404"] == ["GET"]
    assert server.counters.methods["/head-refused"] == ["HEAD", "GET"]


def test_head_refused_endpoint_is_ok_through_get_and_the_host_is_remembered(
    server: LinkServer,
) -> None:
    checker = asked_before(server)
    first = checker.check(server.url("/head-refused"))
    second = checker.check(server.url("/ok"))
    assert first.verdict == "ok" and first.requests == 2
    assert server.counters.methods["/head-refused"] == ["HEAD", "GET"]
    # HEAD proved unreliable on this host: the next link goes straight to GET.
    assert second.verdict == "ok"
    assert server.counters.methods["/ok"] == ["GET"]


def test_cdn_that_answers_head_with_404_is_not_dead(server: LinkServer) -> None:
    assert check(server.url("/head-404")).verdict == "ok"


def test_permanent_redirect_reports_the_new_url(server: LinkServer) -> None:
    result = check(server.url("/perm-chain"))
    assert result.verdict == "redirected"
    assert result.redirect_to == server.url("/ok")
    assert result.final_url == server.url("/ok")
    assert result.requests == 3


def test_new_url_is_where_the_permanent_hops_end(server: LinkServer) -> None:
    # 301 to /temp, which answers 302: the stored link should become /temp, not /ok.
    result = check(server.url("/perm-then-temp"))
    assert result.verdict == "redirected"
    assert result.redirect_to == server.url("/temp")
    assert result.final_url == server.url("/ok")


def test_temporary_redirect_chain_is_ok_and_not_reported_as_moved(server: LinkServer) -> None:
    result = check(server.url("/chain/4"))
    assert result.verdict == "ok"
    assert result.redirect_to is None
    assert result.final_url == server.url("/ok")
    assert server.counters.hits["/chain/0"] == 1


def test_permanent_redirect_to_a_dead_page_is_dead(server: LinkServer) -> None:
    result = check(server.url("/perm-dead"))
    assert result.verdict == "dead"
    assert result.final_url == server.url("/status/404")


def test_folded_location_header_is_followed() -> None:
    with RawServer() as raw:
        moved = f"HTTP/1.1 301 Moved\r\nLocation:\r\n {raw.url('/new')}\r\n"
        raw.add(answer(f"{moved}Content-Length: 0\r\n\r\n".encode()))
        raw.add(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        result = check(raw.url("/old"))
    assert (result.verdict, result.redirect_to) == ("redirected", raw.url("/new"))


def test_redirect_loop_is_detected(server: LinkServer) -> None:
    result = check(server.url("/loop-a"))
    assert result.verdict == "error"
    assert "redirect loop" in result.detail
    assert server.counters.hits["/loop-a"] == 1 and server.counters.hits["/loop-b"] == 1


def test_hop_limit(server: LinkServer) -> None:
    result = check(server.url("/chain/30"), CheckOptions(timeout=0.3, max_hops=5))
    assert result.verdict == "error"
    assert "more than 5 redirects" in result.detail
    assert result.requests == 6


def test_cookie_setting_self_redirect_is_not_a_loop(server: LinkServer) -> None:
    assert check(server.url("/cookie")).verdict == "ok"


def test_429_with_retry_after_waits_then_succeeds(server: LinkServer) -> None:
    result = check(server.url("/rate-retry-after"))
    assert (result.verdict, result.attempts) == ("ok", 2)
    first, second = server.counters.times["/rate-retry-after"]
    assert second - first >= 0.9  # Retry-After: 1 was honoured


def test_429_without_retry_after_backs_off_and_retries(server: LinkServer) -> None:
    result = check(server.url("/rate-no-header"))
    assert (result.verdict, result.attempts) == ("ok", 3)
    assert server.counters.hits["/rate-no-header"] == 3


def test_429_forever_gives_up_after_bounded_attempts(server: LinkServer) -> None:
    result = check(server.url("/rate-forever"))
    assert (result.verdict, result.status, result.attempts) == ("error", 429, 3)
    assert server.counters.hits["/rate-forever"] == 3


def test_retry_after_beyond_the_bound_is_not_waited_for(server: LinkServer) -> None:
    result = check(server.url("/rate-long"))
    assert (result.verdict, result.status) == ("error", 429)
    assert "Retry-After 3600" in result.detail
    assert server.counters.hits["/rate-long"] == 1


def test_503_flapping_then_recovering_is_ok(server: LinkServer) -> None:
    result = check(server.url("/flap"))
    assert (result.verdict, result.attempts) == ("ok", 3)
    assert server.counters.hits["/flap"] == 3


def test_bot_challenge_is_blocked_without_retries(server: LinkServer) -> None:
    result = check(server.url("/challenge"))
    assert (result.verdict, result.status) == ("blocked", 503)
    assert server.counters.hits["/challenge"] == 1  # no retries, no GET fallback


def test_endpoint_that_never_answers_head_is_checked_with_get(server: LinkServer) -> None:
    result = asked_before(server).check(server.url("/head-hang"))
    assert (result.verdict, result.attempts) == ("ok", 2)
    assert server.counters.methods["/head-hang"] == ["HEAD", "GET"]


def test_slow_answer_within_the_timeout_is_ok(server: LinkServer) -> None:
    assert check(server.url("/slow?s=0.05")).verdict == "ok"


def test_hanging_endpoint_costs_a_head_and_a_get_timeout_not_three(server: LinkServer) -> None:
    result = asked_before(server).check(server.url("/hang"))
    assert (result.verdict, result.attempts) == ("timeout", 2)
    assert server.counters.methods["/hang"] == ["HEAD", "GET"]


def test_hanging_first_request_of_a_host_costs_one_get_timeout(server: LinkServer) -> None:
    result = check(server.url("/hang"))
    assert (result.verdict, result.attempts, result.requests) == ("timeout", 1, 1)
    assert server.counters.methods["/hang"] == ["GET"]


def test_after_a_head_timeout_the_host_is_checked_with_get(server: LinkServer) -> None:
    checker = Checker(FAST)
    assert checker.check(server.url("/ok")).verdict == "ok"  # the server itself is alive
    assert checker.check(server.url("/hang")).verdict == "timeout"
    assert checker.check(server.url("/hang?second")).attempts == 1
    assert server.counters.methods["/hang"] == ["HEAD", "GET", "GET"]


def test_a_host_that_accepts_no_connection_costs_one_timeout_for_all_its_links() -> None:
    with unanswered_port() as port:
        urls = [f"http://127.0.0.1:{port}/paper{i}" for i in range(6)]
        options = CheckOptions(timeout=0.5, per_host=2, backoff=0.01)
        start = time.monotonic()
        results = check_urls(urls, options)
        took = time.monotonic() - start
    assert {(r.verdict, r.detail) for r in results.values()} == {
        ("timeout", "timed out connecting")
    }
    assert sum(r.requests for r in results.values()) == 2  # the two first in the host's slots
    assert took < 2.5  # one timeout (0.5 s); it was 3 rounds of 3 tries (4.5 s)


def test_a_host_that_answers_nothing_costs_one_timeout_for_all_its_links(
    server: LinkServer,
) -> None:
    urls = [server.url(f"/hang?{i}") for i in range(6)]
    options = CheckOptions(timeout=0.4, per_host=2, backoff=0.01)
    results = check_urls(urls, options)
    assert {r.verdict for r in results.values()} == {"timeout"}
    # The host's first request (a GET) and a HEAD went out in its two slots; the GET's
    # timeout gave the host up, so neither the HEAD's link (which would try GET next) nor the
    # four queued links sent anything more: one timeout in all. It was a HEAD's and a GET's.
    assert sorted(server.counters.methods["/hang"]) == ["GET", "HEAD"]
    assert sum(r.requests for r in results.values()) == 2
    assert sorted(r.detail for r in results.values()) == [
        "timed out",
        *["timed out: the host answered no request"] * 5,
    ]


def test_a_host_that_answered_before_is_not_given_up_for_one_hanging_page(
    server: LinkServer,
) -> None:
    checker = Checker(CheckOptions(timeout=0.3, per_host=1, backoff=0.01))
    assert checker.check(server.url("/ok")).verdict == "ok"
    assert [checker.check(server.url(f"/hang?{i}")).verdict for i in range(2)] == ["timeout"] * 2
    assert checker.check(server.url("/ok?later")).verdict == "ok"


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose listen queue is full: the kernel drops further SYNs, so a connect hangs
    as it does to a host behind a firewall that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    try:
        for _ in range(8):  # enough to fill the queue whatever the kernel's slack
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            fillers.append(sock)
        time.sleep(0.05)
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def test_per_host_cap_holds_on_the_server_side(server: LinkServer) -> None:
    urls = [
        server.url(f"/delay?s=0.1&i={i}", h) for i in range(10) for h in ("127.0.0.1", "localhost")
    ]
    options = CheckOptions(timeout=2, concurrency=8, per_host=2)
    results = check_urls(urls, options)
    assert {r.verdict for r in results.values()} == {"ok"}
    port = server.server_address[1]
    assert server.counters.peak[f"127.0.0.1:{port}"] == 2
    assert server.counters.peak[f"localhost:{port}"] == 2


def test_host_rule_is_stricter_than_per_host(server: LinkServer) -> None:
    urls = [server.url(f"/delay?s=0.05&i={i}", "localhost") for i in range(6)]
    rules = {"localhost": HostRule(1, 0.0)}
    options = CheckOptions(timeout=2, concurrency=4, per_host=4, host_rules=rules)
    assert {r.verdict for r in check_urls(urls, options).values()} == {"ok"}
    assert server.counters.peak[f"localhost:{server.server_address[1]}"] == 1


def test_overall_limit_caps_requests_across_hosts(server: LinkServer) -> None:
    urls = [
        server.url(f"/delay?s=0.1&i={i}", h) for i in range(6) for h in ("127.0.0.1", "localhost")
    ]
    check_urls(urls, CheckOptions(timeout=2, concurrency=3, per_host=3))
    assert server.counters.peak_total == 3


def test_dns_failure_is_dead_without_retries() -> None:
    result = check("http://no-such-host.invalid/paper.pdf")
    assert (result.verdict, result.attempts) == ("dead", 1)
    assert "DNS" in result.detail


def test_connection_refused_is_dead_after_retries() -> None:
    result = check(f"http://127.0.0.1:{closed_port()}/paper")
    assert (result.verdict, result.attempts) == ("dead", 3)
    assert "refused" in result.detail


def test_tls_failure_is_dead(server: LinkServer) -> None:
    # Speaking TLS to a plain-HTTP server fails the handshake.
    result = check(f"https://127.0.0.1:{server.server_address[1]}/ok")
    assert result.verdict == "dead"
    assert result.detail.startswith("TLS")


def test_garbage_answer_is_an_error() -> None:
    garbage = GarbageServer()
    try:
        result = check(f"http://127.0.0.1:{garbage.port}/x")
    finally:
        garbage.close()
    assert result.verdict == "error"
    assert "bad HTTP answer" in result.detail


def test_unsupported_url_is_an_error_without_a_request() -> None:
    result = check("ftp://files.example.org/paper.ps")
    assert (result.verdict, result.requests) == ("error", 0)


def test_expiring_links_are_flagged_while_alive(server: LinkServer) -> None:
    result = check(server.url("/signed?X-Amz-Expires=3600&X-Amz-Signature=abc"))
    assert result.verdict == "ok"
    assert result.share_link == "signed URL with an expiry time"


def test_large_body_is_not_downloaded(server: LinkServer) -> None:
    checker = Checker(CheckOptions(timeout=1, max_body=1024))
    result = checker.check(server.url("/big"))  # the host's first request: a GET
    assert result.verdict == "ok"
    assert server.counters.methods["/big"] == ["GET"]


def test_each_url_is_checked_once(server: LinkServer) -> None:
    url = server.url("/ok")
    results = check_urls([url, url, url], FAST)
    assert list(results) == [url]
    assert server.counters.hits["/ok"] == 1


def test_overall_limit_never_exceeds_the_open_files_budget(
    server: LinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dlg_bib.links.check.connection_budget", lambda: 3)
    urls = [
        server.url(f"/delay?s=0.1&i={i}", h) for i in range(6) for h in ("127.0.0.1", "localhost")
    ]
    results = check_urls(urls, CheckOptions(timeout=2, concurrency=64, per_host=64))
    assert {r.verdict for r in results.values()} == {"ok"}
    assert server.counters.peak_total == 3


def test_links_queued_for_an_unknown_host_fail_without_waiting_their_turn() -> None:
    # arXiv-like spacing on a host that does not exist: only the first link asks DNS; the
    # others get the same verdict at once instead of 0.5 s apart.
    urls = [f"http://no-such-host.invalid/paper{i}.pdf" for i in range(5)]
    rules = {"no-such-host.invalid": HostRule(1, 0.5)}
    results = check_urls(urls, CheckOptions(timeout=1, host_rules=rules))
    assert {(r.verdict, r.detail) for r in results.values()} == {("dead", "DNS: no such host")}
    assert sum(r.requests for r in results.values()) == 1


def test_temporary_dns_failure_stops_after_one_link_gives_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = socket.getaddrinfo

    def flaky(host: str, *args: object, **kwargs: object) -> object:
        if host == "flaky.example":
            calls.append(host)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", flaky)
    urls = [f"http://flaky.example/{i}" for i in range(4)]
    results = check_urls(urls, CheckOptions(timeout=1, backoff=0.01, per_host=1))
    assert {r.verdict for r in results.values()} == {"error"}
    assert all(r.detail.startswith("DNS") for r in results.values())
    # Without giving up on the host, each of the 4 links would try 3 times.
    assert len(calls) < 12


# What the environment says: proxies, CA bundles; and what goes on the wire: IDNA, cookies.


@pytest.fixture
def proxy() -> Iterator[ProxyServer]:
    with ProxyServer() as srv:
        yield srv


def test_links_go_through_the_proxy_in_http_proxy(
    proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Names that do not resolve: only the proxy can make these links answer.
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    results = check_urls(["http://via-proxy.invalid/ok", "http://via-proxy.invalid/status/404"])
    verdicts = {url: r.verdict for url, r in results.items()}
    assert verdicts == {
        "http://via-proxy.invalid/ok": "ok",
        "http://via-proxy.invalid/status/404": "dead",
    }
    assert sorted(proxy.requests) == [
        "GET http://via-proxy.invalid/ok",  # the host's first request
        "GET http://via-proxy.invalid/status/404",
        "HEAD http://via-proxy.invalid/status/404",
    ]


def test_proxy_credentials_go_in_proxy_authorization(
    proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
    assert check("http://via-proxy.invalid/ok").verdict == "ok"
    assert proxy.headers[0]["proxy-authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_no_proxy_bypasses_the_proxy(proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "localhost,.invalid")
    result = check("http://via-proxy.invalid/ok")
    assert (result.verdict, result.detail) == ("dead", "DNS: no such host")
    assert proxy.requests == []


def test_an_unreachable_proxy_is_an_error_not_a_dead_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    result = check("http://via-proxy.invalid/ok")
    assert result.verdict == "error"
    assert result.detail.startswith("proxy: cannot reach the proxy")


def test_idn_host_goes_out_as_idna2008_punycode(
    proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert check("http://straße.de/ok").verdict == "ok"
    assert proxy.requests == ["GET http://xn--strae-oqa.de/ok"]  # not strasse.de (IDNA2003)
    assert proxy.hosts == ["xn--strae-oqa.de"]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[LinkServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "secure.invalid").configure_cert(context)
    with serving(tls=context) as srv:
        yield srv


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_tls_server_is_trusted_through_the_named_ca_bundle(
    tls_server: LinkServer, ca_file: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, ca_file)
    result = check(tls_server.url("/ok"))
    assert (result.verdict, result.status) == ("ok", 200)


@pytest.fixture
def other_ca_file(tmp_path: Path) -> str:
    """Another CA's bundle: a real file that does not vouch for the test server."""
    path = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_both_named_ca_bundles_are_trusted(
    tls_server: LinkServer, ca_file: str, other_ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A site bundle in one variable must not hide the group's CA named in the other.
    monkeypatch.setenv("SSL_CERT_FILE", other_ca_file)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    assert check(tls_server.url("/ok")).verdict == "ok"


def test_tls_server_of_an_unknown_ca_is_dead(
    tls_server: LinkServer, other_ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", other_ca_file)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    result = check(tls_server.url("/ok"))
    assert (result.verdict, result.detail) == (
        "dead",
        "TLS: unable to get local issuer certificate",
    )


def test_https_goes_through_the_proxy_with_connect(
    tls_server: LinkServer, ca_file: str, proxy: ProxyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
    port = tls_server.server_address[1]
    result = check(f"https://secure.invalid:{port}/ok")
    assert (result.verdict, result.status) == ("ok", 200)
    assert proxy.requests == [f"CONNECT secure.invalid:{port}"]
    assert proxy.headers[0]["proxy-authorization"] == "Basic dXNlcjpwQHNz"


def test_unreadable_ca_bundle_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(DlgBibError, match="cannot use the CA bundle") as raised:
        check("https://example.org/")
    assert raised.value.exit_code == 2


def test_cookies_keep_their_domain_and_path_across_a_redirect_chain(
    server: LinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".test"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    result = check(server.url("/jar/start", "www.cookies.test"))
    assert result.verdict == "ok"
    assert result.final_url == server.url("/jar/public", "login.cookies.test")
    seen = server.counters.cookies
    assert seen["/jar/start"] == [""]
    # Domain=cookies.test reaches the other host; the host-only and the foreign cookie do not.
    assert seen["/jar/login"] == ["site=1"]
    # Path=/jar/private: sent below that path, not elsewhere on the host.
    assert sorted(seen["/jar/private/page"][0].split("; ")) == ["site=1", "token=2"]
    assert seen["/jar/public"] == ["site=1"]


def test_cookies_do_not_leak_from_one_link_to_the_next(server: LinkServer) -> None:
    # /cookie sets visited=1 then accepts it: a second link starts without that cookie.
    checker = Checker(FAST)
    assert checker.check(server.url("/cookie")).requests == 2
    assert checker.check(server.url("/cookie?again")).requests == 2
