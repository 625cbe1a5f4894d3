"""The result cache: fresh ok results are reused, everything else is checked again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlg_bib.library.model import Database, Group
from dlg_bib.links.cache import LinkCache, lifetime
from dlg_bib.links.check import CheckOptions, LinkResult
from dlg_bib.links.extract import Link
from dlg_bib.links.runner import check_links
from tests.links_server import LinkServer, serving

TTL = 1000.0
EMPTY = Database(Group(), [], [], [])
OPTIONS = CheckOptions(timeout=1, backoff=0.01)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serving() as srv:
        yield srv


def _ok(url: str, at: float) -> LinkResult:
    return LinkResult(url, "ok", 200, url, checked_at=at)


def test_lifetime_is_spread_between_three_quarters_and_all_of_the_ttl() -> None:
    spans = [lifetime(f"https://example.org/{i}", TTL) for i in range(200)]
    assert all(0.75 * TTL <= span < TTL for span in spans)
    assert len(set(spans)) > 100  # spread, not one expiry for everything
    assert lifetime("https://example.org/1", TTL) == lifetime("https://example.org/1", TTL)


def test_fresh_ok_is_reused_until_its_lifetime_ends(tmp_path: Path) -> None:
    clock = Clock()
    url = "https://example.org/paper"
    cache = LinkCache(tmp_path, TTL, clock)
    cache.store([_ok(url, clock.now)])
    cache.save()
    reopened = LinkCache(tmp_path, TTL, clock)
    clock.now += 0.74 * TTL
    cached = reopened.fresh(url)
    assert cached is not None and cached.cached and cached.verdict == "ok"
    clock.now += lifetime(url, TTL)
    assert reopened.fresh(url) is None


def test_dead_blocked_and_failing_results_are_never_reused(tmp_path: Path) -> None:
    clock = Clock()
    cache = LinkCache(tmp_path, TTL, clock)
    for verdict in ("dead", "blocked", "timeout", "error"):
        url = f"https://example.org/{verdict}"
        cache.store([LinkResult(url, verdict, None, url, checked_at=clock.now)])  # type: ignore[arg-type]
        assert cache.fresh(url) is None


def test_a_dead_result_replaces_an_old_ok_one(tmp_path: Path) -> None:
    clock = Clock()
    url = "https://example.org/p"
    cache = LinkCache(tmp_path, TTL, clock)
    cache.store([_ok(url, clock.now)])
    cache.store([LinkResult(url, "dead", 404, url, checked_at=clock.now)])
    assert cache.fresh(url) is None


def test_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "links.json").write_text("{not json", encoding="utf-8")
    assert LinkCache(tmp_path, TTL).fresh("https://example.org/") is None


def test_old_entries_are_pruned_on_save(tmp_path: Path) -> None:
    clock = Clock()
    cache = LinkCache(tmp_path, TTL, clock)
    cache.store([_ok("https://example.org/old", clock.now - 2 * TTL)])
    cache.store([_ok("https://example.org/new", clock.now)])
    cache.save()
    saved = json.loads((tmp_path / "links.json").read_text(encoding="utf-8"))
    assert list(saved["results"]) == ["https://example.org/new"]


def test_second_run_skips_fresh_links_but_rechecks_dead_ones(
    tmp_path: Path, server: LinkServer
) -> None:
    links = [Link(server.url("/ok")), Link(server.url("/status/404"))]
    first = check_links(links, EMPTY, OPTIONS, LinkCache(tmp_path), wayback_api="http://x.invalid/")
    second = check_links(
        links, EMPTY, OPTIONS, LinkCache(tmp_path), wayback_api="http://x.invalid/"
    )
    assert [f.result.verdict for f in first] == [f.result.verdict for f in second] == ["dead", "ok"]
    assert server.counters.hits["/ok"] == 1  # the second run used the cache
    # HEAD + GET, then GET alone: in the second run it is the host's first request.
    assert server.counters.hits["/status/404"] == 3
    assert [f.result.cached for f in second] == [False, True]


def test_without_a_cache_everything_is_checked(tmp_path: Path, server: LinkServer) -> None:
    links = [Link(server.url("/ok"))]
    check_links(links, EMPTY, OPTIONS, LinkCache(tmp_path))
    check_links(links, EMPTY, OPTIONS, None)
    assert server.counters.hits["/ok"] == 2


def test_cache_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLG_BIB_CACHE_DIR", str(tmp_path / "c"))
    assert LinkCache().path == tmp_path / "c" / "links.json"
