"""BibTeX export: field mapping for classic styles, LaTeX-safe values, deterministic bytes."""

from __future__ import annotations

from pathlib import Path

import bibtexparser
import pytest

from dlg_bib.bibtex.store import parse_bib
from dlg_bib.export import Criteria, export
from dlg_bib.export.bibtex import to_record
from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database
from tests.conftest import FIXTURES

DB = FIXTURES / "export" / "db"


@pytest.fixture(scope="module")
def db() -> Database:
    return open_database(DB)


def one(text: str) -> str:
    entry = parse_bib(Path("t.bib"), text).entries[0]
    return to_record(entry).render()


def fields_of(bib: str) -> dict[str, dict[str, str]]:
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks
    return {
        e.key: {f.key: f.value for f in e.fields} | {"@type": e.entry_type} for e in library.entries
    }


def test_arxiv_preprint_is_misc_with_a_printed_howpublished(db: Database) -> None:
    text = export(db, Criteria(keys=["ruder2016overview"])).text
    assert text == (
        "@misc{ruder2016overview,\n"
        "  author = {Ruder, Sebastian},\n"
        "  title = {An overview of gradient descent optimization algorithms},\n"
        "  howpublished = {arXiv preprint arXiv:1609.04747},\n"
        "  year = {2016},\n"
        "  eprint = {1609.04747},\n"
        "  archiveprefix = {arXiv},\n"
        "  primaryclass = {cs.LG},\n"
        "}\n"
    )


def test_arxiv_article_without_venue_becomes_misc() -> None:
    out = one(
        "@article{k, author={A, B}, title={T}, journal={arXiv preprint arXiv:2101.00001},"
        " year={2021}, url={https://arxiv.org/abs/2101.00001v2}}"
    )
    assert out.startswith("@misc{k,")
    assert "journal" not in out
    assert "howpublished = {arXiv preprint arXiv:2101.00001}" in out
    assert "eprint = {2101.00001}" in out


def test_published_entry_keeps_eprint_and_type(db: Database) -> None:
    entry = fields_of(export(db, Criteria(keys=["lu2021deeponet"])).text)["lu2021deeponet"]
    assert entry["@type"] == "article"
    assert entry["eprint"] == "1910.03193" and entry["archiveprefix"] == "arXiv"
    assert entry["journal"] == "Nature Machine Intelligence"


def test_dlg_fields_and_ids_are_dropped(db: Database) -> None:
    text = export(db, Criteria()).text
    assert "dlg-" not in text
    assert "ids =" not in text


def test_values_are_ascii_latex_and_macros_resolved(db: Database) -> None:
    text = export(db, Criteria()).text
    assert text.isascii()
    entries = fields_of(text)
    assert entries["tikk2003survey"]["journal"] == "International Journal of Approximate Reasoning"
    assert entries["vaswani2017attention"]["author"].endswith(
        "Kaiser, {\\L}ukasz and Polosukhin, Illia"
    )
    assert (
        entries["scarselli1998universal"]["doi"] == "10.1016/S0893-6080(97)00097-X"
    )  # URL form fixed
    assert entries["scarselli1998universal"]["pages"] == "15--37"


def test_month_is_a_macro_and_titles_protect_acronyms(db: Database) -> None:
    text = export(db, Criteria(keys=["devlin2019bert", "pennington2014glove"])).text
    assert "  month = jun,\n" in text
    assert "title = {{BERT}: Pre-training of Deep Bidirectional" in text
    assert "title = {{GloVe}: Global Vectors for Word Representation}" in text
    assert "({EMNLP})" in text  # already braced: not braced again


def test_chapter_with_title_and_crossref_becomes_incollection_and_book_gets_booktitle(
    db: Database,
) -> None:
    entries = fields_of(export(db, Criteria(keys=["goodfellow2016deep-ch5"])).text)
    assert list(entries) == ["goodfellow2016deep-ch5", "goodfellow2016deep"]
    assert entries["goodfellow2016deep-ch5"]["@type"] == "incollection"
    assert entries["goodfellow2016deep-ch5"]["crossref"] == "goodfellow2016deep"
    assert entries["goodfellow2016deep"]["booktitle"] == "Deep Learning"


def test_web_page_link_goes_into_howpublished_or_note(db: Database) -> None:
    entries = fields_of(
        export(db, Criteria(keys=["karpathy2015unreasonable", "wikipedia2021convolution"])).text
    )
    blog = entries["karpathy2015unreasonable"]
    assert blog["howpublished"] == "Blog post"
    assert (
        blog["note"]
        == "\\url{https://karpathy.github.io/2015/05/21/rnn-effectiveness/}. Accessed 2021-11-10"
    )
    assert "url" not in blog
    wiki = entries["wikipedia2021convolution"]
    assert wiki["howpublished"].startswith(
        "\\url{https://en.wikipedia.org/w/index.php?title=Convolution&oldid="
    )


def test_entries_without_author_or_year_get_sort_key_and_nd() -> None:
    out = one("@misc{w, title={Convolution}, howpublished={Wikipedia}, url={https://e.org/c}}")
    assert "key = {{Wikipedia}}" in out and "year = {n.d.}" in out


