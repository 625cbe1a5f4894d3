"""The database shipped in bib/: the Fall 2021 reading list, checked against the legacy table.

These tests read the real `bib/` folder of the repository (not a fixture): they guard the
facts the group relies on (sessions, roles, legacy labels, identifiers, keys) against edits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dlg_bib.bibtex import store
from dlg_bib.bibtex.names import parse_names
from dlg_bib.library.database import open_database
from dlg_bib.library.ids import is_valid_doi, looks_like_doi_url, parse_arxiv_id
from dlg_bib.library.keys import base_key, is_house_key, unique_key
from dlg_bib.library.model import Database, Entry

BIB = Path(__file__).resolve().parent.parent / "bib"

TOPICS = [
    ("uat", "Universal Approximation Theorem"),
    ("evaluation", "Evaluation of ML/DL Models"),
    ("optimization", "Optimization in Deep Learning"),
    ("vision", "Deep Learning in Computer Vision"),
    ("nlp", "Deep Learning in Natural Language Processing"),
]

# The legacy table, row by row: date, topic, readings (legacy label, role), and the
# Pre-Requisites column: background (prerequisite), or what the session's notes call
# "supplementary references" (supplementary).
UAT_PRE = ["Ref i", "Ref ii", "Ref iv"]
TRANSFORMER_SUPPLEMENTARY = [("Ref xvi", "supplementary"), ("Ref xvii", "supplementary")]
SESSIONS: list[tuple[str, str, list[tuple[str, str]], list[str | tuple[str, str]]]] = [
    ("2021-09-03", "uat", [("Ref 1", "reading"), ("Ref 2", "reading")], UAT_PRE),
    (
        "2021-09-10",
        "uat",
        [("Ref iii", "main"), ("Ref 3", "reading"), ("Ref 4", "reading")],
        UAT_PRE,
    ),
    ("2021-09-17", "uat", [("Ref 4", "main")], ["Ref v", "Ref vi"]),
    ("2021-09-24", "uat", [("Ref 4", "main")], ["Ref v", "Ref vi"]),
    (
        "2021-10-01",
        "evaluation",
        [("Ref 5", "main"), ("Ref 6", "reading")],
        ["Ref vii", "Ref viii"],
    ),
    ("2021-10-08", "evaluation", [("Ref 7", "main")], []),
    ("2021-10-15", "optimization", [("Ref 8", "main")], ["Ref ix"]),
    ("2021-10-22", "optimization", [("Ref 9", "main"), ("Ref 10", "reading")], ["Ref ix"]),
    ("2021-10-29", "nlp", [("Ref 12", "main")], ["Ref xii", "Ref xiii"]),
    (
        "2021-11-05",
        "nlp",
        [("Ref 13", "main")],
        [("Ref xiv", "supplementary"), ("Ref xv", "supplementary")],
    ),
    ("2021-11-12", "nlp", [("Ref 14", "main")], [*TRANSFORMER_SUPPLEMENTARY]),
    ("2021-11-19", "nlp", [("Ref 15", "main")], [*TRANSFORMER_SUPPLEMENTARY]),
    ("2021-11-26", "nlp", [("Ref 16", "main")], [*TRANSFORMER_SUPPLEMENTARY]),
    (
        "2021-12-03",
        "vision",
        [("Ref 17", "main")],
        [("Ref xviii", "supplementary"), ("Ref xix", "supplementary")],
    ),
    ("2021-12-10", "vision", [("Ref 18", "main")], ["Ref xx", "Ref xxi"]),
]

ROMAN = "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx xxi".split()
LEGACY_LABELS = [f"Ref {n}" for n in range(1, 19)] + [f"Ref {r}" for r in ROMAN]
# Keyed when their year was still (wrongly) given: keys never change, so they keep it.
PLACEHOLDERS = {
    "Ref viii": "unknown2021refviii",
    "Ref xi": "unknown2021refxi",
}
# Entries whose key changed when they were identified or corrected: old key -> legacy label.
ALIASES = {"unknown2021ref5": "Ref 5", "stanford2019machine": "Ref vii"}

# arXiv id and primary class of every preprint, as given by the legacy records or chosen.
ARXIV = {
    "Ref 4": ("1910.03193", "cs.LG"),
    "Ref 7": ("1908.09635", "cs.LG"),
    "Ref 8": ("1609.04747", "cs.LG"),
    "Ref 9": ("1904.09237", "cs.LG"),
    "Ref 10": ("1805.08114", "stat.ML"),
    "Ref 12": ("1802.05365", "cs.CL"),
    "Ref 13": ("1409.0473", "cs.CL"),
    "Ref 14": ("1706.03762", "cs.CL"),
    "Ref 15": ("1810.04805", "cs.CL"),
    "Ref x": ("1912.12355", "cs.LG"),
    "Ref xii": ("1301.3781", "cs.CL"),
}

DOIS = {
    "Ref 1": "10.1016/S0888-613X(03)00021-5",
    "Ref 2": "10.1016/S0893-6080(97)00097-X",
    "Ref 3": "10.1109/TNNLS.2013.2293637",
    "Ref 4": "10.1038/s42256-021-00302-5",
    "Ref 5": "10.14569/IJACSA.2021.0120670",
    "Ref 6": "10.1007/11815921_96",
    "Ref 7": "10.1145/3457607",
    "Ref 12": "10.18653/v1/N18-1202",
    "Ref 15": "10.18653/v1/N19-1423",
    "Ref 17": "10.1098/rspb.1980.0020",
    "Ref iii": "10.1007/BF02551274",
    "Ref iv": "10.1007/3-540-29587-9",
    "Ref v": "10.1109/72.392253",
    "Ref ix": "10.1007/978-0-387-40065-5",
    "Ref xiii": "10.3115/v1/D14-1162",
}


@pytest.fixture(scope="module")
def db() -> Database:
    return open_database(BIB)


def entry(db: Database, label: str) -> Entry:
    found = db.find(label)
    assert found is not None, label
    return found


# ---- group, topics, sessions ----------------------------------------------------------------


def test_group_metadata(db: Database) -> None:
    g = db.group
    assert g.term_start == "2021-09-03"  # the legacy README: "beginning September 3rd"
    assert (g.chapter, g.series) == (
        "UCM SIAM Student Chapter",
        "Deep Dive into Topics of Applied Mathematics",
    )
    assert g.paper in ("a4", "us-letter")
    assert g.name == "UCM Applied Math Deep Learning Group (DLG)"
    assert (g.short_name, g.term, g.organiser) == ("DLG", "Fall 2021", "Ali Heydari")
    assert (g.day, g.start_time, g.end_time, g.room) == ("Friday", "11:00", "12:30", "ACS 362B")
    assert g.repository == "https://github.com/dr-aheydari/DeepLearningGroup"
    assert g.organiser_url.startswith("https://")
    assert "mathematical lens" in g.description
    assert "first half hour" in g.meeting_format


def test_topics_in_legacy_order(db: Database) -> None:
    assert [(t.id, t.title) for t in db.topics] == TOPICS


def test_fifteen_fridays_in_date_order_with_their_topics(db: Database) -> None:
    assert [(s.id, s.topic) for s in db.sessions] == [(d, t) for d, t, _, _ in SESSIONS]
    assert all(s.date.weekday() == 4 for s in db.sessions)  # every session is a Friday
    assert db.sessions[0].date == dt.date(2021, 9, 3)


def test_curators_from_the_legacy_history(db: Database) -> None:
    curators = {s.id: s.curator for s in db.sessions if s.curator}
    assert curators == {
        "2021-11-05": "Maia Powell",
        "2021-11-12": "Maia Powell",
        "2021-12-03": "Alex Ho",
        "2021-12-10": "Alex Ho",
    }


def test_session_titles_fixed_and_notes_clean(db: Database) -> None:
    titles = {s.id: s.title for s in db.sessions}
    assert titles["2021-10-22"] == "On the Convergence of Adaptive Optimizers"
    assert "Imbalanced Data" in titles["2021-10-08"]
    assert "Section 5" in (db.session("2021-10-08") or pytest.fail()).notes
    assert all(s.title.strip() == s.title and s.title for s in db.sessions)
    assert all("http" not in s.notes for s in db.sessions)


@pytest.mark.parametrize(("date", "topic", "readings", "prerequisites"), SESSIONS)
def test_readings_and_roles_match_the_legacy_table(
    db: Database,
    date: str,
    topic: str,
    readings: list[tuple[str, str]],
    prerequisites: list[str | tuple[str, str]],
) -> None:
    session = db.session(date)
    assert session is not None
    background = [p if isinstance(p, tuple) else (p, "prerequisite") for p in prerequisites]
    expected = sorted((entry(db, label).key, role) for label, role in [*readings, *background])
    assert sorted((r.key, r.role) for r in session.readings) == expected
    assert sum(r.role == "main" for r in session.readings) <= 1


def test_every_tag_points_at_known_topics_and_sessions(db: Database) -> None:
    topic_ids = {t.id for t in db.topics}
    session_ids = {s.id for s in db.sessions}
    for e in db.entries:
        assert e.topics, e.key
        assert set(e.topics) <= topic_ids, e.key
        assert {tag.date for tag in e.sessions} <= session_ids, e.key
        for tag in e.sessions:
            topic = (db.session(tag.date) or pytest.fail()).topic
            assert topic in e.topics, (e.key, tag.date)


def test_references_of_the_dropped_session_are_kept_with_a_note(db: Database) -> None:
    for label in ("Ref 11", "Ref x", "Ref xi"):
        e = entry(db, label)
        assert e.sessions == []
        assert e.topics == ["optimization"]
        assert "multi-task" in e.get("dlg-note")


# ---- legacy labels and placeholders -------------------------------------------------------


def test_every_legacy_label_is_findable_once(db: Database) -> None:
    labels = [label for e in db.entries for label in e.legacy_labels]
    assert sorted(labels) == sorted(LEGACY_LABELS)
    for label in LEGACY_LABELS:
        assert label in entry(db, label).legacy_labels
    assert entry(db, "ref14") is entry(db, "Ref 14")


def test_placeholders_are_exactly_the_unknown_references(db: Database) -> None:
    placeholders = {e.legacy_labels[0]: e.key for e in db.entries if e.is_placeholder}
    assert placeholders == PLACEHOLDERS
    for label in PLACEHOLDERS:
        e = entry(db, label)
        assert e.get("dlg-placeholder").startswith("identity unknown")
        # Nothing a placeholder could not know: no authors, identifiers, year or free copy.
        fields = ("author", "doi", "eprint", "url", "year", "oaurl", "oanote")
        assert not any(e.has(f) for f in fields), label


def test_ref_xi_names_both_autoloss_candidates(db: Database) -> None:
    e = entry(db, "Ref xi")
    assert "AutoLoss" in e.get("title")
    note = e.get("dlg-note")
    assert "Learning Discrete Schedules for Alternate Optimization" in note
    assert "Zhao et al. (KDD 2021)" in note and "neither" in note


def test_identified_and_renamed_entries_keep_their_old_keys(db: Database) -> None:
    for old, label in ALIASES.items():
        e = entry(db, label)
        assert e.key != old and old in e.aliases, label
        assert db.find(old) is e
    ref5 = entry(db, "Ref 5")
    assert (ref5.key, ref5.entry_type, ref5.get("volume"), ref5.get("number")) == (
        "vujovic2021classification",
        "article",
        "12",
        "6",
    )
    assert "IJACSA" in ref5.get("journal")
    assert ref5.get("oaurl").startswith("https://thesai.org/")
    assert ref5.get("oaversion") == "published"
    assert [n.given for n in parse_names(entry(db, "Ref vii").get("author"))] == [
        "Fred",
        "Ines",
        "Adva",
        "Albert",
        "Beliz",
        "Chris",
    ]
    assert entry(db, "Ref vii").get("title").startswith("Into the Wild:")


def test_corrected_fields(db: Database) -> None:
    assert entry(db, "Ref 14").get("pages") == "5998--6008"
    assert entry(db, "Ref 14").get("url").startswith("https://proceedings.neurips.cc/")
    assert entry(db, "Ref 12").get("pages") == "2227--2237"
    assert entry(db, "Ref 12").get("booktitle").endswith("Volume 1 (Long Papers)")
    assert entry(db, "Ref 15").get("pages") == "4171--4186"
    assert entry(db, "Ref 15").get("booktitle").endswith("Volume 1 (Long and Short Papers)")
    assert entry(db, "Ref 4").get("number") == "3"
    assert "earlier version" in entry(db, "Ref 4").get("dlg-note")
    assert entry(db, "Ref 6").get("volume") == "4109"
    assert entry(db, "Ref 7").get("articleno") == "115"
    assert parse_names(entry(db, "Ref iii").get("author"))[0].given == "George"
    assert parse_names(entry(db, "Ref 16").get("author"))[1].given == "Jeffrey"


# The published version where it is free: ACL Anthology, OpenReview, NeurIPS proceedings.
FREE_PUBLISHED = {
    "Ref 12": "https://aclanthology.org/N18-1202.pdf",
    "Ref 15": "https://aclanthology.org/N19-1423.pdf",
    "Ref xiii": "https://aclanthology.org/D14-1162.pdf",
    "Ref 9": "https://openreview.net/forum?id=ryQu7f-RZ",
    "Ref 14": "https://proceedings.neurips.cc/paper_files/paper/2017/file/"
    "3f5ee243547dee91fbd053c1c4a845aa-Paper.pdf",
}


def test_free_copies_are_published_versions(db: Database) -> None:
    for label, url in FREE_PUBLISHED.items():
        e = entry(db, label)
        assert (e.get("oaurl"), e.get("oaversion")) == (url, "published"), label
        assert not e.has("oanote"), label


def test_links_use_current_https_addresses() -> None:
    text = (BIB / "references.bib").read_text(encoding="utf-8")
    assert "http://" not in text
    assert "ai.googleblog.com" not in text
    assert "https://research.google/blog/" in text


def test_goodfellow_chapters_cross_reference_the_book(db: Database) -> None:
    book = next(
        e for e in db.entries if e.entry_type == "book" and e.get("title") == "Deep Learning"
    )
    assert book.legacy_labels == [] and book.topics == ["uat"]
    for label, chapter in (("Ref i", "5"), ("Ref ii", "6")):
        e = entry(db, label)
        # @incollection: classic styles print an @inbook's title as the book's.
        assert e.entry_type == "incollection"
        assert (e.get("chapter"), e.get("booktitle"), e.get("crossref")) == (
            chapter,
            "Deep Learning",
            book.key,
        )


# ---- identifiers and links ----------------------------------------------------------------


def test_no_sharepoint_link_anywhere() -> None:
    for path in BIB.iterdir():
        assert "sharepoint" not in path.read_text(encoding="utf-8").lower(), path


def test_dois_are_bare_and_as_given(db: Database) -> None:
    for e in db.entries:
        if e.has("doi"):
            assert is_valid_doi(e.get("doi")) and not looks_like_doi_url(e.get("doi")), e.key
            assert "doi.org" not in e.get("url"), e.key
    assert {label: entry(db, label).get("doi") for label in DOIS} == DOIS
    assert sum(e.has("doi") for e in db.entries) == len(DOIS)


def test_arxiv_fields_parse(db: Database) -> None:
    for e in db.entries:
        if e.has("eprint"):
            assert parse_arxiv_id(e.get("eprint")) == (e.get("eprint"), ""), e.key
            assert e.get("archiveprefix") == "arXiv", e.key
    found = {
        label: (entry(db, label).get("eprint"), entry(db, label).get("primaryclass"))
        for label in ARXIV
    }
    assert found == ARXIV
    assert sum(e.has("eprint") for e in db.entries) == len(ARXIV)


def test_every_real_reference_has_a_live_link(db: Database) -> None:
    for e in db.entries:
        if not e.is_placeholder:
            assert any(e.has(f) for f in ("doi", "eprint", "url")), e.key
        if e.has("url"):
            assert e.get("url").startswith(("http://", "https://")), e.key


def test_published_versions_are_cited(db: Database) -> None:
    assert entry(db, "Ref 4").get("journal") == "Nature Machine Intelligence"
    assert entry(db, "Ref 7").get("journal") == "ACM Computing Surveys"
    assert entry(db, "Ref 10").get("pages") == "983--992"
    for label in ("Ref 9", "Ref 10", "Ref 12", "Ref 13", "Ref 14", "Ref 15", "Ref 18"):
        assert entry(db, label).entry_type == "inproceedings", label
    assert entry(db, "Ref 16").entry_type == "techreport"


# ---- names ----------------------------------------------------------------------------------


def test_names_are_split_correctly(db: Database) -> None:
    tsoi = parse_names(entry(db, "Ref 2").get("author"))[1]
    assert (tsoi.family, tsoi.given) == ("Tsoi", "Ah Chung")
    authors = parse_names(entry(db, "Ref iv").get("author"))
    assert [(n.family, n.given) for n in authors] == [
        ("Aliprantis", "Charalambos D."),
        ("Border", "Kim C."),
    ]
    assert parse_names(entry(db, "Ref 6").get("author"))[0].family == "P{\\k{e}}kalska"


def test_author_lists_use_family_comma_given(db: Database) -> None:
    for e in db.entries:
        for fieldname in ("author", "editor"):
            for name in parse_names(e.get(fieldname)):
                assert name.literal or name.given, (e.key, name)


# ---- keys and house style -------------------------------------------------------------------


def test_keys_follow_the_house_rule(db: Database) -> None:
    # Keys are given in creation order: a cross-referenced book before its chapters.
    parents = {e.get("crossref").lower() for e in db.entries if e.has("crossref")}
    order = sorted(db.entries, key=lambda e: e.key.lower() not in parents)
    taken: list[str] = []
    for e in order:
        assert is_house_key(e.key), e.key
        if e.is_placeholder:
            assert e.key == PLACEHOLDERS[e.legacy_labels[0]]
        else:
            assert e.key == unique_key(base_key(e), taken), e.key
        taken.append(e.key)
    assert entry(db, "Ref 1").key == "tikk2003survey"
    assert entry(db, "Ref 5").key == "vujovic2021classification"


def test_file_is_written_in_the_house_style() -> None:
    bib = store.load_file(BIB / "references.bib")
    assert not bib.problems
    assert bib.text.startswith("%")
    for block in bib.blocks:
        if block.entry is not None:
            assert block.raw == store.format_entry(block.entry), block.entry.key
    for e in bib.entries:
        # An abstract may be stored (enrich takes arXiv's, which are CC0); not these.
        assert not {"keywords", "issn"} & set(e.fields), e.key
        assert not any(name.startswith("bdsk") for name in e.fields), e.key
