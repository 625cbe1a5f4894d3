"""`dlg-bib tag`: session roles, topics, removal, dry runs and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlg_bib.errors import DlgBibError, UnknownNameError
from dlg_bib.library.database import open_workspace
from dlg_bib.ops.tagging import TagRequest, apply_tag, resolve_keys, validate_request
from tests.conftest import FIXTURES, run_cli


def _db():  # type: ignore[no-untyped-def]
    return open_workspace(FIXTURES / "store" / "db").db


def test_session_tag_adds_role_and_the_sessions_topic() -> None:
    db = _db()
    entry = db.find("karpathy2015unreasonable")
    assert entry is not None
    assert apply_tag(db, entry, TagRequest(session="2021-11-12", role="prerequisite"))
    assert [(t.date, t.role) for t in entry.sessions] == [("2021-11-12", "prerequisite")]
    assert entry.topics == ["nlp"]
    assert entry.fields["dlg-sessions"] == "{2021-11-12:prerequisite}"


def test_retagging_replaces_the_role_and_is_idempotent() -> None:
    db = _db()
    entry = db.find("cybenko1989approximation")
    assert entry is not None
    assert apply_tag(db, entry, TagRequest(session="2021-09-03", role="main"))
    assert entry.get("dlg-sessions") == "2021-09-03:main"
    assert not apply_tag(db, entry, TagRequest(session="2021-09-03", role="main"))


def test_remove_drops_the_field_when_empty() -> None:
    db = _db()
    entry = db.find("cybenko1989approximation")
    assert entry is not None
    assert apply_tag(db, entry, TagRequest(session="2021-09-03", remove=True))
    assert "dlg-sessions" not in entry.fields
    assert apply_tag(db, entry, TagRequest(topic="uat", remove=True))
    assert "dlg-topics" not in entry.fields


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (TagRequest(), "nothing to tag"),
        (TagRequest(session="2021-09-04", role="main"), "no session '2021-09-04'"),
        (TagRequest(session="2021-09-03"), "--session needs --role"),
        (TagRequest(topic="astrology"), "no topic 'astrology'"),
    ],
)
def test_invalid_requests_are_clear_errors(request_: TagRequest, message: str) -> None:
    with pytest.raises(DlgBibError) as info:
        validate_request(_db(), request_)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_keys_are_listed_together() -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_keys(_db(), ["nope1", "cybenko1989approximation", "nope2"])
    assert "nope1, nope2" in str(info.value)


def test_cli_dry_run_prints_a_diff_and_writes_nothing(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    before = (db / "references.bib").read_bytes()
    result = run_cli(
        "--bib", str(db), "tag", "karpathy2015unreasonable", "--topic", "nlp", "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    assert "+  dlg-topics = {nlp}," in result.stdout
    assert (db / "references.bib").read_bytes() == before


def test_cli_unknown_session_exit_2_no_traceback(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db: Path = fixture_copy("store/db")
    result = run_cli(
        "--bib",
        str(db),
        "tag",
        "cybenko1989approximation",
        "--session",
        "2021-09-04",
        "--role",
        "main",
    )
    assert result.returncode == 2
    assert "no session '2021-09-04'" in result.stderr
    assert "Traceback" not in result.stderr
