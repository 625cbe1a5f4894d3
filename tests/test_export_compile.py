"""Exports compile cleanly: pdflatex + bibtex (plain, plainnat) and pdflatex + biber.

The sample paper in tests/fixtures/export/paper/ is compiled against an `.aux`-driven
subset, and a `\\nocite{*}` document against the whole fixture database and the whole
shipped database (bib/). Each run must give 0 undefined citations, 0 BibTeX/biber warnings
and 0 LaTeX errors (read from the .blg and .log files). Outside CI the tests skip when TeX is
not installed; in CI (CI set) they fail instead, because .ci/run installs TeX.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bench.texcompile import (
    BIBLATEX_DOCUMENT,
    NATBIB_DOCUMENT,
    compile_biber,
    compile_bibtex,
)
from bench.texcompile import pdflatex as _pdflatex
from dlg_bib.library.database import open_database
from tests.conftest import FIXTURES, REPO, run_cli

PAPER = FIXTURES / "export" / "paper"
FIXTURE_DB = FIXTURES / "export" / "db"
SHIPPED_DB = REPO / "bib"

pytestmark = pytest.mark.slow


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must install {', '.join(missing)} (.ci/run)")
    pytest.skip(f"not installed: {', '.join(missing)}")


def _export(db: Path, out: Path, fmt: str, *args: str) -> None:
    result = run_cli("--bib", str(db), "export", "--format", fmt, "-o", str(out), *args)
    assert result.returncode == 0, result.stderr


def _paper_dir(tmp_path: Path) -> Path:
    work = tmp_path / "paper"
    shutil.copytree(PAPER, work)
    return work


# ---- the whole database with \nocite{*} ----------------------------------------------------


DATABASES = [pytest.param(FIXTURE_DB, id="fixture-db"), pytest.param(SHIPPED_DB, id="shipped-db")]


BIBTEX_STYLES = [
    ("nocite-all-classic", "plain"),
    ("nocite-all-classic", "alpha"),
    ("nocite-all-classic", "ieeetr"),
    ("nocite-all-natbib", "plainnat"),
    ("nocite-all-natbib", "abbrvnat"),
]


@pytest.mark.parametrize("db", DATABASES)
@pytest.mark.parametrize(("job", "style"), BIBTEX_STYLES)
def test_whole_database_compiles_with_bibtex(
    tmp_path: Path, db: Path, job: str, style: str
) -> None:
    require("pdflatex", "bibtex")
    work = _paper_dir(tmp_path)
    _export(db, work / "refs.bib", "bibtex")
    report = compile_bibtex(work, job, style)
    report.assert_clean()
    bbl = (work / f"{job}.bbl").read_text()
    exported = (work / "refs.bib").read_text()
    assert bbl.count("\\bibitem") == exported.count("\n@") + 1  # every entry is listed


@pytest.mark.parametrize("db", DATABASES)
def test_whole_database_compiles_with_biber(tmp_path: Path, db: Path) -> None:
    require("pdflatex", "biber")
    work = _paper_dir(tmp_path)
    _export(db, work / "refs.bib", "biblatex")
    report = compile_biber(work, "nocite-all-biblatex")
    report.assert_clean()
    assert "\\entry{" in (work / "nocite-all-biblatex.bbl").read_text()


# ---- an .aux-driven subset of the fixture database ------------------------------------------


@pytest.mark.parametrize(("job", "style"), [("paper-plain", "plain"), ("paper-natbib", "plainnat")])
def test_aux_subset_compiles_with_bibtex(tmp_path: Path, job: str, style: str) -> None:
    require("pdflatex", "bibtex")
    work = _paper_dir(tmp_path)
    _pdflatex(work, job, style)  # writes paper.aux and chapter.aux
    _export(FIXTURE_DB, work / "refs.bib", "bibtex", "--aux", str(work / f"{job}.aux"))
    exported = (work / "refs.bib").read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", exported, re.MULTILINE)
    # Cited keys (main file and the \include'd chapter) plus the crossref'd book, last.
    assert "lu2021deeponet" in keys and "wikipedia2021convolution" in keys
    assert keys[-1] == "goodfellow2016deep"
    assert "aliprantis2006infinite" not in keys  # not cited
    if job == "paper-natbib":  # cites the alias only: the entry is written under it
        assert "vaswani2017" in keys and "vaswani2017attention" not in keys
    report = compile_bibtex(work, job, style, already_ran_latex=True)
    report.assert_clean()


def test_aux_subset_compiles_with_biber(tmp_path: Path) -> None:
    require("pdflatex", "biber")
    work = _paper_dir(tmp_path)
    _pdflatex(work, "paper-biblatex", None)
    aux = work / "paper-biblatex.aux"
    assert "\\abx@aux@cite{0}{vaswani2017}" in aux.read_text()
    _export(FIXTURE_DB, work / "refs.bib", "biblatex", "--aux", str(aux))
    exported = (work / "refs.bib").read_text()
    assert "ids = {vaswani2017}" in exported  # the alias the paper cites
    report = compile_biber(work, "paper-biblatex", already_ran_latex=True)
    report.assert_clean()


# ---- real-world shapes (issue 13): never worse than the original file --------------------

REALWORLD = FIXTURES / "export" / "realworld" / "faithful.bib"


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_realworld_export_compiles_no_worse_than_the_original(tmp_path: Path, fmt: str) -> None:
    """The exported file against the original, in the same `\\nocite{*}` document: no
    more errors or warnings (the original warns about the repeated field and the entry
    without author or key), and every entry listed."""
    require("pdflatex", "bibtex" if fmt == "bibtex" else "biber")
    reports = {}
    for label in ("original", "export"):
        work = tmp_path / label
        work.mkdir()
        if label == "original":
            shutil.copy2(REALWORLD, work / "refs.bib")
        else:
            _export(REALWORLD, work / "refs.bib", fmt)
        if fmt == "bibtex":
            (work / "doc.tex").write_text(NATBIB_DOCUMENT)
            reports[label] = compile_bibtex(work, "doc", None)
        else:
            (work / "doc.tex").write_text(BIBLATEX_DOCUMENT)
            reports[label] = compile_biber(work, "doc")
    original, exported = reports["original"], reports["export"]
    assert exported.errors == []
    # biblatex, like the original, says "Month out of range" for `Summer`: kept as written.
    assert exported.problems <= original.problems, (exported.bib_warnings, exported.undefined)
    every = len(open_database(REALWORLD).entries)
    assert exported.entries == every >= original.entries  # all of them; never fewer
    if fmt == "bibtex":
        assert exported.bib_warnings == []  # 0 warnings: what the added key is for
