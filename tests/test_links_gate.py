"""Host and overall slots on one event loop: caps, spacing, pauses, and no hogging."""

from __future__ import annotations

import asyncio
import itertools
import time

from dlg_bib.links.gate import HostClosed, HostGate
from dlg_bib.links.policy import HostRule

RULES = {
    "two": HostRule(2),
    "three": HostRule(3),
    "spaced": HostRule(2, 0.05),
    "strict": HostRule(1, 0.4),
}


class Recorder:
    """Requests in flight per host and overall, and when each started."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = 0
        self.peak_total = 0
        self.starts: dict[str, list[float]] = {}
        self.ends: dict[str, list[float]] = {}

    async def request(self, gate: HostGate, host: str, seconds: float) -> None:
        async with gate.slot(host):
            self.starts.setdefault(host, []).append(time.monotonic())
            self.active[host] = self.active.get(host, 0) + 1
            self.total += 1
            self.peak[host] = max(self.peak.get(host, 0), self.active[host])
            self.peak_total = max(self.peak_total, self.total)
            await asyncio.sleep(seconds)
            self.active[host] -= 1
            self.total -= 1
        self.ends.setdefault(host, []).append(time.monotonic())


def run(overall: int, requests: list[tuple[str, float]]) -> Recorder:
    recorder = Recorder()

    async def main() -> None:
        gate = HostGate(RULES.__getitem__, overall)
        await asyncio.gather(*(recorder.request(gate, host, s) for host, s in requests))

    asyncio.run(main())
    return recorder


def test_per_host_cap() -> None:
    recorder = run(10, [("two", 0.01)] * 6 + [("three", 0.01)] * 6)
    assert recorder.peak == {"two": 2, "three": 3}


def test_overall_cap_across_hosts() -> None:
    recorder = run(3, [("two", 0.01)] * 4 + [("three", 0.01)] * 4)
    assert recorder.peak_total == 3


def test_spacing_counts_between_request_starts() -> None:
    starts = run(10, [("spaced", 0.0)] * 4).starts["spaced"]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.045  # 50 ms apart, even with two slots free


def test_requests_waiting_for_a_strict_host_hold_no_overall_slot() -> None:
    # Two overall slots; three arXiv-like requests (one at a time, 0.4 s apart). The other
    # host's four 0.1 s requests end by 0.2 s on both slots; had a strict request held a
    # slot while waiting for its turn, they would need 0.4 s.
    recorder = run(2, [("strict", 0.0)] * 3 + [("two", 0.1)] * 4)
    assert max(recorder.ends["two"]) < recorder.starts["strict"][1] - 0.1


def test_pause_delays_the_host_only() -> None:
    recorder = Recorder()

    async def main() -> None:
        gate = HostGate(RULES.__getitem__, 10)
        gate.pause("two", 0.1)
        begin = time.monotonic()
        await asyncio.gather(recorder.request(gate, "two", 0), recorder.request(gate, "three", 0))
        assert recorder.starts["two"][0] - begin >= 0.09
        assert recorder.starts["three"][0] - begin < 0.05

    asyncio.run(main())


def test_closing_a_host_fails_its_queued_requests_at_once() -> None:
    outcomes: list[str] = []

    async def request(gate: HostGate) -> None:
        try:
            async with gate.slot("strict"):
                outcomes.append("sent")
                gate.close("strict")  # e.g. its name did not resolve
        except HostClosed:
            outcomes.append("closed")

    async def main() -> None:
        gate = HostGate(RULES.__getitem__, 10)
        await asyncio.gather(*(request(gate) for _ in range(3)))

    asyncio.run(main())
    assert outcomes == ["sent", "closed", "closed"]


def test_a_links_follow_up_request_goes_before_other_links_first_requests() -> None:
    order: list[str] = []

    async def request(gate: HostGate, label: str, urgent: bool, delay: float) -> None:
        await asyncio.sleep(delay)
        async with gate.slot("two", urgent=urgent):
            order.append(label)
            await asyncio.sleep(0.05)

    async def main() -> None:
        gate = HostGate(RULES.__getitem__, 8)
        await asyncio.gather(
            request(gate, "first-a", False, 0),
            request(gate, "first-b", False, 0),
            request(gate, "first-c", False, 0.01),
            request(gate, "first-d", False, 0.01),
            request(gate, "follow-up", True, 0.02),  # queued last, served first
        )

    asyncio.run(main())
    assert order == ["first-a", "first-b", "follow-up", "first-c", "first-d"]


def test_a_cancelled_waiter_does_not_keep_its_slot() -> None:
    async def main() -> list[str]:
        gate = HostGate(RULES.__getitem__, 8)
        served: list[str] = []

        async def request(label: str, seconds: float) -> None:
            async with gate.slot("strict"):
                served.append(label)
                await asyncio.sleep(seconds)

        holder = asyncio.ensure_future(request("holder", 0.05))
        await asyncio.sleep(0)
        waiting = asyncio.ensure_future(request("cancelled", 0))
        later = asyncio.ensure_future(request("later", 0))
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(holder, later, return_exceptions=True)
        return served

    assert asyncio.run(main()) == ["holder", "later"]


def test_an_urgent_request_takes_the_next_overall_slot_before_queued_first_requests() -> None:
    order: list[str] = []

    async def request(gate: HostGate, host: str, label: str, urgent: bool, delay: float) -> None:
        await asyncio.sleep(delay)
        async with gate.slot(host, urgent=urgent):
            order.append(label)
            await asyncio.sleep(0.05)

    async def main() -> None:
        gate = HostGate(RULES.__getitem__, 1)  # one overall slot, free host slots
        await asyncio.gather(
            request(gate, "three", "first-a", False, 0),
            request(gate, "two", "first-b", False, 0.01),
            request(gate, "two", "first-c", False, 0.01),
            # Another host's urgent request (an archive lookup) queued last, served next.
            request(gate, "three", "lookup", True, 0.02),
        )

    asyncio.run(main())
    assert order == ["first-a", "lookup", "first-b", "first-c"]
