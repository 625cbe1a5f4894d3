"""`dlg-bib cite`: APA and IEEE references through pandoc's citeproc, on every kind of entry.

Exact strings on the fixture database (one entry of each kind the shipped database has), and
sanity on every entry of the shipped database, under the one pandoc the `test` extra pins.
"""

from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path

import pytest

from dlg_bib.bibtex.latex import to_text
from dlg_bib.bibtex.names import parse_names
from dlg_bib.export.record import doi_of, year_month_day
from dlg_bib.library.database import open_database
from tests.conftest import FIXTURES, REPO, run_cli

DB = str(FIXTURES / "export" / "db")


def expected(name: str) -> dict[str, str]:
    """Reviewed reference strings: `key<TAB>reference` per line."""
    lines = (FIXTURES / "export" / "cite" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t", 1) for line in lines if line and not line.startswith("#"))


APA = expected("apa.txt")

IEEE = expected("ieee.txt")


def cite(*args: str, db: str = DB) -> list[str]:
    result = run_cli("--bib", db, "cite", *args)
    assert result.returncode == 0, result.stderr
    return [block.strip() for block in result.stdout.split("\n\n") if block.strip()]


@pytest.mark.parametrize("key", list(APA))
def test_apa_on_every_kind_of_entry(key: str) -> None:
    assert cite("--style", "apa", key) == [APA[key]]


@pytest.mark.parametrize("key", list(IEEE))
def test_ieee_on_every_kind_of_entry(key: str) -> None:
    assert cite("--style", "ieee", key) == ["[1] " + IEEE[key]]


def test_ieee_numbers_in_the_order_given_and_resolves_legacy_labels() -> None:
    lines = cite("--style", "ieee", "Ref 8", "tikk2003survey")
    assert lines == ["[1] " + IEEE["ruder2016overview"], "[2] " + IEEE["tikk2003survey"]]


def test_ieee_names_the_event_of_a_paper_without_pages(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@inproceedings{bahdanau2015neural,\n"
        "  author = {Bahdanau, Dzmitry and Cho, Kyunghyun and Bengio, Yoshua},\n"
        "  title = {Neural Machine Translation by Jointly Learning to Align and Translate},\n"
        "  booktitle = {International Conference on Learning Representations ({ICLR})},\n"
        "  year = {2015},\n}\n"
    )
    ieee = cite("--style", "ieee", "bahdanau2015neural", db=str(bib))
    assert ieee == [
        "[1] D. Bahdanau, K. Cho, and Y. Bengio, “Neural machine translation by jointly "
        "learning to align and translate,” presented at the International Conference on "
        "Learning Representations (ICLR), 2015."
    ]
    apa = cite("--style", "apa", "bahdanau2015neural", db=str(bib))
    assert apa[0].endswith(
        "align and translate. International Conference on Learning Representations (ICLR)."
    )


def test_markdown_and_html_formats() -> None:
    markdown = cite("--style", "apa", "--format", "markdown", "aliprantis2006infinite")
    assert markdown == [
        "Aliprantis, C. D., & Border, K. C. (2006). *Infinite dimensional analysis: A "
        "hitchhiker’s guide* (3rd ed.). Springer. <https://doi.org/10.1007/3-540-29587-9>"
    ]
    html = "\n".join(cite("--style", "apa", "--format", "html", "aliprantis2006infinite"))
    assert '<div id="ref-aliprantis2006infinite" class="csl-entry"' in html
    assert "<em>Infinite dimensional analysis: A hitchhiker’s guide</em>" in html


def test_bibtex_format_needs_no_pandoc_and_brings_the_crossref_parent() -> None:
    blocks = cite("--format", "bibtex", "goodfellow2016deep-ch5")
    assert [b.split(",")[0] for b in blocks] == [
        "@incollection{goodfellow2016deep-ch5",
        "@book{goodfellow2016deep",
    ]


def test_other_styles_and_csl_files() -> None:
    chicago = cite("--style", "chicago", "tikk2003survey")[0]
    assert chicago.startswith("Tikk, Domonkos, László T. Kóczy, and Tamás D. Gedeon. 2003.")
    assert "“A Survey on Universal Approximation" in chicago  # Chicago title-cases again
    csl_file = str(REPO / "dlg_bib" / "data" / "csl" / "nature.csl")
    assert cite("--style", csl_file, "tikk2003survey")[0].startswith("1. Tikk, D.")


def test_unknown_keys_and_placeholders_give_exit_1_and_a_list() -> None:
    result = run_cli("--bib", DB, "cite", "tikk2003survey", "nokey1", "Ref 5")
    assert result.returncode == 1
    assert result.stdout.startswith("Tikk, D.")
    assert "unknown keys (not in the database): nokey1" in result.stderr
    assert "placeholders (no bibliographic record yet): Ref 5" in result.stderr


def test_unknown_style_is_a_usage_error() -> None:
    result = run_cli("--bib", DB, "cite", "--style", "nostyle", "tikk2003survey")
    assert result.returncode == 2
    assert "unknown citation style 'nostyle'" in result.stderr and "apa" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_every_shipped_entry_formats_completely(style: str) -> None:
    db = open_database(REPO / "bib")
    entries = [e for e in db.entries if not e.is_placeholder]
    html = "\n".join(
        cite("--style", style, "--format", "html", *[e.key for e in entries], db=str(REPO / "bib"))
    )
    found = {
        part.split('"', 1)[0]: " ".join(
            unescape(re.sub(r"<[^>]+>", " ", part.split(">", 1)[1])).split()
        )
        for part in html.split('<div id="ref-')[1:]
    }
    assert sorted(found) == sorted(e.key for e in entries)
    for entry in entries:
        line = found[entry.key]
        assert not re.search(r"[\\{}]|\bIn\.|\(\)|, ,|\.\.(?!\.)", line), line  # no residue/gaps
        title = " ".join(to_text(entry.get("title"), keep_math=True).split()[:3]).lower()
        assert title in line.lower(), (entry.key, line)
        for name in parse_names(entry.get("author"))[:1]:
            assert to_text(name.family or name.literal, keep_math=True) in line, (entry.key, line)
        year = year_month_day(entry)[0]
        assert (year or "n.d.") in line or (style == "ieee" and not year), (entry.key, line)
        doi = doi_of(entry)
        assert doi is None or doi in line, (entry.key, line)


def test_missing_pandoc_exits_1_with_a_hint_and_bibtex_still_works(tmp_path: Path) -> None:
    # No pandoc anywhere: a `pypandoc` that cannot be imported shadows the extra's, and
    # PATH holds no pandoc (the script's shebang names its Python by absolute path).
    shadow = tmp_path / "shadow" / "pypandoc"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("no pypandoc here")\n')
    env = {**os.environ, "PYTHONPATH": str(shadow.parent), "PATH": str(tmp_path / "empty")}
    result = run_cli("--bib", DB, "cite", "tikk2003survey", env=env)
    assert result.returncode == 1, result.stderr
    assert "error: pandoc is not installed" in result.stderr
    assert "dlg-bib[cite]" in result.stderr and "--format bibtex" in result.stderr
    assert "Traceback" not in result.stderr
    bibtex = run_cli("--bib", DB, "cite", "--format", "bibtex", "tikk2003survey", env=env)
    assert bibtex.returncode == 0, bibtex.stderr
    assert bibtex.stdout.startswith("@article{tikk2003survey,")
