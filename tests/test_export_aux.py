"""Reading a paper's citations from .aux files: BibTeX and biber lines, \\@input, \\nocite{*}."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlg_bib.errors import ParseError
from dlg_bib.export.aux import AuxCitations, parse_aux_text, read_aux
from tests.conftest import FIXTURES

AUX = FIXTURES / "export" / "aux"


def test_bibtex_citations_split_on_commas_in_order_of_first_citation() -> None:
    citations = AuxCitations()
    inputs = parse_aux_text("\\citation{b,a}\n\\citation{ c }\n\\citation{a}\n", citations)
    assert citations.keys == ["b", "a", "c"]
    assert inputs == [] and not citations.cite_all


def test_biber_lines_take_the_key_not_the_refsection() -> None:
    citations = AuxCitations()
    text = "\\abx@aux@cite{0}{x}\n\\abx@aux@segm{0}{0}{x}\n\\abx@aux@cite{2}{y}\n"
    parse_aux_text(text, citations)
    assert citations.keys == ["x", "y"]


def test_old_biblatex_one_argument_form() -> None:
    cited = read_aux([AUX / "biblatex-old.aux"])
    assert cited.keys == ["pennington2014glove"]


@pytest.mark.parametrize("name", ["bibtex-nocite-all.aux", "biber-nocite-all.aux"])
def test_nocite_all_in_both_forms(name: str) -> None:
    cited = read_aux([AUX / name])
    assert cited.cite_all and cited.keys == []


def test_included_aux_files_are_read_recursively_once_and_cycles_stop() -> None:
    cited = read_aux([AUX / "bibtex-paper.aux"])
    assert cited.keys == [
        "vaswani2017attention",
        "devlin2019bert",
        "pennington2014glove",
        "Ref 1",
        "nosuchkey2020",
        "lu2021deeponet",
        "goodfellow2016deep-ch5",
    ]
    assert [p.name for p in cited.files] == ["bibtex-paper.aux", "operators.aux", "loop.aux"]
    assert cited.missing == [AUX / "chapters" / "missing.aux"]


def test_biber_paper_with_included_chapter() -> None:
    cited = read_aux([AUX / "biber-paper.aux"])
    assert cited.keys == [
        "vaswani2017",
        "tikk2003survey",
        "karpathy2015unreasonable",
        "ruder2016overview",
    ]


def test_several_top_level_files_add_up() -> None:
    cited = read_aux([AUX / "biblatex-old.aux", AUX / "biber-chapter.aux"])
    assert cited.keys == ["pennington2014glove", "karpathy2015unreasonable"]


def test_missing_top_level_aux_is_a_parse_error_with_hint(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as info:
        read_aux([tmp_path / "paper.aux"])
    assert info.value.hint and "pdflatex" in info.value.hint


def test_citations_remember_the_file_and_line_of_their_first_citation() -> None:
    citations = AuxCitations()
    text = "\\relax\n\\citation{a}\n\n\\abx@aux@cite{0}{b}\n\\citation{a,c}\n"
    parse_aux_text(text, citations, source="paper.aux")
    assert citations.where == {"a": "paper.aux:2", "b": "paper.aux:4", "c": "paper.aux:5"}
