"""CSL-JSON export: valid against the CSL schema, decoded text, crossref inheritance."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dlg_bib.export import Criteria, csl, export
from dlg_bib.library.database import open_database
from dlg_bib.library.model import Entry
from tests.conftest import FIXTURES, REPO, pandoc

SCHEMA = json.loads((FIXTURES / "export" / "csl-data.json").read_text())


def items(db_path: Any, **criteria: Any) -> dict[str, dict[str, Any]]:
    text = export(open_database(db_path), Criteria(**criteria), "csl-json").text
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA)
    return {item["id"]: item for item in data}


@pytest.mark.parametrize(
    "db_path", [FIXTURES / "export" / "db", REPO / "bib"], ids=["fixture", "shipped"]
)
def test_whole_database_validates_against_the_csl_schema(db_path: Any) -> None:
    found = items(db_path)
    assert found
    assert all(item["type"] != "document" or "title" in item for item in found.values())


def test_types_names_and_text_are_decoded() -> None:
    found = items(FIXTURES / "export" / "db")
    pekalska = found["pekalska2006noneuclidean"]
    assert pekalska["type"] == "paper-conference"
    assert pekalska["author"][0] == {"family": "Pękalska", "given": "Elżbieta"}
    assert pekalska["title"] == "Non-Euclidean or Non-metric Measures Can Be Informative"
    assert (
        pekalska["container-title"] == "Structural, Syntactic, and Statistical Pattern Recognition"
    )
    assert pekalska["issued"] == {"date-parts": [[2006]]}
    assert found["tikk2003survey"]["type"] == "article-journal"
    assert found["tikk2003survey"]["issue"] == "2"
    assert found["wikipedia2021convolution"]["author"] == [{"literal": "Wikipedia contributors"}]
    assert found["radford2019language"]["type"] == "report"
    assert found["radford2019language"]["publisher"] == "OpenAI"


def test_arxiv_preprint_is_an_article_numbered_by_arxiv() -> None:
    ruder = items(FIXTURES / "export" / "db")["ruder2016overview"]
    assert ruder["type"] == "article"
    assert ruder["number"] == "arXiv:1609.04747"
    assert ruder["publisher"] == "arXiv"
    assert ruder["URL"] == "https://arxiv.org/abs/1609.04747"


def test_chapter_inherits_from_its_crossref_book() -> None:
    found = items(FIXTURES / "export" / "db", keys=["goodfellow2016deep-ch5"])
    chapter = found["goodfellow2016deep-ch5"]
    assert chapter["type"] == "chapter"
    assert chapter["container-title"] == "Deep Learning"
    assert chapter["author"][0] == {"family": "Goodfellow", "given": "Ian"}
    assert chapter["publisher"] == "MIT Press"
    assert chapter["chapter-number"] == "5"
    assert chapter["issued"] == {"date-parts": [[2016]]}


def test_web_page_has_site_and_dates() -> None:
    blog = items(FIXTURES / "export" / "db")["karpathy2015unreasonable"]
    assert blog["type"] == "webpage"
    assert blog["container-title"] == "Blog post"
    assert blog["issued"] == {"date-parts": [[2015, 5]]}
    assert blog["accessed"] == {"date-parts": [[2021, 11, 10]]}


def test_edition_words_become_numbers() -> None:
    assert items(FIXTURES / "export" / "db")["aliprantis2006infinite"]["edition"] == "3"


@pytest.mark.parametrize(
    "value",
    [
        [
            {
                "id": "a",
                "title": 'Ünïcödé "quoted" \\ back\nslash',
                "issued": {"date-parts": [[2021, 7]]},
            }
        ],
        [{"author": [{"family": "Pękalska", "given": "Elżbieta"}], "custom": {"dlg": {}}}],
        [{"empty": [], "nested": {"deeper": {"list": [1, 2.5, True, None]}}}],
        [],
        [{"emoji": "🤖 \u2028 line separator", "tab": "a\tb"}],
    ],
)
def test_to_json_writes_what_json_dumps_writes(value: list[dict[str, object]]) -> None:
    """One item a line (the index's layout), each as `json.dumps` writes it."""
    lines = [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in value]
    expected = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    assert csl.to_json(value) == expected
    assert json.loads(csl.to_json(value)) == value


# ---- what pandoc keeps (issue 13, rule 11) -------------------------------------------------

REALWORLD = FIXTURES / "export" / "realworld" / "faithful.bib"
CSL_VARIABLES = frozenset(SCHEMA["items"]["properties"])


def _pandoc_items(path: Path) -> dict[str, dict[str, Any]]:
    done = subprocess.run(
        [pandoc(), "-f", "bibtex", "-t", "csljson", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return {item["id"]: item for item in json.loads(done.stdout)}


@pytest.mark.parametrize(
    "bib", [REALWORLD, FIXTURES / "export" / "db" / "references.bib"], ids=["realworld", "db"]
)
def test_keeps_every_csl_variable_pandoc_keeps(bib: Path) -> None:
    theirs = _pandoc_items(bib)
    ours = items(bib, include_placeholders=True)
    assert set(theirs) <= set(ours)
    for key, item in theirs.items():
        mine = ours[key]
        # Each CSL variable pandoc fills is here, or its text is, under the variable this
        # mapping files it under (a web page's `howpublished` is its site, not a publisher).
        lost = {
            name
            for name, value in item.items()
            if name in CSL_VARIABLES
            and value not in ("", [], {})
            and name not in mine
            and value not in mine.values()
        }
        assert not lost, (key, lost)


def test_subtitle_note_translator_language_abstract_keywords() -> None:
    rich = items(REALWORLD)["rich2001"]
    assert rich["title"] == "Main Title: A Subtitle"  # as pandoc joins them
    assert rich["title-short"] == "Main Title"
    assert rich["note"] == "Translated from the French"
    assert rich["translator"] == [{"family": "Smith", "given": "Ann"}]
    assert rich["language"] == "fr-FR"
    assert rich["abstract"] == "What the book is about."
    assert rich["keyword"] == "parsing, bibliographies"
    assert rich["citation-key"] == "rich2001"


def test_a_date_range_is_a_csl_range() -> None:
    assert items(REALWORLD)["range1994"]["issued"] == {"date-parts": [[1994, 1], [1994, 2]]}


def test_unknown_macros_keep_their_text_in_csl_items() -> None:
    """Issue 13, rule 9: `\\texttt`, `\\textup`, `\\mbox` and unknown macros keep their
    argument's text, also where the math sends the value to pylatexenc."""
    title = (
        r"{Liquid \texttt{Haskell}} on $\mathbb{R}$: "
        r"\textup{refinement} types, \mbox{and} \foo{more}"
    )
    entry = Entry("k", "article", {"title": "{" + title + "}", "author": "{Vazou, Niki}"})
    item = csl.to_items([entry])[0]
    assert item["title"] == "Liquid Haskell on ℝ: refinement types, and more"
    assert item["title-short"] == "Liquid Haskell on ℝ"
