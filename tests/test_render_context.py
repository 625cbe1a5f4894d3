"""The view-model: decoded text, formatted references, links, next session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database, Entry, Group, Session, Topic
from dlg_bib.render import context
from dlg_bib.render.context import build_context, next_session

DB = Path(__file__).parent / "fixtures" / "render" / "db"


@pytest.fixture(scope="module")
def ctx() -> context.Context:
    return build_context(open_database(DB), dt.date(2030, 1, 20))


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
    assert math.authors == ["Jan van der Berg", "John Smith Jr."]  # Jr is no given name
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
    # No author-year: the fixture's placeholder has a year, which a citation must not show.
    assert ref.citation == "unidentified (legacy Ref 5)"


def test_chapters_of_one_book_are_told_apart(ctx: context.Context) -> None:
    chapter = ctx.reference("goodfellow2016deepch5")
    book = ctx.reference("goodfellow2016deep")
    assert chapter is not None and book is not None
    assert chapter.citation == book.citation + ", ch. 5"


def _ref(entry_type: str, **fields: str) -> context.Reference:
    entry = Entry("k", entry_type, {k.replace("_", "-"): "{" + v + "}" for k, v in fields.items()})
    db = Database(Group(), [], [], [entry])
    ref = build_context(db, dt.date(2030, 1, 1)).reference("k")
    assert ref is not None
    return ref


def test_editors_edition_series_and_article_number() -> None:
    paper = _ref(
        "inproceedings",
        author="A, Ann",
        editor="Daum{\\'e}, III, Hal and Singh, Aarti",
        title="T",
        booktitle="Proc",
        series="Lecture Notes in Computer Science",
        volume="4109",
        pages="1--2",
        year="2006",
    )
    assert "In: Hal Daumé III and Aarti Singh (eds.), Proc, pp. 1–2. " in paper.text
    assert "Lecture Notes in Computer Science, vol. 4109." in paper.text
    assert "vol. 4109, pp." not in paper.text  # the volume is the series'
    one = _ref("incollection", author="A, Ann", editor="B, Bob", title="T", booktitle="Bk")
    assert "In: Bob B (ed.), Bk." in one.text
    book = _ref("book", author="A, Ann", title="T", edition="3", publisher="P")
    assert "T. 3rd edition. P." in book.text
    article = _ref(
        "article",
        author="A, Ann",
        title="T",
        journal="J",
        volume="54",
        number="6",
        pages="1--35",
        articleno="115",
    )
    assert "J, vol. 54(6), article 115." in article.text and "pp." not in article.text


def test_note_is_shown_and_every_legacy_label_follows_a_separator() -> None:
    ref = _ref("misc", title="T", dlg_note="Read section 5", dlg_legacy="Ref 6, Ref vi")
    assert ref.text == "T. Note: Read section 5. · [Ref 6] · [Ref vi]"
    bare = _ref("misc", title="T", oanote="no legal free copy known", dlg_legacy="Ref 6")
    assert bare.text.endswith("no legal free copy known · [Ref 6]")


def test_first_link_opens_without_a_subscription() -> None:
    paywalled = _ref(
        "article",
        title="T",
        doi="10.1000/x",
        oaurl="https://aclanthology.org/x.pdf",
        oahost="publisher",
    )
    assert paywalled.links[0].kind == "doi"  # the reference list keeps the DOI first
    assert paywalled.open_link is not None
    assert paywalled.open_link.url == "https://aclanthology.org/x.pdf"
    closed = _ref("article", title="T", doi="10.1000/x")
    assert closed.open_link == closed.links[0]


def test_references_sort_with_diacritics_folded() -> None:
    entries = [
        Entry(k, "misc", {"author": "{" + a + "}", "title": "{T}"})
        for k, a in (("b", "Peters, M."), ("a", "P{\\k{e}}kalska, E."), ("c", "Pennington, J."))
    ]
    ctx = build_context(Database(Group(), [], [], entries), dt.date(2030, 1, 1))
    assert [r.key for r in ctx.references] == ["a", "c", "b"]


def test_roles_are_labelled_and_topics_not_repeated(ctx: context.Context) -> None:
    first = ctx.sessions[0]
    assert [(x.role, x.label) for x in first.labelled] == [("main", "Main"), ("reading", "Also")]
    assert [x.ref.key for x in first.headline] == ["cybenko1989approximation"]
    assert first.distinct_topic == "Universal Approximation"
    topics = [Topic("uat", "Universal Approximation Theorem")]
    sessions = [Session(dt.date(2030, 1, 10), "Universal Approximation Theorem (Part 2)", "uat")]
    later = build_context(Database(Group(), topics, sessions, []), dt.date(2031, 1, 1))
    assert later.sessions[0].distinct_topic == ""  # the title already says it
    assert later.term_over is True
    assert ctx.term_over is False


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
    from dlg_bib.bibtex.values import ValueSyntaxError

    fields = context.Fields(Entry("k", "misc", {"title": "{T}", "note": "{a} #"}), None)
    assert fields.text("title") == "T"
    with pytest.raises(ValueSyntaxError):
        fields.get("note")
