"""Suggestions for dead links: the entry's own DOI or arXiv link, else a Wayback copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database, Group
from dlg_bib.links.check import CheckOptions, LinkResult
from dlg_bib.links.extract import Link
from dlg_bib.links.runner import check_links
from dlg_bib.links.suggest import Suggestion, suggest, wayback_api
from tests.links_server import LinkServer, serving

OPTIONS = CheckOptions(timeout=1, per_host=2)


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serving() as srv:
        yield srv


def _db(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "refs.bib"
    path.write_text(body, encoding="utf-8")
    return path


def _result(url: str, verdict: str, redirect_to: str | None = None) -> LinkResult:
    return LinkResult(url, verdict, 404 if verdict == "dead" else 200, url, redirect_to=redirect_to)  # type: ignore[arg-type]


BIB = """
@article{withdoi, author = {A, B}, title = {T}, year = {2020}, journal = {J},
  url = {https://old.example.org/a}, doi = {10.1000/xyz}, eprint = {2001.00001}}
@article{witharxiv, author = {A, B}, title = {T}, year = {2020}, journal = {J},
  url = {https://old.example.org/b}, eprint = {2001.00002}}
@misc{bare, author = {A, B}, title = {T}, year = {2020}, url = {https://old.example.org/c}}
"""


def test_dead_link_gets_the_entry_doi_then_arxiv(tmp_path: Path, server: LinkServer) -> None:
    db = open_database(_db(tmp_path, BIB))
    links = [
        Link("https://old.example.org/a", ["withdoi"]),
        Link("https://old.example.org/b", ["witharxiv"]),
    ]
    results = {lk.url: _result(lk.url, "dead") for lk in links}
    found = suggest(links, results, db, OPTIONS, api=server.url("/wayback/available"))
    assert found == {
        "https://old.example.org/a": Suggestion("https://doi.org/10.1000/xyz", "doi"),
        "https://old.example.org/b": Suggestion("https://arxiv.org/abs/2001.00002", "arxiv"),
    }
    assert server.counters.hits["/wayback/available"] == 0


def test_a_dead_doi_link_is_not_suggested(tmp_path: Path, server: LinkServer) -> None:
    db = open_database(_db(tmp_path, BIB))
    links = [
        Link("https://old.example.org/a", ["withdoi"]),
        Link("https://doi.org/10.1000/xyz", ["withdoi"]),
    ]
    results = {lk.url: _result(lk.url, "dead") for lk in links}
    found = suggest(links, results, db, OPTIONS, api=server.url("/wayback/available"))
    assert found["https://old.example.org/a"] == Suggestion(
        "https://arxiv.org/abs/2001.00001", "arxiv"
    )


def test_without_identifiers_the_wayback_snapshot_is_suggested(
    tmp_path: Path, server: LinkServer
) -> None:
    db = open_database(_db(tmp_path, BIB))
    server.archived["https://old.example.org/c"] = (
        "http://web.archive.org/web/20200101000000/https://old.example.org/c"
    )
    links = [Link("https://old.example.org/c", ["bare"]), Link("https://readme-only.example.org/")]
    results = {lk.url: _result(lk.url, "dead") for lk in links}
    found = suggest(links, results, db, OPTIONS, api=server.url("/wayback/available"))
    # Upgraded to https; the README-only link has no archived copy, so no suggestion.
    assert found == {
        "https://old.example.org/c": Suggestion(
            "https://web.archive.org/web/20200101000000/https://old.example.org/c", "wayback"
        )
    }
    assert server.counters.hits["/wayback/available"] == 2


def test_gzip_encoded_wayback_answer_still_gives_its_suggestion(
    tmp_path: Path, server: LinkServer
) -> None:
    db = open_database(_db(tmp_path, BIB))
    snapshot = "https://web.archive.org/web/20200101000000/https://old.example.org/c"
    server.archived["https://old.example.org/c"] = snapshot
    server.gzip_answers = True
    links = [Link("https://old.example.org/c", ["bare"])]
    results = {lk.url: _result(lk.url, "dead") for lk in links}
    found = suggest(links, results, db, OPTIONS, api=server.url("/wayback/available"))
    assert found == {"https://old.example.org/c": Suggestion(snapshot, "wayback")}
    assert server.gzipped == 1  # the answer really was gzip-encoded


def test_unreachable_wayback_api_means_no_suggestion(tmp_path: Path) -> None:
    db = open_database(_db(tmp_path, BIB))
    links = [Link("https://old.example.org/c", ["bare"])]
    results = {lk.url: _result(lk.url, "dead") for lk in links}
    assert suggest(links, results, db, OPTIONS, api="http://wayback.invalid/available") == {}


def test_permanent_redirect_suggests_the_new_url(tmp_path: Path) -> None:
    db = open_database(_db(tmp_path, BIB))
    link = Link("http://moved.example.org/", ["bare"])
    results = {link.url: _result(link.url, "redirected", "https://moved.example.org/")}
    assert suggest([link], results, db, OPTIONS) == {
        link.url: Suggestion("https://moved.example.org/", "redirect")
    }


def test_wayback_api_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLG_BIB_WAYBACK_API", raising=False)
    assert wayback_api() == "https://archive.org/wayback/available"
    monkeypatch.setenv("DLG_BIB_WAYBACK_API", "http://127.0.0.1:9/wb")
    assert wayback_api() == "http://127.0.0.1:9/wb"


def test_a_dead_links_archive_lookup_goes_out_while_other_links_are_checked(
    server: LinkServer,
) -> None:
    # One request at a time overall; another host's eight slow links queue for it, four of
    # them holding their host's slots. The dead link's archive lookup is asked for as soon as
    # the link is known dead and takes the next overall slot: it does not wait for the
    # queued links, let alone for the end of the check.
    links = [Link(server.url("/status/404"))]
    links += [Link(server.url(f"/delay?s=0.02&i={i}", "localhost")) for i in range(8)]
    options = CheckOptions(timeout=2, concurrency=1, per_host=4)
    api = server.url("/wayback/available")
    rows = check_links(links, Database(Group(), [], [], []), options, wayback_api=api)
    assert [row.result.verdict for row in rows].count("dead") == 1
    times = server.counters.times
    (lookup,) = times["/wayback/available"]
    # The dead link's GET (its host's first request), the first slow link (it had asked
    # first), then the lookup: seven slow links come after it.
    assert sum(t > lookup for t in times["/delay"]) == 7
