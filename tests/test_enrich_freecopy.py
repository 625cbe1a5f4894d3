"""Free copies in `enrich`: OpenAlex/Unpaywall lookups by DOI (mocked), the entry's own
arXiv PDF, what is written (oaurl, oaversion, oalicense, oahost or oanote) and what never is."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner, Result

from dlg_bib.cli import cli
from dlg_bib.enrich import merge
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.openaccess import NONE_KNOWN, FreeCopy
from dlg_bib.library.database import open_workspace
from dlg_bib.library.model import Entry
from dlg_bib.sources.http import HttpClient
from dlg_bib.sources.openalex import OpenAlexSource
from dlg_bib.sources.records import ARXIV, OaLocation
from dlg_bib.sources.unpaywall import UnpaywallSource
from tests.sources_support import FIXTURES, FakeClock

OPENALEX = "https://openalex.test"
UNPAYWALL = "https://unpaywall.test"
KEY = "sekrit-openalex-key-123"
OA = FIXTURES / "openalex"
UP = FIXTURES / "unpaywall"
OPENALEX_WORKS = {
    "10.1073/pnas.1414271111": "work_doi_url_10.1073_pnas.1414271111_bronze_with_pmc_copies"
    "_2025-08.json",
    "10.1023/A:1007154515475": "work_doi_url_10.1023_a_1007154515475_closed_2025-09.json",
    "10.1109/CVPR.2016.90": "work_doi_10.1109_cvpr.2016.90_conference_no_arxiv_location"
    "_walden_2026-10_reserialized.json",
}
OPENALEX_404 = "work_404_doi_url_10.1046_j.1365-2699.2003.00795_flask_html_2025-11.html"


@pytest.fixture
def bib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bib"
    folder.mkdir()
    shutil.copy(FIXTURES / "enrich" / "freecopy" / "references.bib", folder / "references.bib")
    shutil.copy(FIXTURES / "enrich" / "group.toml", folder / "group.toml")
    monkeypatch.setenv("DLG_BIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLG_BIB_OPENALEX_API", OPENALEX)
    monkeypatch.setenv("DLG_BIB_UNPAYWALL_API", UNPAYWALL)
    monkeypatch.setenv("DLG_BIB_OPENALEX_KEY", KEY)
    monkeypatch.delenv("DLG_BIB_MAILTO", raising=False)  # group.toml has the address
    return folder


def _openalex(request):  # type: ignore[no-untyped-def]
    doi = request.path_url.split("/works/doi:", 1)[1].split("?", 1)[0]
    name = OPENALEX_WORKS.get(doi)
    if name is None:
        return 404, {"Content-Type": "text/html"}, (OA / OPENALEX_404).read_bytes()
    return 200, {"Content-Type": "application/json"}, (OA / name).read_bytes()


def _unpaywall(request):  # type: ignore[no-untyped-def]
    if "1007154515475" in request.path_url:
        body = (UP / "v2_10.1023_a_1007154515475_closed_2025-09.json").read_bytes()
        return 200, {"Content-Type": "application/json"}, body
    body = (UP / "synthetic_v2_404_not_in_unpaywall.json").read_bytes()
    return 404, {"Content-Type": "application/json"}, body


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback("GET", re.compile(f"{OPENALEX}/works/.*"), callback=_openalex)
        rsps.add_callback("GET", re.compile(f"{UNPAYWALL}/v2/.*"), callback=_unpaywall)
        yield rsps


def run(bib: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--bib", str(bib), "enrich", "--only", "free-copy", *args])


def test_free_copies_are_found_checked_and_recorded(
    bib: Path, mocked: responses.RequestsMock
) -> None:
    result = run(bib)
    assert result.exit_code == 0, result.output
    db = open_workspace(bib).db

    makris = db.find("makris2014developing")
    assert makris is not None
    # The publisher's free version wins over the PMC copies of the same version.
    assert makris.get("oaurl") == "https://doi.org/10.1073/pnas.1414271111"
    assert (makris.get("oaversion"), makris.get("oahost")) == ("published", "publisher")
    assert not makris.has("oanote")
    assert makris.get("doi") == "10.1073/pnas.1414271111"  # never taken from OpenAlex

    # Closed in OpenAlex, no OA location in Unpaywall (the 2025 author shape): the note.
    adak = db.find("adak2001essential")
    assert adak is not None and adak.get("oanote") == NONE_KNOWN and not adak.has("oaurl")

    # The only open location of the CVPR paper is a master's thesis filed under it.
    he = db.find("he2016deep")
    assert he is not None and he.get("oanote") == NONE_KNOWN

    # A recorded copy and a person's own note are never touched.
    devlin = db.find("devlin2019bert")
    assert devlin is not None and devlin.get("oaurl") == "https://aclanthology.org/N19-1423.pdf"
    curated = db.find("someone2020curated")
    assert curated is not None
    assert curated.get("oanote") == "ask the department library for the printed copy"

    urls = [call.request.url or "" for call in mocked.calls]
    assert not any("devlin" in u or "1810.04805" in u for u in urls)
    # OpenAlex for each DOI; Unpaywall only where OpenAlex gave no published copy.
    assert sum("openalex.test" in u for u in urls) == 3
    assert sum("unpaywall.test" in u for u in urls) == 2
    assert all("email=dlg-tests%40example.org" in u for u in urls if "unpaywall" in u)


def test_the_openalex_key_is_sent_but_never_shown_or_stored(
    bib: Path, mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    result = run(bib)
    assert result.exit_code == 0
    sent = [c.request.url or "" for c in mocked.calls if "openalex.test" in (c.request.url or "")]
    assert sent and all(f"api_key={KEY}" in u for u in sent)
    assert KEY not in result.output
    cached = [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    assert cached and not any(KEY in text for text in cached)
    again = run(bib, "--refresh", "--dry-run")  # the cache keys do not depend on the key
    assert again.exit_code == 0 and KEY not in again.output


def test_openalex_over_budget_is_reported_once_and_decides_nothing(
    bib: Path, mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dlg_bib.sources.http.SystemClock.sleep", lambda self, seconds: None)
    mocked.replace(
        responses.GET,
        re.compile(f"{OPENALEX}/works/.*"),
        status=429,
        body='{"error": "Rate limit exceeded"}',
        content_type="application/json",
    )
    mocked.replace(
        responses.GET, re.compile(f"{UNPAYWALL}/v2/.*"), status=503, body="Service Unavailable"
    )
    before = (bib / "references.bib").read_bytes()
    result = run(bib, "--jobs", "1")
    assert result.exit_code == 0, result.output  # unavailable sources are not failures
    assert (bib / "references.bib").read_bytes() == before  # no "none known" on no evidence
    assert result.output.count("OpenAlex unavailable (") == 1 + 3  # the run note, 3 entries
    assert "free copy not decided" in result.output
    openalex_calls = [c for c in mocked.calls if "openalex.test" in (c.request.url or "")]
    assert len(openalex_calls) == 1  # no retry, no further request in this run


def test_offline_free_copy_step_needs_no_network_and_changes_only_oa_fields(
    bib: Path, mocked: responses.RequestsMock
) -> None:
    before = (bib / "references.bib").read_text()
    result = run(bib, "--offline")
    assert result.exit_code == 0, result.output
    assert not mocked.calls and "requests sent: none" in result.output
    after = (bib / "references.bib").read_text()
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert removed == []
    assert added and all(re.match(r"  oa(url|version|license|host|note) = ", a) for a in added)
    db = open_workspace(bib).db
    makris = db.find("makris2014developing")
    assert makris is not None and makris.get("oanote") == NONE_KNOWN  # nothing known offline
    # An online run later replaces the standard note with the copy it finds.
    online = run(bib)
    assert online.exit_code == 0, online.output
    makris = open_workspace(bib).db.find("makris2014developing")
    assert makris is not None and not makris.has("oanote")
    assert makris.get("oaurl") == "https://doi.org/10.1073/pnas.1414271111"
    assert "- oanote = {no legal free copy known}  [free copy: " in online.output


def test_an_arxiv_entry_always_gets_its_arxiv_pdf(bib: Path) -> None:
    text = (bib / "references.bib").read_text()
    text += "\n@misc{ruder2016overview,\n  author = {Ruder, Sebastian},\n"
    text += "  title = {An Overview of Gradient Descent Optimization Algorithms},\n"
    text += "  year = {2016},\n  eprint = {1609.04747},\n  archiveprefix = {arXiv},\n}\n"
    (bib / "references.bib").write_text(text)
    result = run(bib, "--offline", "ruder2016overview")
    assert result.exit_code == 0, result.output
    ruder = open_workspace(bib).db.find("ruder2016overview")
    assert ruder is not None
    assert ruder.get("oaurl") == "https://arxiv.org/pdf/1609.04747"
    assert (ruder.get("oaversion"), ruder.get("oahost")) == ("submitted", "arxiv")


# ---- the pure policy -----------------------------------------------------------------------


ARXIV_COPY = FreeCopy(
    OaLocation("https://arxiv.org/pdf/1706.03762", version="submitted", host="arxiv")
)


def test_free_copy_changes_fill_replace_the_note_and_respect_curated_values() -> None:
    fields = {"title": "{T}"}
    added = merge.free_copy_changes(fields, ARXIV_COPY)
    assert [(c.name, c.new) for c in added] == [
        ("oaurl", "{https://arxiv.org/pdf/1706.03762}"),
        ("oaversion", "{submitted}"),
        ("oahost", "{arxiv}"),
    ]
    noted = {"title": "{T}", "oanote": "{no legal free copy known}"}
    replaced = {c.name: c.new for c in merge.free_copy_changes(noted, ARXIV_COPY)}
    assert replaced["oanote"] is None and replaced["oaurl"]
    curated = {"oaurl": "{https://example.org/x.pdf}"}
    assert merge.free_copy_changes(curated, ARXIV_COPY) == []
    assert merge.free_copy_changes(curated, ARXIV_COPY, overwrite=frozenset({"oaurl"}))
    own_note = {"oanote": "{in the library}"}
    assert merge.free_copy_changes(own_note, ARXIV_COPY) == []


def test_none_known_is_written_only_after_a_conclusive_search() -> None:
    none = FreeCopy(None)
    assert merge.free_copy_changes({}, none, conclusive=False) == []
    written = merge.free_copy_changes({}, none)
    assert [(c.name, c.new) for c in written] == [("oanote", "{no legal free copy known}")]


def test_remote_urls_cannot_break_the_entry() -> None:
    hostile = FreeCopy(OaLocation("https://x.org/a} @misc{pwned, b={", host="repository"))
    changes = merge.free_copy_changes({}, hostile)
    url = next(c.new for c in changes if c.name == "oaurl")
    assert url == "{https://x.org/a%7D%20@misc%7Bpwned,%20b=%7B}"
    fields = merge.merged(merge.Entry("x2020y", "misc", {}), merge.EntryChange("x", changes))
    assert merge.check_fields("x2020y", "misc", fields) == []


@responses.activate
def test_arxiv_datacite_dois_are_not_asked() -> None:
    # arXiv's DataCite DOIs are covered by neither source: the arXiv PDF is the copy.
    client = HttpClient(clock=FakeClock())
    finder = FreeCopyFinder(
        OpenAlexSource(client, url=OPENALEX),
        UnpaywallSource(client, url=UNPAYWALL, email="dlg@example.org"),
    )
    entry = Entry(
        "vaswani2017attention",
        "misc",
        {"title": "{Attention Is All You Need}", "doi": "{10.48550/arXiv.1706.03762}"},
    )
    answer = finder.find(entry)
    assert len(responses.calls) == 0 and answer.unavailable == ()
    assert answer.copy.location is not None and answer.copy.location.host == ARXIV
