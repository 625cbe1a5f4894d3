"""The concurrent link checker: one worker thread per overall slot, per-host slots from the
gate, HEAD then GET, redirects with loop detection, bounded retries, one verdict per URL.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from dlg_bib import __version__
from dlg_bib.links.client import BadURL, ConnectionPool, Response, Target, parse_target, send
from dlg_bib.links.client import is_dns_failure as _is_dns_failure
from dlg_bib.links.gate import HostGate
from dlg_bib.links.policy import (
    DEFAULT_HOST_RULES,
    HEAD_UNRELIABLE,
    PERMANENT_REDIRECTS,
    REDIRECT_STATUSES,
    RETRY_STATUSES,
    HostRule,
    Verdict,
    host_rule,
    is_bot_challenge,
    parse_retry_after,
    share_link_reason,
    verdict_for_status,
)

USER_AGENT = (
    f"dlg-bib/{__version__} (link check; +https://github.com/dr-aheydari/DeepLearningGroup)"
)
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class CheckOptions:
    timeout: float = 10.0  # seconds per connect and per read
    concurrency: int = 8  # requests in flight overall
    per_host: int = 2  # requests in flight per host, unless the host's own rule is stricter
    max_hops: int = 10
    max_attempts: int = 3  # tries per request on timeouts, connection errors, 429 and 503
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for
    backoff: float = 0.5  # first wait before a retry without Retry-After; doubles
    max_body: int = 4096
    user_agent: str = USER_AGENT
    host_rules: Mapping[str, HostRule] = field(default_factory=lambda: dict(DEFAULT_HOST_RULES))

    def rule_for(self, host: str) -> HostRule:
        rule = host_rule(host, dict(self.host_rules))
        if rule is None:
            return HostRule(self.per_host)
        return HostRule(min(self.per_host, rule.max_connections), rule.min_interval)


@dataclass
class LinkResult:
    """What one URL did. `redirect_to` is the new URL after permanent redirects."""

    url: str
    verdict: Verdict
    status: int | None
    final_url: str
    detail: str = ""
    redirect_to: str | None = None
    share_link: str | None = None  # why the link is known to expire
    elapsed_ms: int = 0
    attempts: int = 1
    requests: int = 0
    checked_at: float = 0.0  # Unix time
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkResult:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


class _Failure(Exception):
    """A request that got no answer: the verdict it implies and whether to try again."""

    def __init__(self, verdict: Verdict, detail: str, retry: bool):
        super().__init__(detail)
        self.verdict: Verdict = verdict
        self.detail = detail
        self.retry = retry


def _failure_of(exc: BaseException) -> _Failure:
    if isinstance(exc, socket.gaierror):
        if _is_dns_failure(exc):
            return _Failure("dead", "DNS: no such host", retry=False)
        return _Failure("error", f"DNS: {exc.strerror or exc}", retry=True)
    if isinstance(exc, TimeoutError):
        return _Failure("timeout", "timed out", retry=True)
    if isinstance(exc, ConnectionRefusedError):
        return _Failure("dead", "connection refused", retry=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure("dead", f"TLS: {exc.verify_message or exc}", retry=False)
    if isinstance(exc, ssl.SSLError):
        return _Failure("dead", f"TLS: {exc.reason or exc}", retry=True)
    if isinstance(exc, http.client.HTTPException):
        return _Failure("error", f"bad HTTP answer: {type(exc).__name__}", retry=True)
    return _Failure("error", f"{type(exc).__name__}: {exc}", retry=True)


@dataclass
class _Chain:
    """Book-keeping of one URL's requests."""

    attempts: int = 1
    requests: int = 0
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)

    def remember_cookies(self, host: str, set_cookies: list[str]) -> None:
        # Some publishers answer bots with a cookie-setting redirect to the same page; sending
        # the cookie back avoids a false redirect loop.
        jar = self.cookies.setdefault(host, {})
        for line in set_cookies:
            name, sep, value = line.split(";", 1)[0].partition("=")
            if sep and name.strip():
                jar[name.strip()] = value.strip()

    def cookie_header(self, host: str) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.get(host, {}).items())


