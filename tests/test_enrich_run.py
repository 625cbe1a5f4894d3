"""The enrich workflow as a function (enrich/run.py): what it returns, what it writes, how
it reports progress; the CLI only prints this (tests/test_enrich_*.py drive the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import responses

from dlg_bib.enrich.run import METADATA, Request, run
from dlg_bib.library.database import open_workspace
from tests.sources_support import (
    CROSSREF_API,
    CROSSREF_HEADERS,
    copy_enrich_database,
    crossref_body,
)

KEY = "sadasivan2012methylphenidate"
DOI = "10.1371/journal.pone.0033693"


def mock_crossref(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{CROSSREF_API}/works/{DOI}",
        body=crossref_body("work_journal_article_plos.json"),
        content_type="application/json",
        headers=CROSSREF_HEADERS,
    )


def metadata_from_crossref(dry_run: bool) -> Request:
    return Request(keys=(KEY,), use=("crossref",), steps=(METADATA,), dry_run=dry_run)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_run_returns_its_changes_and_writes_only_without_dry_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    bib = copy_enrich_database(tmp_path, monkeypatch)
    before = (bib / "references.bib").read_bytes()
    with responses.RequestsMock() as rsps:
        mock_crossref(rsps)
        summary = run(open_workspace(bib), metadata_from_crossref(dry_run))
    assert (summary.checked, summary.changed, summary.requests) == (1, [KEY], {"crossref": 1})
    assert not summary.findings and not summary.failed
    ((change, entry),) = summary.changes
    assert entry.key == KEY
    assert ("pages", None, "{e33693}") in [(c.name, c.old, c.new) for c in change.changes]
    after = (bib / "references.bib").read_bytes()
    assert (after == before) is dry_run
    if not dry_run:
        assert b"pages = {e33693}" in after


def test_progress_is_reported_once_per_entry_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bib = copy_enrich_database(tmp_path, monkeypatch)
    seen: list[tuple[str, int]] = []
    ticks: list[str] = []

    @contextmanager
    def progress(length: int, label: str) -> Iterator[Callable[[], None] | None]:
        seen.append((label, length))
        yield lambda: ticks.append(label)

    with responses.RequestsMock() as rsps:
        mock_crossref(rsps)
        run(open_workspace(bib), metadata_from_crossref(dry_run=True), progress)
    assert seen == [("enrich", 1), ("free copies", 0)]
    assert ticks == ["enrich"]
