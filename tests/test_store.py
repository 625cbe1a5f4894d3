"""The lossless store: byte-identical round trips, atomic writes, refusal to lose data."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlg_bib.bibtex import store
from dlg_bib.bibtex.values import braced
from dlg_bib.errors import ConcurrentEditError, ParseError, WriteError
from dlg_bib.library.database import open_workspace
from tests.conftest import FIXTURES, run_cli


def test_untouched_file_round_trips_byte_for_byte() -> None:
    for path in (FIXTURES / "store" / "db").glob("*.bib"):
        bib = store.load_file(path)
        assert store.splice(bib, [], []) == path.read_bytes().decode("utf-8")


def test_blocks_know_their_lines() -> None:
    bib = store.load_file(FIXTURES / "store" / "db" / "references.bib")
    lines = {e.key: e.line for e in bib.entries}
    assert lines["cybenko1989approximation"] == 10
    assert lines["vaswani2017attention"] == 26
    assert lines["karpathy2015unreasonable"] == 34


def _outside(text: str, start: int, end: int) -> tuple[str, str]:
    return text[:start], text[end:]


def test_tag_changes_only_that_entry(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db = fixture_copy("store/db")
    path = db / "references.bib"
    before = path.read_bytes()
    bib = store.load_file(path)
    block = next(b for b in bib.blocks if b.entry and b.entry.key == "vaswani2017attention")
    head, tail = before[: len(before[: block.start])], before.decode()[block.end :]

    result = run_cli(
        "--bib", str(db), "tag", "vaswani2017attention", "--session", "2021-11-12", "--role", "main"
    )
    assert result.returncode == 0, result.stderr
    after = path.read_bytes().decode()
    assert after.startswith(head.decode())
    assert after.endswith(tail)
    new_block = after[block.start : len(after) - len(tail)]
    assert "dlg-sessions = {2021-11-12:main}," in new_block
    assert 'booktitle = neurips # " 30",' in new_block  # the macro survives re-serialization
    assert new_block.startswith("@INPROCEEDINGS{vaswani2017attention,")
    # The other files of the database are untouched.
    assert (db / "windows.bib").read_bytes() == (FIXTURES / "store/db/windows.bib").read_bytes()


def test_tag_on_single_line_and_crlf_entries(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db = fixture_copy("store/db")
    for key in ("karpathy2015unreasonable", "crlf2020entry", "pekalska2006non"):
        result = run_cli("--bib", str(db), "tag", key, "--topic", "uat")
        assert result.returncode == 0, result.stderr
    ws = open_workspace(db)
    assert ws.db.find("karpathy2015unreasonable").topics == ["uat"]  # type: ignore[union-attr]
    assert ws.db.find("crlf2020entry").topics == ["uat"]  # type: ignore[union-attr]
    windows = (db / "windows.bib").read_bytes()
    assert b"  dlg-topics = {uat},\r\n" in windows
    assert windows.count(b"\n") == windows.count(b"\r\n")  # no bare LF sneaks in
    # Everything before the first touched entry is identical.
    original = (FIXTURES / "store/db/references.bib").read_text()
    cut = original.index("@misc{karpathy")
    assert (db / "references.bib").read_text()[:cut] == original[:cut]


def test_new_entry_is_appended_in_house_style(tmp_path: Path) -> None:
    path = tmp_path / "a.bib"
    path.write_text("% header\n@misc{a2020x, title = {X}}\n")
    bib = store.load_file(path)
    new = store.Entry(key="b2021y", entry_type="misc", fields={"title": braced("Y")})
    assert store.write_changes(bib, [], [new])
    assert path.read_text() == (
        "% header\n@misc{a2020x, title = {X}}\n\n@misc{b2021y,\n  title = {Y},\n}\n"
    )


def test_file_with_syntax_errors_is_never_written(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    path = fixture_copy("malformed/stray_brace.bib")
    bib = store.load_file(path)
    entry = bib.entries[0]
    entry.fields["note"] = braced("x")
    before = path.read_bytes()
    with pytest.raises(ParseError) as info:
        store.write_changes(bib, [entry])
    assert f"{path}:6" in str(info.value)
    assert path.read_bytes() == before


def test_second_writer_fails_cleanly(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db = fixture_copy("store/db")
    first = open_workspace(db)
    second = open_workspace(db)
    a = first.db.find("cybenko1989approximation")
    b = second.db.find("karpathy2015unreasonable")
    assert a is not None and b is not None
    a.fields["note"] = braced("first writer")
    first.save([a])
    b.fields["note"] = braced("second writer")
    with pytest.raises(ConcurrentEditError):
        second.save([b])
    text = (db / "references.bib").read_text()
    assert "first writer" in text
    assert "second writer" not in text


_SLOW_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from dlg_bib.bibtex import store
    real_fsync = os.fsync
    def slow_fsync(fd):
        real_fsync(fd)
        print("written", flush=True)
        time.sleep(60)
    os.fsync = slow_fsync
    store.atomic_replace(Path(sys.argv[1]), b"@misc{new, title = {N}}\\n" * 200000)
    """
)


