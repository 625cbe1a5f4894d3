"""The concurrent link checker: one task per URL on one event loop, per-host and overall
slots from the gate, HEAD then GET (a host's first request: GET), redirects with loop
detection, bounded retries, one verdict per URL.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urldefrag, urljoin

from dlg_bib import transport
from dlg_bib.links.client import (
    BadAnswer,
    BadURL,
    ConnectTimeout,
    Cookies,
    ProxyFailure,
    Response,
    Target,
    Transport,
    connection_budget,
    parse_target,
)
from dlg_bib.links.client import is_dns_failure as _is_dns_failure
from dlg_bib.links.gate import HostClosed, HostGate
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
    share_link_reason,
    verdict_for_status,
)
from dlg_bib.retry_after import parse_retry_after

USER_AGENT = transport.user_agent("link check")
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8"


# Requests wait on one event loop, so a thousand in flight cost little; the bound is the
# open-files limit, which `Checker.connected` respects too.
MAX_CONCURRENCY: Final = 1024


@dataclass(frozen=True)
class CheckOptions:
    timeout: float = 10.0  # seconds per connect and per read
    # Overall: our own resources (sockets, open files), no single server's load; linkinator
    # also defaults to 100. Per host: what browsers open to one server (6), so a site sees
    # no more of us than of one visitor; strict hosts (arXiv, Crossref, doi.org, the Wayback
    # Machine) keep their own lower rules.
    concurrency: int = 100  # requests in flight overall
    per_host: int = 6  # requests in flight per host, unless the host's own rule is stricter
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
    unreached: bool = False  # no host answered: name not resolved, refused, unreachable

    def to_dict(self) -> dict[str, Any]:
        # Every field is a plain value: no need for asdict's deep copy.
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkResult:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


class _Failure(Exception):
    """A request that got no answer: the verdict it implies, whether to try again, and
    whether the host was never reached (name not resolved, connection refused, network
    unreachable): when that is true of every host, the machine is offline."""

    def __init__(self, verdict: Verdict, detail: str, retry: bool, unreached: bool = False):
        super().__init__(detail)
        self.verdict: Verdict = verdict
        self.detail = detail
        self.retry = retry
        self.unreached = unreached
        self.method = ""  # of the request that failed, once sent

    def again(self) -> _Failure:
        """The same failure for another link, not to be retried."""
        return _Failure(self.verdict, self.detail, retry=False, unreached=self.unreached)


_UNREACHABLE_ERRNOS: Final = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETDOWN: "network down",
}


_NO_CONNECTION = "timed out connecting"
_NO_ANSWER = "timed out: the host answered no request"


def _failure_of(exc: BaseException) -> _Failure:
    if isinstance(exc, socket.gaierror):
        if _is_dns_failure(exc):
            return _Failure("dead", "DNS: no such host", retry=False, unreached=True)
        return _Failure("error", f"DNS: {exc.strerror or exc}", retry=True, unreached=True)
    if isinstance(exc, ProxyFailure):
        return _Failure("error", f"proxy: {exc}", retry=True)  # says nothing about the link
    if isinstance(exc, ConnectTimeout):
        # Nothing answers at that address: no link of the host will fare better (see _fetch).
        return _Failure("timeout", _NO_CONNECTION, retry=False)
    if isinstance(exc, TimeoutError):
        return _Failure("timeout", "timed out", retry=True)
    if isinstance(exc, ConnectionRefusedError):
        return _Failure("dead", "connection refused", retry=True, unreached=True)
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return _Failure("error", _UNREACHABLE_ERRNOS[exc.errno], retry=True, unreached=True)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Failure("dead", f"TLS: {exc.verify_message or exc}", retry=False)
    if isinstance(exc, ssl.SSLError):
        return _Failure("dead", f"TLS: {exc.reason or exc}", retry=True)
    if isinstance(exc, BadAnswer):
        return _Failure("error", f"bad HTTP answer: {exc}", retry=True)
    return _Failure("error", f"{type(exc).__name__}: {exc}", retry=True)


@dataclass
class _Chain:
    """Book-keeping of one URL's requests."""

    attempts: int = 1
    requests: int = 0
    # Some publishers answer bots with a cookie-setting redirect to the same page; sending
    # the cookie back avoids a false redirect loop. One jar per link, not per run: a link's
    # verdict must not depend on which other links were checked before it.
    cookies: Cookies = field(default_factory=Cookies)


