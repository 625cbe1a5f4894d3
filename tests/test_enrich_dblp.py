"""dblp wired into `enrich`: the shipped conference entries restored end to end, and dblp
unavailable (bot check, 429) reported once without a loop. Local stub servers only."""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dlg_bib.cli import cli
from dlg_bib.enrich import merge
from dlg_bib.enrich.published import DBLP_TEXT, Preprint
from dlg_bib.enrich.resolver import (
    DblpFinder,
    PublishedVersionFinder,
    Query,
    Resolver,
    query_of,
)
from dlg_bib.library.database import open_workspace
from dlg_bib.library.model import Entry
from dlg_bib.sources.dblp import DblpSource
from tests.dblp_stub_server import DblpStubServer
from tests.sources_support import FakeClock, make_client

SHIPPED_BIB = Path(__file__).parent.parent / "bib"

# The published-version fields of the NeurIPS/ICLR/ICML/AISTATS entries (none of them has a
# Crossref DOI). `year` stays: it is the paper's year, and the year window starts there
# (Reddi et al.: ICLR 2018, arXiv 1904.09237). `editor` and `pdf` are not dblp's to restore.
STRIPPED = {
    "vaswani2017attention": ("booktitle", "volume", "pages", "url"),
    "bahdanau2015neural": ("booktitle",),
    "reddi2018convergence": ("booktitle", "url"),
    "li2019convergence": ("booktitle", "series", "publisher", "volume", "pages"),
    "mahapatra2020multi": ("booktitle", "series", "publisher", "volume", "pages", "url"),
    "krizhevsky2012imagenet": ("booktitle", "volume", "url"),
}


def strip_published_fields(text: str) -> str:
    """The shipped text without the fields above (one field per line in bib/)."""
    out = []
    key = ""
    for line in text.splitlines(keepends=True):
        start = re.match(r"@\w+\{([^,]+),", line)
        if start:
            key = start.group(1)
        field = re.match(r"\s+([\w-]+)\s*=", line)
        if field and field.group(1) in STRIPPED.get(key, ()):
            continue
        out.append(line)
    return "".join(out)


