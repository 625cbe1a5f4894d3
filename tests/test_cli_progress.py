"""Progress on long work: a bar on a terminal only, moved once per entry or identifier."""

from __future__ import annotations

import pytest

from dlg_bib.cli.add import ticking
from dlg_bib.cli.enrich import progress
from dlg_bib.enrich import merge
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.run import apply_all
from dlg_bib.library.model import Entry


def test_add_moves_its_bar_once_per_identifier_however_its_turn_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with progress(3, "add") as bar:
        assert bar is None  # not a terminal under pytest: no bar
        assert list(ticking(["a", "b", "c"], bar)) == ["a", "b", "c"]
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    done = []
    with progress(3, "add") as bar:
        for item in ticking(["a", "b", "c"], bar):
            if item == "b":
                continue  # a skipped identifier moves the bar too
            done.append(item)
    err = capsys.readouterr().err
    assert done == ["a", "c"]
    assert "add" in err and "66%" in err and "100%" in err


def test_the_free_copy_step_reports_every_entry_done() -> None:
    entries = [
        Entry("a2020x", "misc", {"title": "{A}", "year": "{2020}"}),
        Entry("b2020y", "misc", {"title": "{B}", "year": "{2020}"}),
    ]
    evidence = {e.key: merge.Evidence(e.key) for e in entries}
    ticks: list[int] = []
    summary, _ = apply_all(
        entries, evidence, frozenset(), FreeCopyFinder(), on_done=lambda: ticks.append(1)
    )
    assert len(ticks) == len(entries)
    assert summary.checked == 2