@dataclass
class _Session:
    """What belongs to one event loop: the HTTP session and host slots."""

    transport: Transport
    gate: HostGate


class Checker:
    """Checks many URLs with shared connections, host slots and knowledge about hosts.

    The work runs on one asyncio event loop: `check_all` and `check` start one; code that
    already runs in a loop uses `async with checker.connected():` and the async methods."""

    def __init__(
        self,
        options: CheckOptions,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.options = options
        self._sleep = sleep
        self._rules: dict[str, HostRule] = {}
        self._session: _Session | None = None
        self._head_refused: set[str] = set()  # hosts where HEAD proved unreliable
        # Hosts given up for this run (the name does not resolve, nothing accepts a connection
        # or nothing answers), with the failure every link to them gets.
        self._unresolved: dict[str, _Failure] = {}
        self._answered: set[str] = set()  # hosts that answered at least one request
        self._asked: set[str] = set()  # hosts a link's first request went to

    def _rule(self, host: str) -> HostRule:
        rule = self._rules.get(host)
        if rule is None:
            rule = self._rules[host] = self.options.rule_for(host)
        return rule

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[Checker]:
        """Open connection pool and host slots for the running event loop."""
        # Never more connections than open files allowed: running out would fail links.
        budget = connection_budget()
        overall = min(self.options.concurrency, budget or self.options.concurrency)
        gate = HostGate(self._rule, overall, sleep=self._sleep)
        client = Transport(self.options.timeout, overall, self.options.per_host)
        self._session = _Session(await client.open(), gate)
        try:
            yield self
        finally:
            self._session = None
            await client.close()

    @property
    def gate(self) -> HostGate:
        return self._live().gate

    def _live(self) -> _Session:
        if self._session is None:
            raise RuntimeError("use the checker inside `async with checker.connected()`")
        return self._session

    # ---- many URLs -------------------------------------------------------------------

    def check_all(
        self, urls: Iterable[str], on_result: Callable[[LinkResult], None] | None = None
    ) -> dict[str, LinkResult]:
        async def run() -> dict[str, LinkResult]:
            async with self.connected():
                return await self.check_many(urls, on_result)

        return asyncio.run(run())

    async def check_many(
        self, urls: Iterable[str], on_result: Callable[[LinkResult], None] | None = None
    ) -> dict[str, LinkResult]:
        results: dict[str, LinkResult] = {}

        async def one(url: str) -> None:
            result = results[url] = await self._check_guarded(url)
            if on_result:
                on_result(result)

        # One task per URL: a task waits for its host's slot without holding anything, so
        # the per-host and overall limits alone decide what runs.
        await asyncio.gather(*(one(url) for url in dict.fromkeys(urls)))
        return results

    async def _check_guarded(self, url: str) -> LinkResult:
        try:
            return await self.check_one(url)
        except BadURL as exc:
            return _finish(url, "error", None, url, str(exc), _Chain(), 0.0)
        except Exception as exc:  # a bug must cost one link, not the run
            return _finish(url, "error", None, url, f"internal error: {exc!r}", _Chain(), 0.0)

    # ---- one URL ---------------------------------------------------------------------

    def check(self, url: str) -> LinkResult:
        async def run() -> LinkResult:
            async with self.connected():
                return await self.check_one(url)

        return asyncio.run(run())

    async def check_one(self, url: str) -> LinkResult:
        start = time.monotonic()
        chain = _Chain()
        current = urldefrag(url.strip())[0]
        target = parse_target(current)
        seen = {(current, "")}
        redirect_to: str | None = None
        permanent_so_far = True
        for hop in range(self.options.max_hops + 1):
            try:
                resp = await self._fetch(target, chain)
            except _Failure as failure:
                result = _finish(url, failure.verdict, None, current, failure.detail, chain, start)
                # A redirect answered first: some host was reached.
                result.unreached = failure.unreached and hop == 0
                return result
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
            state = (following, chain.cookies.header(target.url))
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

    async def _fetch(self, target: Target, chain: _Chain) -> Response:
        """One hop: HEAD (or GET where HEAD proved unreliable, and for the host's first
        request), GET fallback, retries."""
        host = target.host
        if host in self._unresolved:
            raise self._unresolved[host].again()
        # A host's first request is a GET. A HEAD that hangs is tried again as GET (some
        # servers ignore HEAD), a GET that hangs is not: a host that accepts connections and
        # answers nothing is given up after one timeout, not a HEAD's and then a GET's. And a
        # host with one link, as most are, needs one request whatever it does with HEAD.
        first = host not in self._asked
        self._asked.add(host)
        method = "GET" if first or host in self._head_refused else "HEAD"
        head_status: int | None = None
        tries = 0
        while True:
            tries += 1
            try:
                method, resp = await self._send(method, target, chain)
            except _Failure as failure:
                method = failure.method or method
                hung = failure.verdict == "timeout"
                if hung and method == "HEAD":
                    self._head_refused.add(host)  # else every link of the host waits it out
                # A timeout is tried again only as GET after a HEAD: a server that let a GET
                # wait the whole timeout rarely answers the next one, and each try costs the
                # full timeout (a hanging host would cost three per link).
                if (
                    not failure.retry
                    or tries >= self.options.max_attempts
                    or (hung and method == "GET")
                ):
                    if failure.detail.startswith("DNS:") or failure.detail == _NO_CONNECTION:
                        self._give_up_on(host, failure)
                    elif hung and host not in self._answered:
                        # The whole server hangs, not one slow page: nothing of it answered.
                        self._give_up_on(host, _Failure("timeout", _NO_ANSWER, retry=False))
                    raise
                if host in self._unresolved:
                    # Given up meanwhile (another link's GET hung): no retry, no backoff.
                    raise self._unresolved[host].again() from failure
                chain.attempts += 1
                if method == "HEAD" and failure.verdict in ("timeout", "error"):
                    method = "GET"  # some servers and CDNs hang up on or ignore HEAD
                await self._sleep(self.options.backoff * 2 ** (tries - 1))
                continue
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
                self._head_refused.add(host)
            return resp

    async def _send(self, method: str, target: Target, chain: _Chain) -> tuple[str, Response]:
        """One request of a link's chain; the method it went with, and the answer."""
        headers = {
            "User-Agent": self.options.user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": "identity",
        }
        if cookie := chain.cookies.header(target.url):
            headers["Cookie"] = cookie
        try:
            async with self.gate.slot(target.host, urgent=chain.requests > 0):
                if method == "HEAD" and target.host in self._head_refused:
                    method = "GET"  # HEAD proved unreliable while this request waited its turn
                resp = await self._request(method, target, headers, self.options.max_body)
        except HostClosed:
            raise self._unresolved[target.host].again() from None  # nothing was sent
        except (OSError, BadAnswer, EOFError) as exc:
            chain.requests += 1
            failure = _failure_of(exc)
            failure.method = method
            raise failure from exc
        chain.requests += 1
        self._answered.add(target.host)
        chain.cookies.remember(target.url, resp.cookies)
        return method, resp

    def _give_up_on(self, host: str, failure: _Failure) -> None:
        # Every link to a host whose name does not resolve, or where nothing accepts a
        # connection, fails the same way: the links still queued for it get this verdict at
        # once (a hanging host costs one timeout, not one per link).
        self._unresolved[host] = failure
        self.gate.close(host)

    async def send(
        self,
        method: str,
        target: Target,
        headers: Mapping[str, str],
        max_body: int,
        urgent: bool = False,
    ) -> Response:
        """One request within the host's and the overall limits (no retries, no redirects);
        `urgent` ones go before links' first requests (see gate.py). Raises HostClosed once
        the host's name proved not to resolve in this run."""
        async with self.gate.slot(target.host, urgent=urgent):
            return await self._request(method, target, headers, max_body)

    async def _request(
        self, method: str, target: Target, headers: Mapping[str, str], max_body: int
    ) -> Response:
        try:
            return await self._live().transport.send(method, target, headers, max_body)
        except socket.gaierror as exc:
            if _is_dns_failure(exc):
                self._give_up_on(target.host, _failure_of(exc))
            raise


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


def looks_offline(results: Iterable[LinkResult]) -> bool:
    """True when no host at all could be resolved or reached: the machine is offline, and
    calling every link dead would be wrong. Results from the cache and links never sent (a
    malformed URL) do not count either way; one unresolvable host among reachable ones is
    still dead."""
    checked = [r for r in results if not r.cached and (r.requests or r.unreached)]
    return bool(checked) and all(r.unreached for r in checked)


def check_urls(
    urls: Iterable[str],
    options: CheckOptions | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
) -> dict[str, LinkResult]:
    """Check every URL once; results by URL."""
    return Checker(options or CheckOptions()).check_all(urls, on_result)
