"""The calendar read back with `icalendar`: events, zones, UIDs, bytes and SEQUENCE."""

from __future__ import annotations

import datetime as dt
import shutil
import zoneinfo
from pathlib import Path

import icalendar
import pytest

from dlg_bib.errors import ParseError, UnknownNameError
from dlg_bib.library.database import open_workspace
from dlg_bib.render import ical
from dlg_bib.render.context import build_context
from tests.conftest import FIXTURES

MULTI = FIXTURES / "terms" / "multi"
NOW = dt.datetime(2022, 2, 1, 9, 30, tzinfo=dt.UTC)


def _events(data: bytes) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    assert isinstance(calendar, icalendar.Calendar)
    return list(calendar.walk("VEVENT"))


def test_one_event_per_session_with_title_room_and_url() -> None:
    db = open_workspace(MULTI).db
    events = _events(ical.build_calendar(db))
    assert [e.decoded("DTSTART").date() for e in events] == [s.date for s in db.sessions]
    assert [str(e["SUMMARY"]) for e in events] == [s.title for s in db.sessions]
    assert [str(e["URL"]) for e in events] == [db.group.repository] * len(events)
    assert [str(e["LOCATION"]) for e in events] == [
        (db.term_of(s) or db.terms[0]).meeting(db.group)[3] for s in db.sessions
    ]


def test_hostile_titles_are_escaped_and_cannot_add_events() -> None:
    db = open_workspace(MULTI).db
    data = ical.build_calendar(db)
    hostile = next(s for s in db.sessions if "END:VEVENT" in s.title)
    # Content lines, unfolded: the title's newlines are escaped, never real line breaks.
    lines = data.replace(b"\r\n ", b"").split(b"\r\n")
    assert lines.count(b"BEGIN:VEVENT") == lines.count(b"END:VEVENT") == len(db.sessions)
    summaries = [str(e["SUMMARY"]) for e in _events(data)]
    assert hostile.title in summaries


def test_times_are_in_the_group_zone_with_the_right_offset_across_the_dst_change() -> None:
    db = open_workspace(MULTI).db
    data = ical.build_calendar(db)
    zone = zoneinfo.ZoneInfo(db.group.timezone)
    starts = {e.decoded("DTSTART").date().isoformat(): e for e in _events(data)}
    before, after = starts["2021-10-29"], starts["2021-11-12"]
    for event in (before, after):
        assert event["DTSTART"].params["TZID"] == db.group.timezone
    assert before.decoded("DTSTART").utcoffset() == dt.timedelta(hours=-7)
    assert after.decoded("DTSTART").utcoffset() == dt.timedelta(hours=-8)
    assert after.decoded("DTSTART") == dt.datetime(2021, 11, 12, 11, 0, tzinfo=zone)
    assert after.decoded("DTEND") == dt.datetime(2021, 11, 12, 12, 30, tzinfo=zone)
    calendar = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [db.group.timezone]


def test_a_term_with_its_own_time_and_room_overrides_the_group() -> None:
    db = open_workspace(MULTI).db
    spring = db.term("2022-spring")
    assert spring is not None
    events = _events(ical.build_calendar(db, term_id="2022-spring"))
    assert [e.decoded("DTSTART").date() for e in events] == [s.date for s in db.sessions_in(spring)]
    _, start, end, room = spring.meeting(db.group)
    assert events[0].decoded("DTSTART").strftime("%H:%M") == start
    assert events[0].decoded("DTEND").strftime("%H:%M") == end
    assert str(events[0]["LOCATION"]) == room


def test_unknown_term_is_an_unknown_name_a_usage_error() -> None:
    db = open_workspace(MULTI).db
    with pytest.raises(UnknownNameError) as caught:
        ical.build_calendar(db, term_id="1999-fall")
    assert caught.value.exit_code == 2
    assert "2021-fall" in (caught.value.hint or "")


def test_uids_are_stable_and_the_bytes_deterministic() -> None:
    first = ical.build_calendar(open_workspace(MULTI).db)
    second = ical.build_calendar(open_workspace(MULTI).db, now=NOW)
    assert first == second
    db = open_workspace(MULTI).db
    uids = [str(e["UID"]) for e in _events(first)]
    assert uids == [f"{s.id}@dlg.github.com-example-reading-group" for s in db.sessions]
    assert len(set(uids)) == len(uids)


def test_description_lists_each_reading_with_its_role_and_free_link() -> None:
    db = open_workspace(MULTI).db
    session = db.session("2021-11-12")
    assert session is not None
    refs = {r.key: r for r in build_context(db, dt.date.min).references}
    text = ical.description(db, session, refs)
    vaswani = db.find("vaswani2017attention")
    cybenko = db.find("cybenko1989approximation")
    assert vaswani is not None and cybenko is not None
    # The free copy wins over the DOI; without one, the DOI link.
    assert (
        f"- Main: Vaswani and Shazeer (2017). Attention Is All You Need. {vaswani.get('oaurl')}"
        in text
    )
    assert f"https://doi.org/{cybenko.get('doi')}" in text
    assert text.index("- Main:") < text.index("- Background:")
    assert text.endswith(session.notes)


def test_sequence_and_last_modified_change_only_for_a_changed_session(tmp_path: Path) -> None:
    folder = tmp_path / "multi"
    shutil.copytree(MULTI, folder)
    ics = tmp_path / "dlg.ics"
    ics.write_bytes(ical.build_calendar(open_workspace(folder).db))
    first = {str(e["UID"]): e for e in _events(ics.read_bytes())}
    assert {int(e["SEQUENCE"]) for e in first.values()} == {0}

    # Same data again, another day: the file is identical.
    again = ical.build_calendar(
        open_workspace(folder).db, previous=ical.read_previous(ics), now=NOW
    )
    assert again == ics.read_bytes()

    group = folder / "group.toml"
    group.write_text(group.read_text().replace("Spring opener", "Spring opener (moved)"))
    db = open_workspace(folder).db
    changed = _events(ical.build_calendar(db, previous=ical.read_previous(ics), now=NOW))
    for event in changed:
        old = first[str(event["UID"])]
        if str(event["SUMMARY"]).endswith("(moved)"):
            assert int(event["SEQUENCE"]) == 1
            assert event.decoded("LAST-MODIFIED") == NOW
            assert event.decoded("DTSTAMP") == NOW
        else:
            assert int(event["SEQUENCE"]) == int(old["SEQUENCE"])
            assert event.decoded("LAST-MODIFIED") == old.decoded("LAST-MODIFIED")


def test_without_a_time_zone_times_are_floating() -> None:
    db = open_workspace(FIXTURES / "terms" / "floating").db
    assert db.group.timezone == ""
    data = ical.build_calendar(db)
    events = _events(data)
    assert len(events) == len(db.sessions)
    assert all(e.decoded("DTSTART").tzinfo is None for e in events)
    assert b"VTIMEZONE" not in data


def test_without_a_meeting_time_events_are_all_day() -> None:
    db = open_workspace(FIXTURES / "terms" / "outside").db
    events = _events(ical.build_calendar(db))
    assert [e.decoded("DTSTART") for e in events] == [s.date for s in db.sessions]
    assert [e.decoded("DTEND") - e.decoded("DTSTART") for e in events] == [
        dt.timedelta(days=1)
    ] * len(events)


def test_an_unreadable_previous_calendar_is_a_parse_error(tmp_path: Path) -> None:
    ics = tmp_path / "dlg.ics"
    ics.write_text("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSEQUENCE:x\n")
    with pytest.raises(ParseError) as caught:
        ical.read_previous(ics)
    assert caught.value.where == str(ics)
