"""The view-model: decoded text, formatted references, links, next session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dlg_bib.database import open_database
from dlg_bib.model import Database, Entry, Group, Session
from dlg_bib.render import context
from dlg_bib.render.context import build_context, decode, next_session

DB = Path(__file__).parent / "fixtures" / "render" / "db"


@pytest.fixture(scope="module")
def ctx() -> context.Context:
    return build_context(open_database(DB), dt.date(2030, 1, 20))


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"P{\k{e}}kalska, El{\.{z}}bieta", "Pękalska, Elżbieta"),
        (r"L{\'a}szl{\'o}", "László"),
        (r"{BERT}: Pre-training -- 50\% \& more", "BERT: Pre-training – 50% & more"),
        (r"$\ell_1$-regularization", "ℓ_1-regularization"),
        (r"\input{/etc/passwd}", r"\input{/etc/passwd}"),
        (r"a \write18{rm -rf}", r"a \write18{rm -rf}"),
        ('#import "/etc/passwd"', '#import "/etc/passwd"'),
        ("plain  text\nwrapped", "plain text wrapped"),
    ],
)
def test_decode(latex: str, text: str) -> None:
    assert decode(latex) == text


def test_reference_is_formatted_in_full(ctx: context.Context) -> None:
    ref = ctx.reference("cybenko1989approximation")
    assert ref is not None
    assert ref.text == (
        "George Cybenko (1989). Approximation by Superpositions of a Sigmoidal Function. "
        "Mathematics of Control, Signals and Systems, vol. 2(4), pp. 303–314. "
        "doi:10.1007/BF02551274 · no legal free copy known · [Ref iii]"
    )
    assert ref.citation == "Cybenko (1989)"
    assert ref.paper_url == "https://doi.org/10.1007/BF02551274"


def test_names_are_decoded_with_particles_and_suffixes(ctx: context.Context) -> None:
    ref = ctx.reference("pekalska2006noneuclidean")
    assert ref is not None
    assert ref.authors == ["Elżbieta Pękalska", "Bernhard Schölkopf", "László T. Kóczy"]
    assert ref.citation == "Pękalska et al. (2006)"
    math = ctx.reference("hostile2023math")
    assert math is not None
    assert math.authors == ["Jan van der Berg", "John Smith, Jr."]
    assert math.citation == "van der Berg and Smith (2023)"


def test_crossref_chapter_inherits_from_its_book(ctx: context.Context) -> None:
    chapter = ctx.reference("goodfellow2016deepch5")
    assert chapter is not None
    assert chapter.authors == ["Ian Goodfellow", "Yoshua Bengio", "Aaron Courville"]
    assert chapter.container == "Deep Learning"
    assert chapter.year == "2016"
    assert "In: Deep Learning, chapter 5. MIT Press, Cambridge, MA." in chapter.text


def test_only_http_links(ctx: context.Context) -> None:
    for ref in ctx.references:
        for link in ref.links:
            assert link.url.startswith(("https://", "http://")), (ref.key, link)
        for segment in ref.segments:
            assert segment.url == "" or segment.url.startswith("http")
    imported = ctx.reference("hostile2020import")
    assert imported is not None and imported.links == []  # url = javascript:…
    ftp = ctx.reference("hostile2020input")
    assert ftp is not None and ftp.links == []


def test_links_order_doi_arxiv_url(ctx: context.Context) -> None:
    ref = ctx.reference("hostile2021script")
    assert ref is not None
    assert [(k.kind, k.url) for k in ref.links] == [
        ("arxiv", "https://arxiv.org/abs/1706.03762"),
        ("free", "https://arxiv.org/pdf/1706.03762"),
    ]
    assert ref.arxiv == "1706.03762"


def test_free_copy_is_labelled_and_only_http(ctx: context.Context) -> None:
    script = ctx.reference("hostile2021script")
    assert script is not None
    assert script.links[1].label == "free copy (arXiv, submitted)"
    # A free copy that is not http(s) is never a link, and its host text is not markup.
    link = ctx.reference("hostile2022link")
    assert link is not None
    assert [k.kind for k in link.links] == ["url"]
    assert "javascript" not in " ".join(k.url for k in link.links)
    # No free copy and a note: the note is part of the reference, after the links.
    cybenko = ctx.reference("cybenko1989approximation")
    assert cybenko is not None
    assert cybenko.segments[-3].text == "no legal free copy known"


def test_doi_url_is_normalised_and_encoded(ctx: context.Context) -> None:
    ref = ctx.reference("pekalska2006noneuclidean")
    assert ref is not None
    assert ref.doi.startswith("10.1002/(SICI)")
    assert ref.links[0].url.startswith("https://doi.org/10.1002/%28SICI%29")


def test_placeholder_is_cited_by_its_legacy_label(ctx: context.Context) -> None:
    ref = ctx.reference("unknown2030ref5")
    assert ref is not None and ref.placeholder
    assert ref.citation == "Ref 5 (2030)"


def test_sessions_and_next(ctx: context.Context) -> None:
    assert [s.status for s in ctx.sessions] == ["past", "past", "next", "upcoming"]
    assert ctx.next_session is not None and ctx.next_session.date == "2030-01-24"
    first = ctx.sessions[0]
    assert [r.key for r in first.main] == ["cybenko1989approximation"]
    assert [r.key for r in first.readings] == ["pekalska2006noneuclidean"]
    assert first.topic_title == "Universal Approximation"
    assert first.date_label == "Thursday, January 10, 2030"


def test_next_session_boundaries() -> None:
    sessions = [Session(dt.date(2030, 1, d), "", "") for d in (10, 17)]
    assert next_session(sessions, dt.date(2030, 1, 10)) is sessions[0]  # the same day
    assert next_session(sessions, dt.date(2030, 1, 11)) is sessions[1]
    assert next_session(sessions, dt.date(2030, 1, 18)) is None


def test_only_requested_references_are_built() -> None:
    entry = Entry("k", "misc", {"title": "{T}"})
    db = Database(Group(), [], [], [entry, Entry("j", "misc", {"title": "{U}"})])
    ctx = build_context(db, dt.date(2030, 1, 1), keys={"k"})
    assert [r.key for r in ctx.references] == ["k"]


def test_anchor_is_safe_and_unique() -> None:
    taken: set[str] = set()
    assert context.anchor_of('Ref 1"><script>', taken) == "ref-ref-1-script"
    assert context.anchor_of("ref-1-script", taken) == "ref-ref-1-script-2"


@pytest.mark.parametrize(
    "value",
    [
        "Plain title",
        "pp. 12--21 --- a range",
        "50% off",
        "``quoted''",
        "it's",
        "e\u0301t\u00e9",
        "  spaces\n inside ",
        "{Braced}",
    ],
)
def test_plain_values_decode_as_the_latex_path_does(value: str) -> None:
    """decode skips the LaTeX decoder for values without LaTeX, with the same result."""
    from dlg_bib.render.latex import fast_latex_to_text
    from dlg_bib.text import latex_to_text

    fast = fast_latex_to_text(value)
    assert decode(value) == (fast if fast is not None else latex_to_text(value, keep_math=False))


def test_fields_are_resolved_once_and_inherited() -> None:
    book = Entry("book", "book", {"title": "{Deep Learning}", "year": "2016", "month": "nov"})
    chapter = Entry("ch", "inbook", {"title": "{Ch. 5}", "year": "{}", "crossref": "{book}"})
    fields = context.Fields(chapter, book)
    assert fields.get("booktitle") == "Deep Learning"  # the book's title
    assert fields.get("year") == "2016"  # empty in the chapter
    assert fields.get("month") == "November"
    assert fields.get("title") == "Ch. 5"  # not inherited
    assert fields.get("pages") == ""


def test_a_broken_field_fails_only_when_asked_for() -> None:
    from dlg_bib.values import ValueSyntaxError

    fields = context.Fields(Entry("k", "misc", {"title": "{T}", "note": "{a} #"}), None)
    assert fields.text("title") == "T"
    with pytest.raises(ValueSyntaxError):
        fields.get("note")
