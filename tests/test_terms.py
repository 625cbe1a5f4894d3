"""Terms in group.toml: parsing, membership, the implicit single term, lint, and `term new`."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from pathlib import Path

import pytest

from dlg_bib.errors import ParseError
from dlg_bib.library.database import load_toml, open_workspace, parse_metadata, parse_terms
from dlg_bib.library.model import Term
from dlg_bib.ops.lint import lint_workspace
from dlg_bib.ops.terms import TBA, TermError, plan_new_term, weekly_dates, write_plan
from tests.conftest import FIXTURES, REPO

TERMS = FIXTURES / "terms"


def _line_with(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line)


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(TERMS / name if name != "bib" else REPO / "bib", target)
    return target


# ---- parsing and membership -------------------------------------------------------------


def test_terms_are_parsed_with_their_own_day_time_and_room() -> None:
    db = open_workspace(TERMS / "multi").db
    fall, spring = db.terms
    assert (fall.id, fall.name, fall.first, fall.last) == (
        "2021-fall",
        "Fall 2021",
        dt.date(2021, 10, 1),
        dt.date(2021, 12, 10),
    )
    assert not fall.implicit and fall.line == _line_with(TERMS / "multi/group.toml", 'id   = "') - 1
    assert fall.meeting(db.group) == ("Friday", "11:00", "12:30", "ACS 362B")
    assert spring.meeting(db.group) == ("Thursday", "15:00", "16:00", "SE2 101")
    assert db.group.timezone == "America/Los_Angeles"


def test_a_session_belongs_to_the_term_whose_dates_contain_it() -> None:
    db = open_workspace(TERMS / "multi").db
    by_date = {s.id: db.term_of(s) for s in db.sessions}
    assert {d: t.id if t else None for d, t in by_date.items()} == {
        "2021-10-29": "2021-fall",
        "2021-11-12": "2021-fall",
        "2022-01-20": "2022-spring",
    }
    spring = db.term("2022-spring")
    assert spring is not None
    assert [s.id for s in db.sessions_in(spring)] == ["2022-01-20"]


def test_a_file_without_terms_is_one_implicit_term_spanning_its_sessions() -> None:
    db = open_workspace(REPO / "bib").db
    (term,) = db.terms
    assert term.implicit
    assert term.name == db.group.term
    assert (term.first, term.last) == (db.sessions[0].date, db.sessions[-1].date)
    assert all(db.term_of(s) == term for s in db.sessions)


def test_the_shipped_database_has_no_term_findings() -> None:
    findings = lint_workspace(open_workspace(REPO / "bib"))
    assert [f for f in findings if f.rule.startswith(("term", "session-outside"))] == []


def test_session_lines_point_at_their_table() -> None:
    path = TERMS / "outside/group.toml"
    db = open_workspace(path.parent).db
    assert [s.line for s in db.sessions] == [
        _line_with(path, "[[sessions]]"),
        _line_with(path, "# Between terms") + 1,
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in (TERMS / "malformed").glob("*.toml")))
def test_malformed_terms_and_zone_are_parse_errors_with_file_and_line(name: str) -> None:
    path = TERMS / "malformed" / name
    text = path.read_text(encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        data = load_toml(path, text)
        parse_metadata(data, path, text)
        parse_terms(data, path, text)
    assert caught.value.where == f"{path}:{_line_with(path, '# <- error')}"
    assert caught.value.hint


# ---- lint -------------------------------------------------------------------------------


def test_lint_reports_a_session_outside_every_term_at_its_line() -> None:
    path = TERMS / "outside/group.toml"
    findings = [f for f in lint_workspace(open_workspace(path.parent)) if f.file == str(path)]
    assert [(f.rule, f.line, f.key, f.severity) for f in findings] == [
        ("session-outside-term", _line_with(path, "# Between terms") + 1, "2022-01-07", "error")
    ]
    assert "term new" in findings[0].hint and "--first 2022-01-07" in findings[0].hint


def test_lint_reports_overlapping_terms_and_repeated_ids() -> None:
    path = TERMS / "overlap/group.toml"
    found = {(f.rule, f.line) for f in lint_workspace(open_workspace(path.parent))}
    assert found == {
        ("term-overlap", _line_with(path, "# <- overlap")),
        ("term-duplicate-id", _line_with(path, "# <- duplicate id")),
    }


# ---- term new -----------------------------------------------------------------------------


def _without(text: str, offsets_and_texts: list[tuple[int, str]]) -> str:
    """The new text with the inserted pieces cut out again."""
    out, pos, shift = [], 0, 0
    for offset, inserted in sorted(offsets_and_texts):
        start = offset + shift
        out.append(text[pos:start])
        pos = start + len(inserted)
        shift += len(inserted)
    out.append(text[pos:])
    return "".join(out)


def test_term_new_inserts_text_only_and_keeps_every_other_byte(tmp_path: Path) -> None:
    folder = _copy("multi", tmp_path)
    path = folder / "group.toml"
    before = path.read_bytes()
    new = Term("2022-fall", "Fall 2022", dt.date(2022, 9, 2), dt.date(2022, 9, 30))
    plan = plan_new_term(open_workspace(folder), new, weekly=True)
    write_plan(plan)
    after = path.read_bytes().decode("utf-8")
    pieces = [(i.offset, i.text) for i in plan.insertions]
    assert _without(after, pieces).encode("utf-8") == before
    db = open_workspace(folder).db
    assert [t.id for t in db.terms] == ["2021-fall", "2022-spring", "2022-fall"]
    added = [s for s in db.sessions if s.date >= new.first]
    assert [s.title for s in added] == [TBA] * len(added)
    assert [s.date for s in added] == weekly_dates(new.first, new.last, 4)
    assert all(db.term_of(s) == db.term("2022-fall") for s in added)
    assert [f for f in lint_workspace(open_workspace(folder)) if f.severity == "error"] == []


def test_term_new_keeps_crlf_newlines(tmp_path: Path) -> None:
    folder = _copy("multi", tmp_path)
    path = folder / "group.toml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    new = Term("2022-fall", "Fall 2022", dt.date(2022, 9, 2), dt.date(2022, 9, 9))
    plan = plan_new_term(open_workspace(folder), new, weekly=True)
    write_plan(plan)
    after = path.read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b"")
    pieces = [(i.offset, i.text) for i in plan.insertions]
    assert _without(after.decode(), pieces).encode() == before


def test_term_new_writes_out_the_implicit_term_first(tmp_path: Path) -> None:
    folder = _copy("bib", tmp_path)
    old = open_workspace(folder).db
    new = Term(
        "2022-spring", "Spring 2022", dt.date(2022, 1, 21), dt.date(2022, 5, 6), day="Thursday"
    )
    plan = plan_new_term(open_workspace(folder), new, weekly=True)
    write_plan(plan)
    db = open_workspace(folder).db
    assert [(t.id, t.implicit) for t in db.terms] == [
        (old.terms[0].id, False),
        ("2022-spring", False),
    ]
    assert (db.terms[0].first, db.terms[0].last) == (old.terms[0].first, old.terms[0].last)
    spring = [s for s in db.sessions if s.date >= new.first]
    assert {s.date.weekday() for s in spring} == {3}
    assert len(spring) == len(weekly_dates(new.first, new.last, 3))
    assert [f for f in lint_workspace(open_workspace(folder)) if f.severity == "error"] == []


def test_weekly_skips_days_that_already_have_a_session(tmp_path: Path) -> None:
    folder = _copy("outside", tmp_path)
    new = Term("2022-winter", "Winter 2022", dt.date(2022, 1, 1), dt.date(2022, 1, 31))
    plan = plan_new_term(open_workspace(folder), new, weekly=True)
    existing = {s.date for s in open_workspace(folder).db.sessions}
    assert plan.sessions == [d for d in weekly_dates(new.first, new.last, 4) if d not in existing]
    assert dt.date(2022, 1, 7) in existing and dt.date(2022, 1, 7) not in plan.sessions


def test_weekly_dates_start_on_the_first_meeting_day() -> None:
    # 2022-01-21 is a Friday: a Monday term starts on the 24th and ends on or before `last`.
    dates = weekly_dates(dt.date(2022, 1, 21), dt.date(2022, 2, 13), 0)
    assert dates == [dt.date(2022, 1, 24), dt.date(2022, 1, 31), dt.date(2022, 2, 7)]
    assert weekly_dates(dt.date(2022, 1, 21), dt.date(2022, 1, 22), 0) == []


def test_names_are_written_as_toml_strings_that_read_back(tmp_path: Path) -> None:
    folder = _copy("multi", tmp_path)
    name = 'Spring "22" \\ back\nslash\x7f'
    new = Term("2023-spring", name, dt.date(2023, 1, 1), dt.date(2023, 1, 2), room="R\t1")
    write_plan(plan_new_term(open_workspace(folder), new, weekly=False))
    terms = tomllib.loads((folder / "group.toml").read_text(encoding="utf-8"))["terms"]
    assert terms[-1] == {
        "id": "2023-spring",
        "name": name,
        "first": new.first,
        "last": new.last,
        "room": "R\t1",
    }


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (Term("2021-fall", "X", dt.date(2023, 1, 1), dt.date(2023, 2, 1)), "already exists"),
        (Term("x", "X", dt.date(2021, 12, 1), dt.date(2022, 1, 5)), "overlaps term '2021-fall'"),
        (Term("x", "X", dt.date(2023, 2, 1), dt.date(2023, 1, 1)), "before it starts"),
        (Term("a b", "X", dt.date(2023, 1, 1), dt.date(2023, 2, 1)), "not a plain id"),
        (Term("x", "X", dt.date(2023, 1, 1), dt.date(2023, 2, 1), day="Fri"), "day of the week"),
    ],
)
def test_term_new_refuses_and_writes_nothing(tmp_path: Path, new: Term, message: str) -> None:
    folder = _copy("multi", tmp_path)
    before = (folder / "group.toml").read_bytes()
    with pytest.raises(TermError, match=message):
        plan_new_term(open_workspace(folder), new, weekly=True)
    assert (folder / "group.toml").read_bytes() == before


def test_a_header_inside_a_string_does_not_mislead_the_insertion(tmp_path: Path) -> None:
    folder = _copy("tricky", tmp_path)
    before = open_workspace(folder).db
    new = Term("2022-spring", "Spring 2022", dt.date(2022, 1, 7), dt.date(2022, 1, 14))
    plan = plan_new_term(open_workspace(folder), new, weekly=True)
    write_plan(plan)
    after = open_workspace(folder).db
    assert after.sessions[0].notes == before.sessions[0].notes
    assert [s.id for s in after.sessions] == ["2021-09-03", "2022-01-07", "2022-01-14"]
    pieces = [(i.offset, i.text) for i in plan.insertions]
    text = (folder / "group.toml").read_text(encoding="utf-8")
    assert _without(text, pieces) == (TERMS / "tricky/group.toml").read_text(encoding="utf-8")


def test_terms_written_inline_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    folder = _copy("inline", tmp_path)
    before = (folder / "group.toml").read_bytes()
    new = Term("2022-spring", "Spring 2022", dt.date(2022, 1, 7), dt.date(2022, 1, 14))
    with pytest.raises(TermError, match="inline arrays"):
        plan_new_term(open_workspace(folder), new, weekly=False)
    assert (folder / "group.toml").read_bytes() == before
