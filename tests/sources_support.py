"""Helpers for the arXiv/Crossref tests: fixture bodies, a fake clock, mocked endpoints."""

from __future__ import annotations

import threading
from pathlib import Path

from dlg_bib.sources.http import Clock, DiskCache, HttpClient, Mode

FIXTURES = Path(__file__).parent / "fixtures"
ARXIV_API = "https://export.arxiv.org/api/query"
CROSSREF_API = "https://api.crossref.org"
ATOM = "application/atom+xml; charset=utf-8"
# Headers as Crossref sends them (public pool, Dec 2025 limits).
CROSSREF_HEADERS = {
    "x-api-pool": "public",
    "x-rate-limit-limit": "5",
    "x-rate-limit-interval": "1s",
    "x-concurrency-limit": "1",
}


def arxiv_body(name: str) -> bytes:
    return (FIXTURES / "arxiv" / name).read_bytes()


def crossref_body(name: str) -> bytes:
    return (FIXTURES / "crossref" / name).read_bytes()


class FakeClock:
    """Monotonic time that only moves when someone sleeps: pacing tests run instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def make_client(
    tmp_path: Path | None = None,
    *,
    clock: Clock | None = None,
    mode: Mode = Mode.NORMAL,
    contact: str | None = None,
    retries: int = 3,
) -> HttpClient:
    cache = DiskCache(tmp_path / "cache") if tmp_path is not None else None
    return HttpClient(
        contact=contact, cache=cache, mode=mode, clock=clock or FakeClock(), retries=retries
    )