class Checker:
    """Checks many URLs with shared connections, host slots and knowledge about hosts."""

    def __init__(self, options: CheckOptions, sleep: Callable[[float], None] = time.sleep):
        self.options = options
        self._sleep = sleep
        self._rules: dict[str, HostRule] = {}
        self.gate: HostGate[str] = HostGate(self._rule)
        self.pool = ConnectionPool(options.timeout)
        self._lock = threading.Lock()
        self._head_refused: set[str] = set()  # hosts where HEAD proved unreliable
        self._no_such_host: set[str] = set()

    def _rule(self, host: str) -> HostRule:
        rule = self._rules.get(host)
        if rule is None:
            rule = self._rules[host] = self.options.rule_for(host)
        return rule

    # ---- many URLs -------------------------------------------------------------------

    def check_all(
        self, urls: Iterable[str], on_result: Callable[[LinkResult], None] | None = None
    ) -> dict[str, LinkResult]:
        results: dict[str, LinkResult] = {}
        work: list[tuple[str, str]] = []
        for url in dict.fromkeys(urls):
            try:
                work.append((parse_target(url).host, url))
            except BadURL as exc:
                results[url] = _finish(url, "error", None, url, str(exc), _Chain(), 0.0)
        if on_result:
            for result in results.values():
                on_result(result)
        self.gate.add_work(work)
        done = threading.Lock()

        def worker() -> None:
            while (url := self.gate.next_work()) is not None:
                result = self._check_claimed(url)
                with done:
                    results[url] = result
                    if on_result:
                        on_result(result)

        threads = [
            threading.Thread(target=worker, name=f"links-{i}", daemon=True)
            for i in range(max(1, min(self.options.concurrency, len(work))))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.pool.close()
        return results

    def _check_claimed(self, url: str) -> LinkResult:
        """Check a URL whose first host slot next_work() already took for this thread."""
        try:
            return self.check(url, slot_held=True)
        except Exception as exc:  # a bug must cost one link, not the run
            return _finish(url, "error", None, url, f"internal error: {exc!r}", _Chain(), 0.0)

    # ---- one URL ---------------------------------------------------------------------

    def check(self, url: str, slot_held: bool = False) -> LinkResult:
        start = time.monotonic()
        chain = _Chain()
        current = urldefrag(url.strip())[0]
        target = parse_target(current)
        seen = {(current, "")}
        redirect_to: str | None = None
        permanent_so_far = True
        for _hop in range(self.options.max_hops + 1):
            try:
                resp = self._fetch(target, chain, slot_held)
            except _Failure as failure:
                return _finish(url, failure.verdict, None, current, failure.detail, chain, start)
            finally:
                slot_held = False
            location = resp.headers.get("location")
            if resp.status not in REDIRECT_STATUSES or not location:
                return self._final(url, resp, current, redirect_to, chain, start)
            permanent_so_far = permanent_so_far and resp.status in PERMANENT_REDIRECTS
            following = urldefrag(urljoin(current, location.strip()))[0]
            if permanent_so_far:
                redirect_to = following
            try:
                target = parse_target(following)
            except BadURL as exc:
                detail = f"redirect to an unusable URL: {exc}"
                return _finish(url, "error", resp.status, following, detail, chain, start)
            # The same URL with new cookies is a login dance, not a loop.
            state = (following, chain.cookie_header(target.host))
            if state in seen:
                detail = f"redirect loop at {following}"
                return _finish(url, "error", resp.status, current, detail, chain, start)
            seen.add(state)
            current = following
        detail = f"more than {self.options.max_hops} redirects"
        return _finish(url, "error", None, current, detail, chain, start)

    def _final(
        self,
        url: str,
        resp: Response,
        current: str,
        redirect_to: str | None,
        chain: _Chain,
        start: float,
    ) -> LinkResult:
        verdict = verdict_for_status(resp.status)
        detail = ""
        if is_bot_challenge(resp.headers):
            verdict, detail = "blocked", "bot challenge (Cloudflare)"
        elif verdict == "ok" and redirect_to:
            verdict = "redirected"
            detail = "permanent redirect: update the stored link"
        elif resp.status in RETRY_STATUSES:
            detail = f"still {resp.status} after {chain.attempts} attempts"
            wait = parse_retry_after(resp.headers.get("retry-after"))
            if wait is not None and wait > self.options.max_retry_after:
                detail = f"{resp.status} with Retry-After {wait:.0f} s: try again later"
        result = _finish(url, verdict, resp.status, current, detail, chain, start)
        result.redirect_to = redirect_to
        return result

    def _fetch(self, target: Target, chain: _Chain, slot_held: bool) -> Response:
        """One hop: HEAD (or GET where HEAD proved unreliable), GET fallback, retries."""
        host = target.host
        if host in self._no_such_host:
            if slot_held:
                self.gate.release(host)
            raise _Failure("dead", "DNS: no such host", retry=False)
        with self._lock:
            method = "GET" if host in self._head_refused else "HEAD"
        head_status: int | None = None
        tries = 0
        while True:
            tries += 1
            try:
                resp = self._send(method, target, chain, slot_held)
            except _Failure as failure:
                if not failure.retry or tries >= self.options.max_attempts:
                    raise
                chain.attempts += 1
                if method == "HEAD" and failure.verdict in ("timeout", "error"):
                    method = "GET"  # some servers and CDNs hang up on or ignore HEAD
                self._sleep(self.options.backoff * 2 ** (tries - 1))
                continue
            finally:
                slot_held = False
            if is_bot_challenge(resp.headers):
                return resp  # retrying a bot challenge only annoys the site
            if resp.status in RETRY_STATUSES and tries < self.options.max_attempts:
                wait = parse_retry_after(resp.headers.get("retry-after"))
                if wait is not None and wait > self.options.max_retry_after:
                    return resp  # not worth waiting for within one run
                if wait is None:
                    wait = self.options.backoff * 2 ** (tries - 1)
                self.gate.pause(host, wait)
                chain.attempts += 1
                continue
            if method == "HEAD" and resp.status in HEAD_UNRELIABLE:
                head_status = resp.status
                method = "GET"
                tries -= 1  # the fallback is not a retry
                continue
            if head_status is not None and (head_status in (405, 501) or resp.status < 400):
                with self._lock:
                    self._head_refused.add(host)
            return resp

    def _send(self, method: str, target: Target, chain: _Chain, slot_held: bool) -> Response:
        headers = {
            "User-Agent": self.options.user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": "identity",
        }
        if cookie := chain.cookie_header(target.host):
            headers["Cookie"] = cookie
        if not slot_held:
            self.gate.acquire(target.host)
        chain.requests += 1
        try:
            resp = send(self.pool, method, target, headers, self.options.max_body)
        except (OSError, http.client.HTTPException) as exc:
            failure = _failure_of(exc)
            if failure.detail == "DNS: no such host":
                with self._lock:
                    self._no_such_host.add(target.host)
            raise failure from exc
        finally:
            self.gate.release(target.host)
        chain.remember_cookies(target.host, resp.set_cookies)
        return resp


def _finish(
    url: str,
    verdict: Verdict,
    status: int | None,
    final_url: str,
    detail: str,
    chain: _Chain,
    start: float,
) -> LinkResult:
    share = share_link_reason(url) or share_link_reason(final_url)
    elapsed = int((time.monotonic() - start) * 1000) if start else 0
    return LinkResult(
        url=url,
        verdict=verdict,
        status=status,
        final_url=final_url,
        detail=detail,
        share_link=share,
        elapsed_ms=elapsed,
        attempts=chain.attempts,
        requests=chain.requests,
        checked_at=time.time(),
    )


def check_urls(
    urls: Iterable[str],
    options: CheckOptions | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
) -> dict[str, LinkResult]:
    """Check every URL once; results by URL."""
    return Checker(options or CheckOptions()).check_all(urls, on_result)