@pytest.fixture
def stripped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bib = tmp_path / "bib"
    shutil.copytree(SHIPPED_BIB, bib)
    path = bib / "references.bib"
    path.write_text(strip_published_fields(path.read_text("utf-8")), "utf-8")
    monkeypatch.setenv("DLG_BIB_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("DLG_BIB_MAILTO", "DLG_BIB_OPENALEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    return bib


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Pacing sleeps are not slept (the suite stays fast): each request's intended start
    (now + the pacer's sleep) is recorded instead, so the spacing can still be checked."""
    starts: list[float] = []
    monkeypatch.setattr(
        "dlg_bib.sources.http.SystemClock.sleep",
        lambda self, s: starts.append(time.monotonic() + s),
    )
    return starts


def serve(monkeypatch: pytest.MonkeyPatch, **options: bool) -> Iterator[DblpStubServer]:
    with DblpStubServer(**options) as server:
        monkeypatch.setenv("DLG_BIB_DBLP_SPARQL", server.sparql_url)
        monkeypatch.setenv("DLG_BIB_DBLP_API", server.api_url)
        yield server


@pytest.fixture
def dblp(monkeypatch: pytest.MonkeyPatch) -> Iterator[DblpStubServer]:
    yield from serve(monkeypatch)


def enrich_cli(bib: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--bib", str(bib), "enrich", "--source", "dblp", *args])


def test_stripping_removes_what_the_test_means_to_remove(stripped: Path) -> None:
    db = open_workspace(stripped).db
    for key, names in STRIPPED.items():
        entry = db.find(key)
        assert entry is not None and not any(entry.has(n) for n in names), key
        assert entry.has("year")


def test_enrich_restores_the_shipped_conference_entries_and_nothing_else(
    stripped: Path, dblp: DblpStubServer, sleeps: list[float]
) -> None:
    shipped = (SHIPPED_BIB / "references.bib").read_bytes()
    dry = enrich_cli(stripped, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (stripped / "references.bib").read_bytes() != shipped  # dry run wrote nothing
    sleeps.clear()
    dblp.hits.clear()
    result = enrich_cli(stripped)
    assert result.exit_code == 0, result.output
    assert (stripped / "references.bib").read_bytes() == shipped  # every byte
    for key in STRIPPED:
        assert f"{key}  (" in result.output  # a per-entry diff for each of them
    assert "published version confirmed via dblp (conf/nips/VaswaniSPUJGKP17)" in result.output
    # Bahdanau et al.: an ICLR paper under a CoRR key, accepted by venue, not key prefix.
    assert "confirmed via dblp (journals/corr/BahdanauCB14)" in result.output
    assert "+ booktitle = {International Conference on Learning Representations ({ICLR})}" in (
        result.output
    )
    # The arXiv-only readings stay preprints, each listed with its reason.
    for key in ("ruder2016overview", "mikolov2013efficient", "heydari2019softadapt"):
        assert f"  {key}: no match in dblp: dblp has no record of this title" in result.output
    # One request at a time, starts at least one second apart. (The dry run cached them all,
    # so the real run sends none.)
    assert sum(dblp.hits.values()) == 0 and sleeps == []
    assert "requests sent: none" in result.output
    again = enrich_cli(stripped)
    assert again.exit_code == 0 and "requests sent: none" in again.output  # cached


def test_dblp_requests_are_at_least_a_second_apart(
    stripped: Path, dblp: DblpStubServer, sleeps: list[float]
) -> None:
    result = enrich_cli(stripped, "--dry-run")
    assert result.exit_code == 0, result.output
    sent = sum(dblp.hits.values())
    assert sent >= 12 and f"requests sent: {sent} dblp" in result.output
    assert len(sleeps) == sent  # every request went through the pacer
    gaps = [b - a for a, b in itertools.pairwise(sleeps)]
    assert min(gaps) >= 0.999  # (the clock is read twice: a few microseconds apart)


@pytest.mark.parametrize("option", ["bot_check", "throttled"])
def test_dblp_unavailable_is_reported_once_without_a_loop(
    stripped: Path, monkeypatch: pytest.MonkeyPatch, sleeps: list[float], option: str
) -> None:
    before = (stripped / "references.bib").read_bytes()
    for server in serve(monkeypatch, **{option: True}):
        result = enrich_cli(stripped)
        assert server.hits == {"/sparql": 1, "/search/publ/api": 1}  # one try per channel
    assert result.exit_code == 0, result.output  # a normal outcome, not a failure
    assert (stripped / "references.bib").read_bytes() == before
    reason = "bot-check page instead of data" if option == "bot_check" else "throttled (HTTP 429"
    assert result.output.count(reason) == 2  # once per channel, in the run's notes
    assert "sources unavailable in this run (not failures):" in result.output
    for key in ("vaswani2017attention", "bahdanau2015neural", "reddi2018convergence"):
        assert f"  {key}: source unavailable: dblp" in result.output
    # 4 stripped preprints + 3 arXiv-only readings; the 2 venue-less conference papers are
    # listed apart, as papers whose venue is unknown.
    assert "7 preprints unconfirmed" in result.output
    for key in ("mahapatra2020multi", "krizhevsky2012imagenet"):
        assert f"  {key}: source unavailable: dblp" in result.output


class ConfirmingFinder:
    """Stands for Crossref's search having confirmed the published version."""

    name = "Crossref search"

    def __init__(self, confirms: bool):
        self.confirms = confirms

    def find(self, query: Query) -> merge.Proposal | None:
        proposal = merge.Proposal("Crossref (published version)", "inproceedings")
        proposal.put("booktitle", "Crossref's venue", "Crossref's venue")
        return proposal if self.confirms else None


def preprint_of(key: str) -> Entry:
    """A shipped entry as a bare preprint: its venue fields removed."""
    entry = open_workspace(SHIPPED_BIB).db.find(key)
    assert entry is not None
    kept = {n: v for n, v in entry.fields.items() if n not in STRIPPED[key]}
    return Entry(entry.key, "misc", kept)


@pytest.mark.parametrize("crossref_confirms", [True, False])
def test_dblp_is_asked_only_when_arxiv_and_crossref_cannot_confirm(
    dblp: DblpStubServer, tmp_path: Path, crossref_confirms: bool
) -> None:
    source = DblpSource(
        make_client(tmp_path, clock=FakeClock()), text=DBLP_TEXT, sparql=dblp.sparql_url
    )
    finders: list[PublishedVersionFinder] = [ConfirmingFinder(crossref_confirms)]
    resolver = Resolver(None, None, finders=[*finders, DblpFinder(source)])
    evidence = resolver.resolve(preprint_of("reddi2018convergence"))
    assert evidence.published_proposal is not None and not evidence.unconfirmed
    if crossref_confirms:
        assert evidence.published_via == "Crossref search" and not dblp.hits
    else:
        assert evidence.published_via == "dblp (conf/iclr/ReddiKK18)"
        change = merge.plan(preprint_of("reddi2018convergence"), evidence)
        assert change.new_type == "inproceedings"
        assert {c.name: c.new for c in change.changes} == {
            "booktitle": "{International Conference on Learning Representations ({ICLR})}",
            "url": "{https://openreview.net/forum?id=ryQu7f-RZ}",  # the OpenReview page
        }


def test_an_entry_with_its_venue_is_not_sent_to_dblp(dblp: DblpStubServer, tmp_path: Path) -> None:
    source = DblpSource(
        make_client(tmp_path, clock=FakeClock()), text=DBLP_TEXT, sparql=dblp.sparql_url
    )
    finder = DblpFinder(source)
    resolver = Resolver(None, None, finders=[finder], venue_finders=[finder])
    for key in STRIPPED:
        entry = open_workspace(SHIPPED_BIB).db.find(key)
        assert entry is not None
        evidence = resolver.resolve(entry)
        assert not evidence.unconfirmed and evidence.published_proposal is None
    assert not dblp.hits


def test_preprint_years_start_at_the_earlier_of_entry_and_arxiv_id(tmp_path: Path) -> None:
    reddi = preprint_of("reddi2018convergence")
    query = query_of(reddi, None)
    assert query.years == (2018, 2019) and query.arxiv_id == "1904.09237"
    assert Preprint.from_entry(reddi).year_window == (2018, 2021)
    assert query.people[0].family == ("reddi",)
