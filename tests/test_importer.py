"""`dlg-bib import`: normalise, merge works already present, append the rest."""

from __future__ import annotations

from pathlib import Path

from dlg_bib.bibtex import store
from dlg_bib.library.database import open_workspace
from dlg_bib.library.model import Entry
from dlg_bib.ops.importer import merge_missing_fields
from dlg_bib.ops.lint import ERROR, lint_workspace
from tests.conftest import FIXTURES, run_cli


def test_import_legacy_records_normalises_and_merges(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    records = FIXTURES / "legacy" / "records.bib"
    before = (db / "references.bib").read_text()
    result = run_cli("--bib", str(db), "import", str(records), "--topic", "uat")
    assert result.returncode == 0, result.stderr
    ws = open_workspace(db)
    # The existing Cybenko and Vaswani entries absorbed the legacy copies: no duplicates.
    cybenko = ws.db.find("Ref iii")
    assert cybenko is not None and cybenko.key == "cybenko1989approximation"
    assert ws.db.find("Ref 14").key == "vaswani2017attention"  # type: ignore[union-attr]
    # New works got house keys, bare DOIs, arXiv fields and their legacy labels.
    tikk = ws.db.find("Ref 1")
    assert tikk is not None and tikk.key == "tikk2003survey"
    assert tikk.get("doi") == "10.1016/S0888-613X(03)00021-5"
    assert "bdsk-url-1" not in tikk.fields
    ruder = ws.db.find("ref 8")
    assert ruder is not None and ruder.key == "ruder2016overview"
    assert ruder.entry_type == "misc" and ruder.get("eprint") == "1609.04747"
    assert ruder.get("archiveprefix") == "arXiv" and "journal" not in ruder.fields
    # Ref 5 (a copy of Ref 4) merged into Ref 4's new entry instead of duplicating it.
    assert ws.db.find("Ref 5") is ws.db.find("Ref 4")
    assert "uat" in tikk.topics
    # Blocks the import did not merge into are still there, byte for byte.
    after = (db / "references.bib").read_text()
    merged_into = {"cybenko1989approximation", "vaswani2017attention"}
    original = store.parse_bib(db / "references.bib", before)
    for block in original.blocks:
        if block.entry is None or block.entry.key not in merged_into:
            assert block.raw in after
    errors = [f for f in lint_workspace(ws) if f.severity == ERROR and f.rule == "duplicate-work"]
    assert errors == []


def test_import_dry_run_writes_nothing(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    before = (db / "references.bib").read_bytes()
    result = run_cli("--bib", str(db), "import", str(FIXTURES / "legacy/records.bib"), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "add tikk2003survey" in result.stdout
    assert "merge Ref iii into cybenko1989approximation" in result.stdout
    assert (db / "references.bib").read_bytes() == before


def test_import_of_unparsable_file_reports_line_and_writes_nothing(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    before = (db / "references.bib").read_bytes()
    bad = FIXTURES / "malformed" / "missing_comma_between_fields.bib"
    result = run_cli("--bib", str(db), "import", str(bad))
    assert result.returncode == 2
    assert f"{bad}:4" in result.stderr
    assert "Traceback" not in result.stderr
    assert (db / "references.bib").read_bytes() == before


def test_import_inlines_foreign_strings_and_keeps_month_macros(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    result = run_cli("--bib", str(db), "import", str(FIXTURES / "import" / "with_strings.bib"))
    assert result.returncode == 0, result.stderr
    entry = open_workspace(db).db.find("krizhevsky2012imagenet")
    assert entry is not None
    # The other file's @string is not ours: its text comes along, braced.
    assert entry.fields["booktitle"] == "{Advances in Neural Information Processing Systems 25}"
    assert entry.fields["month"] == "dec"  # BibTeX's own macro stays a macro
    assert entry.fields["year"] == "2012"
    assert "timestamp" not in entry.fields  # reference-manager bookkeeping dropped
    assert entry.aliases == ["Krizhevsky:2012"]


def test_import_never_merges_a_contradicted_title_match(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("import/recurring_db")
    result = run_cli("--bib", str(db), "import", str(FIXTURES / "import" / "recurring.bib"))
    assert result.returncode == 0, result.stderr
    # Another issue's column is added, and the output says why it was not merged.
    assert "add smith2020greetings  (was Smith:2020:GE)" in result.stdout
    assert "not merged into smith2019greetings" in result.stdout
    assert "different year (2020, 2019)" in result.stdout
    # The same issue again is merged.
    assert "merge Smith:2019:GE into smith2019greetings: url" in result.stdout
    ws = open_workspace(db)
    new = ws.db.find("smith2020greetings")
    old = ws.db.find("smith2019greetings")
    assert new is not None and old is not None and new is not old
    assert (new.get("volume"), new.get("pages")) == ("13", "1--3")
    assert (old.get("volume"), old.get("pages")) == ("12", "1--2")


def test_import_adds_no_second_venue_and_only_fields_of_the_type(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    copies = FIXTURES / "import" / "scholar_copies.bib"
    result = run_cli("--bib", str(db), "import", str(copies))
    assert result.returncode == 0, result.stderr
    assert "0 added, 2 merged" in result.stderr
    assert "left out `journal`: vaswani2017attention already names its venue" in result.stdout
    vaswani = open_workspace(db).db.find("vaswani2017attention")
    assert vaswani is not None and vaswani.entry_type == "inproceedings"
    assert "journal" not in vaswani.fields
    assert vaswani.fields["booktitle"] == 'neurips # " 30"'
    assert vaswani.get("pages") == "5998--6008"  # an @inproceedings takes pages
    # An alias never equals a key: biber would drop one of the two entries.
    assert [a.lower() for a in vaswani.aliases] == ["vaswani2017attentionarxiv"]


def test_merge_fills_only_fields_the_type_takes() -> None:
    preprint = Entry("doe2020x", "misc", {"title": "{X}", "eprint": "{2001.00001}"})
    copy = Entry(
        "scholar",
        "article",
        {"journal": "{arXiv preprint arXiv:2001.00001}", "volume": "{3}", "doi": "{10.1/x}"},
    )
    assert merge_missing_fields(preprint, copy) == ["doi"]
    assert "journal" not in preprint.fields and "volume" not in preprint.fields
    article = Entry("doe2020y", "article", {"title": "{Y}", "journaltitle": "{J}"})
    copy = Entry("scholar", "article", {"journal": "{Journal}", "date": "{2020}"})
    assert merge_missing_fields(article, copy) == ["date"]


def test_import_writes_types_as_written(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    foreign = FIXTURES / "foreign" / "db" / "foreign.bib"
    result = run_cli("--bib", str(db), "import", str(foreign))
    assert result.returncode == 0, result.stderr
    text = (db / "references.bib").read_text()
    assert "@book_section{mills2010authors," in text
    assert "@Newspaper_Article{ramos2019box," in text
    assert "@ARTICLE{bica1982integrated," in text


def test_a_second_import_of_a_file_merges_entries_by_their_alias(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    """A title under 12 characters (or none) identifies no work, so a re-import used to add
    `cullingford1981sama` beside `cullingford1981sam`, both with `ids = {Cullingford:81}`
    (biber: "Entry alias 'Cullingford:81' already has an alias"). The incoming key names the
    entry that has it as an alias, as `\\cite{Cullingford:81}` does, unless facts disagree."""
    db: Path = fixture_copy("store/db")
    shapes = FIXTURES / "import" / "short_titles.bib"
    assert run_cli("--bib", str(db), "import", str(shapes)).returncode == 0
    before = (db / "references.bib").read_bytes()
    again = run_cli("--bib", str(db), "import", str(shapes))
    assert again.returncode == 0, again.stderr
    assert "0 added, 2 merged" in again.stderr
    assert (db / "references.bib").read_bytes() == before
    other = run_cli("--bib", str(db), "import", str(FIXTURES / "import" / "short_titles_other.bib"))
    assert "1 added, 0 merged" in other.stderr  # year 1985, not 1981: another work
