"""`dlg-bib calendar` as users run it: where it writes, stdout, --term and exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import icalendar

from dlg_bib.library.database import open_workspace
from dlg_bib.render import ical
from tests.conftest import FIXTURES, run_cli

MULTI = FIXTURES / "terms" / "multi"
FLOATING = FIXTURES / "terms" / "floating"  # names no time zone


def test_default_output_is_dist_next_to_the_database_folder(tmp_path: Path) -> None:
    folder = tmp_path / "bib"
    shutil.copytree(MULTI, folder)
    result = run_cli("--bib", str(folder), "calendar")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "dist" / "dlg.ics"
    assert written.read_bytes() == ical.build_calendar(open_workspace(folder).db)
    # Run again: nothing changed, so the same bytes (SEQUENCE and stamps kept).
    assert run_cli("--bib", str(folder), "calendar", "--now", "2030-01-01").returncode == 0
    assert written.read_bytes() == ical.build_calendar(open_workspace(folder).db)


def test_stdout_with_dash_and_one_term(tmp_path: Path) -> None:
    result = run_cli("--bib", str(MULTI), "calendar", "-o", "-", "--term", "2021-fall")
    assert result.returncode == 0, result.stderr
    calendar = icalendar.Calendar.from_ical(result.stdout)
    assert isinstance(calendar, icalendar.Calendar)
    db = open_workspace(MULTI).db
    fall = db.term("2021-fall")
    assert fall is not None
    dates = [e.decoded("DTSTART").date() for e in calendar.walk("VEVENT")]
    assert dates == [s.date for s in db.sessions_in(fall)]
    assert not (tmp_path / "dist").exists()


def test_a_changed_session_bumps_its_sequence_with_now(tmp_path: Path) -> None:
    folder = tmp_path / "bib"
    shutil.copytree(MULTI, folder)
    out = tmp_path / "dlg.ics"
    assert run_cli("--bib", str(folder), "calendar", "-o", str(out)).returncode == 0
    group = folder / "group.toml"
    group.write_text(group.read_text().replace('"Spring opener"', '"Spring opener, moved"'))
    result = run_cli(
        "--bib", str(folder), "calendar", "-o", str(out), "--now", "2022-01-10T08:00:00"
    )
    assert result.returncode == 0, result.stderr
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    bumped = {
        str(e["SUMMARY"]): (int(e["SEQUENCE"]), e.decoded("LAST-MODIFIED"))
        for e in calendar.walk("VEVENT")
        if int(e["SEQUENCE"]) > 0
    }
    assert bumped == {"Spring opener, moved": (1, dt.datetime(2022, 1, 10, 8, tzinfo=dt.UTC))}


def test_without_a_time_zone_it_notes_floating_times() -> None:
    result = run_cli("--bib", str(FLOATING), "calendar", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert "no `timezone`" in result.stderr
    assert result.stdout.count("BEGIN:VEVENT") == len(open_workspace(FLOATING).db.sessions) == 2


def test_unknown_term_is_a_usage_error() -> None:
    result = run_cli("--bib", str(MULTI), "calendar", "-o", "-", "--term", "1999-fall")
    assert result.returncode == 2
    assert "no term '1999-fall'" in result.stderr and "2021-fall" in result.stderr
    assert result.stdout == ""


def test_an_unknown_time_zone_exits_2_with_file_and_line() -> None:
    folder = FIXTURES / "terms" / "bad-timezone"
    result = run_cli("--bib", str(folder), "calendar", "-o", "-")
    assert result.returncode == 2
    assert f"{folder / 'group.toml'}:3: unknown time zone 'America/Merced'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_previous_file_exits_2_and_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "dlg.ics"
    out.write_text("not a calendar\n")
    result = run_cli("--bib", str(MULTI), "calendar", "-o", str(out))
    assert result.returncode == 2
    assert "cannot be read" in result.stderr
    assert out.read_text() == "not a calendar\n"


def test_an_unreadable_group_toml_exits_2_for_calendar_and_term_new(tmp_path: Path) -> None:
    folder = tmp_path / "bib"
    shutil.copytree(FIXTURES / "terms" / "invalid-toml", folder)
    before = (folder / "group.toml").read_bytes()
    for args in (
        ["calendar"],
        ["term", "new", "x", "--name", "X", "--first", "2023-01-01", "--last", "2023-01-31"],
    ):
        result = run_cli("--bib", str(folder), *args)
        assert result.returncode == 2, args
        assert f"{folder / 'group.toml'}:2: invalid TOML" in result.stderr
        assert "Traceback" not in result.stderr
    assert (folder / "group.toml").read_bytes() == before
    assert not (tmp_path / "dist").exists()