def test_killed_writer_leaves_the_original_intact(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    path = fixture_copy("store/db") / "references.bib"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "written"  # the temp file is full, not renamed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert store.load_file(path).problems == []
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".references.bib.") for name in leftovers)


def test_atomic_replace_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "x.bib"
    path.write_text("")
    path.chmod(0o640)
    store.atomic_replace(path, b"@misc{a, title={A}}\n")
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_non_utf8_file_is_a_clear_error() -> None:
    with pytest.raises(ParseError) as info:
        store.load_file(FIXTURES / "malformed" / "not_utf8.bib")
    assert "not_utf8.bib:2" in str(info.value)


def test_atomic_replace_failures_are_one_write_error_naming_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    for target in (blocker / "out.bib", tmp_path / "missing" / "out.bib"):
        with pytest.raises(WriteError) as caught:
            store.atomic_replace(target, b"data")
        assert str(caught.value).startswith(f"{target}: cannot write file: ")
        assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_atomic_replace_writes_into_a_device_instead_of_replacing_it() -> None:
    # Renaming a temporary file over /dev/full would replace the device node (we run as root).
    with pytest.raises(WriteError, match="No space left on device"):
        store.atomic_replace(Path("/dev/full"), b"data")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_tag_keeps_foreign_types_and_keys_as_written(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    """Mendeley's `@web_page`, `@book_section`, `@Newspaper_Article`; NASA ADS and
    proceedings keys: tagging rewrites only the tagged entry, its type and field names as
    written."""
    db = fixture_copy("foreign/db")
    path = db / "foreign.bib"
    original = store.load_file(path)
    for block in [b for b in original.blocks if b.entry is not None]:
        assert block.entry is not None
        before = path.read_text()
        current = next(
            b for b in store.load_file(path).blocks if b.entry and b.entry.key == block.entry.key
        )
        written_type = block.raw[: block.raw.index("{")]
        result = run_cli("--bib", str(db), "tag", block.entry.key, "--topic", "uat")
        assert result.returncode == 0, result.stdout + result.stderr
        after = path.read_text()
        tail = before[current.end :]
        assert after.startswith(before[: current.start])
        assert after.endswith(tail)
        new_block = after[current.start : len(after) - len(tail)]
        assert new_block.startswith(written_type + "{" + block.entry.key + ",")
        retagged = store.parse_bib(path, new_block).blocks[0]
        assert retagged.entry is not None
        assert retagged.entry.fields == {**block.entry.fields, "dlg-topics": "{uat}"}
        # Field names as the file spells them (`PAGES`), then the tag.
        names = [f.key for f in retagged.parsed.fields]  # type: ignore[attr-defined]
        assert names == [f.key for f in block.parsed.fields] + ["dlg-topics"]  # type: ignore[attr-defined]


def test_entry_with_a_repeated_field_is_kept_with_its_first_value() -> None:
    """BibTeX keeps the first value of a repeated field and warns; bibtexparser drops the
    whole entry. The store keeps it, and the file still counts as having a syntax error."""
    bib = store.load_file(FIXTURES / "export" / "realworld" / "faithful.bib")
    entry = next(e for e in bib.entries if e.key == "repeated2019")
    assert entry.get("title") == "The First Title" and entry.get("volume") == "3"
    block = bib.block_of(entry)
    assert store.repeated_fields(block) == [("title", block.line + 5)]
    assert [p.rule for p in bib.problems if p.key == "repeated2019"] == ["duplicate-field"]


def test_an_at_sign_without_a_type_is_no_entry() -> None:
    """bibtexparser reads `@(#)` (an SCCS `$Id$` line) as an entry of no type with key `#`;
    BibTeX skips it ("You're missing an entry type"), biber rejects the file. No entry, then,
    and a syntax problem, so nothing lists, exports or writes it."""
    bib = store.load_file(FIXTURES / "malformed" / "missing_entry_type.bib")
    assert [e.key for e in bib.entries] == ["doe2020one"]
    assert [(p.line, p.rule) for p in bib.problems] == [(1, "missing-entry-type")]
