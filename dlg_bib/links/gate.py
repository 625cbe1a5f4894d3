"""Per-host politeness on one event loop: at most N requests in flight per host, spacing
between requests, host-wide pauses after 429/503, and an overall limit across hosts.

A request takes its host's slot before an overall one, so requests queued behind a slow,
strict host (arXiv: one at a time, 3 s apart) never hold overall slots that other hosts
could use. Urgent requests (a link's follow-ups: GET after HEAD, the next redirect hop, a
retry; and the archive lookups of dead links) go before other links' first requests, for
their host's slots and for the overall ones: a link started is finished first, so its verdict
comes early, and the archive lookups, all on one host, keep that host's slots busy while the
links are checked instead of trailing after them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from dlg_bib.links.policy import HostRule


class HostClosed(Exception):
    """The host was closed for this run (its name does not resolve): no request goes out."""


class _Slots:
    """A semaphore whose urgent waiters go before the others, first come first served
    within each kind."""

    def __init__(self, value: int):
        self._free = value
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self._urgent and not self._normal:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just as it was cancelled: pass the slot on
            raise

    def release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():  # cancelled waiters stay queued until here
                    waiter.set_result(None)
                    return
        self._free += 1


@dataclass
class _Host:
    rule: HostRule
    slots: _Slots
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
    _overall: _Slots | None = None

    def _host(self, name: str) -> _Host:
        host = self._hosts.get(name)
        if host is None:
            rule = self.rule_for(name)
            host = self._hosts[name] = _Host(rule, _Slots(rule.max_connections))
        return host

    @asynccontextmanager
    async def slot(self, name: str, urgent: bool = False) -> AsyncIterator[None]:
        """Hold one request slot of host `name` (and one overall) while the body runs;
        `urgent` requests (a link's follow-ups, archive lookups) get the next free slots."""
        host = self._host(name)
        if self._overall is None:
            self._overall = _Slots(self.overall)
        await host.slots.acquire(urgent)
        try:
            while True:
                while (wait := host.not_before - self.clock()) > 0 and not host.closed:
                    await self.sleep(wait)
                if not host.closed:
                    await self._overall.acquire(urgent)
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
        finally:
            host.slots.release()

    def close(self, name: str) -> None:
        """Requests queued for host `name` fail with HostClosed instead of waiting their turn
        (an unknown host would otherwise cost arXiv's 3 s spacing per queued link)."""
        self._host(name).closed = True

    def pause(self, name: str, seconds: float) -> None:
        """No request to host `name` before `seconds` from now (Retry-After, backoff)."""
        host = self._host(name)
        host.not_before = max(host.not_before, self.clock() + seconds)
