"""The shipped database: every reading has a free copy or says that none is known."""

from __future__ import annotations

from pathlib import Path

from dlg_bib.enrich.openaccess import NONE_KNOWN
from dlg_bib.library import ids, normalize
from dlg_bib.library.database import open_database

SHIPPED = Path(__file__).parent.parent / "bib"
HOSTS = {"publisher", "arxiv", "pmc", "repository", "web"}
VERSIONS = {"", "published", "accepted", "submitted"}


def test_every_entry_tagged_with_a_session_has_oaurl_or_oanote() -> None:
    db = open_database(SHIPPED)
    # A placeholder has no work to have a copy of: it carries no note either.
    readings = [e for e in db.entries if e.sessions and not e.is_placeholder]
    assert len(readings) >= 30
    missing = [e.key for e in readings if not (e.get("oaurl") or e.get("oanote"))]
    assert missing == []


def test_free_copy_fields_are_well_formed() -> None:
    for entry in open_database(SHIPPED).entries:
        if entry.has("oaurl"):
            assert entry.get("oaurl").startswith(("https://", "http://")), entry.key
            assert entry.get("oahost") in HOSTS, entry.key
            assert entry.get("oaversion") in VERSIONS, entry.key
            assert not entry.has("oanote"), entry.key  # a copy, or the note: never both
        elif entry.has("oanote"):
            assert entry.get("oanote") == NONE_KNOWN, entry.key


def test_every_arxiv_preprint_reading_links_a_free_copy() -> None:
    for entry in open_database(SHIPPED).entries:
        found = normalize.entry_arxiv_id(entry)
        if found is None:
            continue
        assert entry.get("oaurl"), entry.key
        if entry.get("oahost") == "arxiv":
            assert entry.get("oaurl") == ids.arxiv_pdf_url(found[0])
