"""Helpers for the arXiv/Crossref tests: fixture bodies, a fake clock, mocked endpoints."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest
import responses

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


EMPTY_SPARQL = '{"head":{"vars":["pub","t"]},"results":{"bindings":[]}}'


def mock_dblp_and_free_copy_sources(rsps: responses.RequestsMock) -> None:
    """At their default endpoints: dblp knows none of the titles (an empty SPARQL answer),
    OpenAlex (404 HTML page) and Unpaywall (404 JSON) know none of the DOIs."""
    rsps.get(
        re.compile(r"https://sparql\.dblp\.org/sparql.*"),
        body=EMPTY_SPARQL,
        content_type="application/sparql-results+json",
    )
    rsps.get(
        re.compile(r"https://api\.openalex\.org/works/.*"),
        status=404,
        body=(FIXTURES / "openalex" / OPENALEX_404).read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    rsps.get(
        re.compile(r"https://api\.unpaywall\.org/v2/.*"),
        status=404,
        body=(FIXTURES / "unpaywall" / "synthetic_v2_404_not_in_unpaywall.json").read_bytes(),
        content_type="application/json",
    )


OPENALEX_404 = "work_404_doi_url_10.1046_j.1365-2699.2003.00795_flask_html_2025-11.html"


def copy_enrich_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/fixtures/enrich with the sources pointed at the mocked endpoints,
    no arXiv pacing, a fresh cache and no contact address from the caller's environment."""
    shutil.copytree(FIXTURES / "enrich", tmp_path / "bib")
    monkeypatch.setenv("DLG_BIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLG_BIB_ARXIV_API", ARXIV_API)
    monkeypatch.setenv("DLG_BIB_CROSSREF_API", CROSSREF_API)
    monkeypatch.setenv("DLG_BIB_ARXIV_DELAY", "0")
    monkeypatch.delenv("DLG_BIB_MAILTO", raising=False)
    return tmp_path / "bib"
