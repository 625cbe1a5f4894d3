"""Per-host politeness: at most N requests in flight per host, spacing between requests, and
host-wide pauses after 429/503. Also hands out work so no worker idles on a busy host.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from dlg_bib.links.policy import HostRule

T = TypeVar("T")


class HostGate(Generic[T]):
    """Slots per host plus a queue of work items grouped by the host they start at."""

    def __init__(
        self,
        rule_for: Callable[[str], HostRule],
        clock: Callable[[], float] = time.monotonic,
    ):
        self._rule_for = rule_for
        self._clock = clock
        self._cond = threading.Condition()
        self._active: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        self._pending = 0
        self.peak: dict[str, int] = {}

    # ---- work queue ------------------------------------------------------------------

    def add_work(self, items: Iterable[tuple[str, T]]) -> None:
        with self._cond:
            for host, item in items:
                self._queues.setdefault(host, deque()).append(item)
                self._pending += 1
            self._cond.notify_all()

    def next_work(self) -> T | None:
        """The next item whose host can take a request now, with a slot of that host already
        acquired for its first request (round robin over hosts); waits while every waiting
        host is busy; None when no work is left."""
        with self._cond:
            while self._pending:
                wait = self._pick_wait()
                if wait == 0.0:
                    host, queue = next(
                        (h, q) for h, q in self._queues.items() if q and self._free_in(h) == 0.0
                    )
                    item = queue.popleft()
                    self._pending -= 1
                    # Rotate: this host goes to the back so hosts take turns.
                    self._queues.move_to_end(host)
                    self._take_slot(host)
                    return item
                self._cond.wait(timeout=wait)
            return None

    def _pick_wait(self) -> float:
        waits = [self._free_in(h) for h, q in self._queues.items() if q]
        return min(waits) if waits else 0.0

    # ---- request slots ---------------------------------------------------------------

    def _free_in(self, host: str) -> float:
        """0 when a request to `host` may start now, else a wait hint in seconds."""
        rule = self._rule_for(host)
        if self._active.get(host, 0) >= rule.max_connections:
            return 0.05  # woken by release() long before this
        return max(0.0, self._not_before.get(host, 0.0) - self._clock())

    def acquire(self, host: str) -> None:
        with self._cond:
            while (wait := self._free_in(host)) > 0.0:
                self._cond.wait(timeout=wait)
            self._take_slot(host)

    def _take_slot(self, host: str) -> None:
        active = self._active.get(host, 0) + 1
        self._active[host] = active
        self.peak[host] = max(self.peak.get(host, 0), active)
        interval = self._rule_for(host).min_interval
        if interval:
            self._not_before[host] = self._clock() + interval

    def release(self, host: str) -> None:
        with self._cond:
            self._active[host] -= 1
            self._cond.notify_all()

    def pause(self, host: str, seconds: float) -> None:
        """No request to `host` before `seconds` from now (Retry-After, backoff)."""
        with self._cond:
            until = self._clock() + seconds
            self._not_before[host] = max(self._not_before.get(host, 0.0), until)
