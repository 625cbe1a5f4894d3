"""Per-host politeness on one event loop: at most N requests in flight per host, spacing
between requests, host-wide pauses after 429/503, and an overall limit across hosts.

A request takes its host's slot before an overall one, so requests queued behind a slow,
strict host (arXiv: one at a time, 3 s apart) never hold overall slots that other hosts
could use.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from dlg_bib.links.policy import HostRule


class HostClosed(Exception):
    """The host was closed for this run (its name does not resolve): no request goes out."""


@dataclass
class _Host:
    rule: HostRule
    slots: asyncio.Semaphore
    not_before: float = 0.0
    closed: bool = False


@dataclass
class HostGate:
    """Created inside the event loop that uses it."""

    rule_for: Callable[[str], HostRule]
    overall: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _hosts: dict[str, _Host] = field(default_factory=dict)
    _overall: asyncio.Semaphore | None = None

    def _host(self, name: str) -> _Host:
        host = self._hosts.get(name)
        if host is None:
            rule = self.rule_for(name)
            host = self._hosts[name] = _Host(rule, asyncio.Semaphore(rule.max_connections))
        return host

    @asynccontextmanager
    async def slot(self, name: str) -> AsyncIterator[None]:
        """Hold one request slot of host `name` (and one overall) while the body runs."""
        host = self._host(name)
        if self._overall is None:
            self._overall = asyncio.Semaphore(self.overall)
        async with host.slots:
            while True:
                while (wait := host.not_before - self.clock()) > 0 and not host.closed:
                    await self.sleep(wait)
                if not host.closed:
                    await self._overall.acquire()
                    # Another request of this host may have started while this one waited
                    # for an overall slot: spacing counts from when requests really start.
                    if host.not_before <= self.clock() and not host.closed:
                        break
                    self._overall.release()
                if host.closed:
                    raise HostClosed(name)
            if host.rule.min_interval:
                host.not_before = self.clock() + host.rule.min_interval
            try:
                yield
            finally:
                self._overall.release()

    def close(self, name: str) -> None:
        """Requests queued for host `name` fail with HostClosed instead of waiting their turn
        (an unknown host would otherwise cost arXiv's 3 s spacing per queued link)."""
        self._host(name).closed = True

    def pause(self, name: str, seconds: float) -> None:
        """No request to host `name` before `seconds` from now (Retry-After, backoff)."""
        host = self._host(name)
        host.not_before = max(host.not_before, self.clock() + seconds)
