"""biblatex export: @online preprints with eprinttype, ISO dates, ids kept, biblatex names."""

from __future__ import annotations

from pathlib import Path

import bibtexparser
import pytest

from dlg_bib.bibtex.store import parse_bib
from dlg_bib.export import Criteria, export
from dlg_bib.export.biblatex import to_record
from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database
from tests.conftest import FIXTURES

DB = FIXTURES / "export" / "db"


@pytest.fixture(scope="module")
def db() -> Database:
    return open_database(DB)


def entries(text: str) -> dict[str, dict[str, str]]:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return {
        e.key: {f.key: f.value for f in e.fields} | {"@type": e.entry_type} for e in library.entries
    }


def biblatex(db: Database, *keys: str) -> dict[str, dict[str, str]]:
    return entries(export(db, Criteria(keys=list(keys)), "biblatex").text)


def test_arxiv_preprint_is_online_with_eprint_fields(db: Database) -> None:
    assert export(db, Criteria(keys=["ruder2016overview"]), "biblatex").text == (
        "@online{ruder2016overview,\n"
        "  author = {Ruder, Sebastian},\n"
        "  title = {An overview of gradient descent optimization algorithms},\n"
        "  date = {2016},\n"
        "  eprint = {1609.04747},\n"
        "  eprinttype = {arxiv},\n"
        "  eprintclass = {cs.LG},\n"
        "  url = {https://arxiv.org/abs/1609.04747},\n"
        "}\n"
    )


def test_published_article_keeps_type_with_eprint_and_doi(db: Database) -> None:
    entry = biblatex(db, "lu2021deeponet")["lu2021deeponet"]
    assert entry["@type"] == "article"
    assert entry["journaltitle"] == "Nature Machine Intelligence"
    assert (entry["eprinttype"], entry["eprintclass"]) == ("arxiv", "cs.LG")
    assert entry["doi"] == "10.1038/s42256-021-00302-5"
    assert "journal" not in entry and "archiveprefix" not in entry


def test_year_and_month_become_an_iso_date(db: Database) -> None:
    found = biblatex(db, "devlin2019bert", "scarselli1998universal")
    assert found["devlin2019bert"]["date"] == "2019-06"
    assert found["scarselli1998universal"]["date"] == "1998-01"
    assert "year" not in found["devlin2019bert"] and "month" not in found["devlin2019bert"]
    assert found["devlin2019bert"]["location"] == "Minneapolis, Minnesota"


def test_ids_are_kept_and_dlg_fields_dropped(db: Database) -> None:
    text = export(db, Criteria(), "biblatex").text
    assert "ids = {vaswani2017}" in text
    assert "dlg-" not in text


def test_web_page_without_howpublished_is_online_with_urldate() -> None:
    entry = parse_bib(
        Path("t.bib"),
        "@misc{w, title={Convolution}, url={https://e.org/c}, urldate={2021-11-30}, year={2021}}",
    ).entries[0]
    out = to_record(entry).render()
    assert out.startswith("@online{w,")
    assert "urldate = {2021-11-30}" in out and "url = {https://e.org/c}" in out


def test_non_numeric_year_stays_a_year() -> None:
    entry = parse_bib(Path("t.bib"), "@article{k, title={T}, year={in press}}").entries[0]
    out = to_record(entry).render()
    assert "year = {in press}" in out and "date" not in out


def test_crossref_chapter_keeps_inbook_before_its_book(db: Database) -> None:
    found = biblatex(db, "goodfellow2016deep-ch6")
    assert list(found) == ["goodfellow2016deep-ch6", "goodfellow2016deep"]
    assert found["goodfellow2016deep-ch6"]["@type"] == "inbook"
    assert "booktitle" not in found["goodfellow2016deep"]  # biber inherits title -> booktitle


# ---- real-world shapes (issue 13) ---------------------------------------------------------

REALWORLD = FIXTURES / "export" / "realworld" / "faithful.bib"


@pytest.mark.parametrize(
    ("key", "expected", "absent"),
    [
        ("range1994", ["date = {1994-01/1994-02}"], ["year =", "month ="]),
        ("junemonth1992", ["date = {1992-06}"], ["year =", "month ="]),
        ("summer1990", ["year = {1990}", "month = {Summer}"], ["date ="]),
        ("octmonth1988", ["year = {1988}", 'month = "10~" # jan'], ["date ="]),
        ("twomonths1991", ["year = {1991}", 'month = jan # " / " # feb'], ["date ="]),
    ],
)
def test_dates_are_rewritten_only_when_nothing_is_lost(
    key: str, expected: list[str], absent: list[str]
) -> None:
    text = export(open_database(REALWORLD), Criteria(keys=[key]), "biblatex").text
    for line in expected:
        assert f"  {line},\n" in text, (key, line, text)
    for start in absent:
        assert f"  {start}" not in text, (key, start, text)