def test_numeric_edition_becomes_a_word(db: Database) -> None:
    assert "edition = {Third}" in export(db, Criteria(keys=["aliprantis2006infinite"])).text


def test_bare_specials_from_remote_data_are_escaped() -> None:
    out = one(
        "@article{k, title={R&D at 50%}, journal={J & K}, year={2020}, author={A, B},"
        " url={https://x.org/?a=1&b=2%20}}"
    )
    assert "title = {{R}\\&{D} at 50\\%}" in out and "journal = {J \\& K}" in out
    assert "url = {https://x.org/?a=1&b=2%20}" in out  # URLs are verbatim


def test_output_is_deterministic_and_sorted(db: Database) -> None:
    first = export(db, Criteria()).text
    again = export(open_database(DB), Criteria()).text
    assert first == again
    keys = list(fields_of(first))
    assert keys[:-1] == sorted(keys[:-1], key=str.lower) and keys[-1] == "goodfellow2016deep"


def test_entry_cited_by_alias_is_written_under_that_name(db: Database) -> None:
    only_alias = fields_of(export(db, Criteria(keys=["vaswani2017"])).text)
    assert list(only_alias) == ["vaswani2017"]
    assert only_alias["vaswani2017"]["title"] == "Attention Is All You Need"
    both = fields_of(export(db, Criteria(keys=["vaswani2017", "vaswani2017attention"])).text)
    assert list(both) == ["vaswani2017attention", "vaswani2017"]
    legacy = fields_of(export(db, Criteria(keys=["Ref 14"])).text)  # not a valid key: real key
    assert list(legacy) == ["vaswani2017attention"]


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_group_bookkeeping_stays_out_of_exports(fmt: str) -> None:
    """Tags, legacy labels and free-copy records are the group's, not the paper's."""
    db = open_database(FIXTURES.parent.parent / "bib")
    text = export(db, Criteria(), fmt).text
    fields = {name for block in parse_bib(Path("x.bib"), text).entries for name in block.fields}
    assert len(fields) > 10
    assert not {f for f in fields if f.startswith(("dlg-", "oa"))}


# ---- real-world shapes (issue 13) ---------------------------------------------------------

REALWORLD = FIXTURES / "export" / "realworld" / "faithful.bib"


@pytest.fixture(scope="module")
def realworld() -> dict[str, dict[str, str]]:
    text = export(open_database(REALWORLD), Criteria()).text
    return fields_of(text)


@pytest.mark.parametrize(
    ("key", "month"),
    [
        ("octmonth1988", '"10~" # jan'),  # BibTeX prints "10 January": kept as written
        ("summer1990", "{Summer}"),
        ("twomonths1991", 'jan # " / " # feb'),  # was truncated to `jan`
        ("junemonth1992", "jun"),  # one month: the macro, a lossless rewrite
    ],
)
def test_month_is_rewritten_only_when_nothing_is_lost(
    realworld: dict[str, dict[str, str]], key: str, month: str
) -> None:
    written = REALWORLD.read_text().split(f"{{{key},")[1].split("\n}")[0]
    assert f"month = {month}," in written or month == "jun"
    exported = export(open_database(REALWORLD), Criteria(keys=[key])).text
    assert f"  month = {month},\n" in exported


def test_a_date_range_is_carried_through_beside_the_year(
    realworld: dict[str, dict[str, str]],
) -> None:
    fields = realworld["range1994"]
    assert fields["date"] == "1994-01/1994-02" and fields["year"] == "1994"
    assert "month" not in fields


def test_export_adds_only_a_braced_sort_key_and_nothing_else(
    realworld: dict[str, dict[str, str]],
) -> None:
    """The only fields the export adds are `key` (no author/editor: styles sort by it)
    and `year = {n.d.}`; the key is braced, so natbib's label parser does not split it at
    the title's parentheses."""
    original = {e.key: e for e in open_database(REALWORLD).entries}
    renamed = {"journaltitle": "journal"}
    for key, fields in realworld.items():
        written = {renamed.get(name, name) for name in original[key].fields} | {"@type"}
        added = set(fields) - written - {"year"}  # year: from a biblatex date
        assert added <= {"key"}, (key, added)
    assert realworld["parens2020"]["key"] == ("{Tools (and More) for Parsing: A Survey (Part 1)}")
    assert "key" not in realworld["repeated2019"]  # it has an author


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_a_field_no_style_prints_is_copied_as_written(fmt: str) -> None:
    """LaTeX never reads `adsurl` (biber drops it, BibTeX styles ignore it): escaping its `%`
    would only corrupt the URL. `note` is printed, so its `%` is escaped."""
    db = open_database(FIXTURES / "export" / "realworld" / "unprinted_fields.bib")
    (fields,) = fields_of(export(db, Criteria(), fmt).text).values()
    assert fields["adsurl"] == "https://ui.adsabs.harvard.edu/abs/2013A%26A...558A..33A"
    assert fields["bdsk-url-1"] == "https://dx.doi.org/10.1051%2F0004-6361%2F201322068"
    assert fields["note"] == r"Seen by 50\% of readers"
