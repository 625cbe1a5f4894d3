"""The sessions as an RFC 5545 calendar (one VEVENT per session), written with `icalendar`.

Deterministic: the same database (and the same previous file) gives the same bytes. UIDs
come from the group and the session date, so a re-imported or re-fetched file updates the
events instead of duplicating them. Each event carries a hash of its content
(X-DLG-CONTENT-HASH); against the previous file, an event whose hash changed gets
SEQUENCE + 1 and LAST-MODIFIED/DTSTAMP = now, and an unchanged one keeps its old values.
Without a previous file SEQUENCE is 0 and LAST-MODIFIED is midnight UTC of its term's
first day: a fixed function of the data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import icalendar

from dlg_bib.bibtex import store
from dlg_bib.errors import ParseError, UnknownNameError
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import Database, Session
from dlg_bib.render.context import ROLE_LABELS, Reference, build_context

PRODID = "-//UCM DLG//dlg-bib//EN"
HASH_PROPERTY = "X-DLG-CONTENT-HASH"
_NOT_SLUG = re.compile(r"[^a-z0-9.]+")


@dataclass(frozen=True)
class Previous:
    """What an event of the previous file says about its last change."""

    sequence: int
    modified: dt.datetime
    content_hash: str


def read_previous(path: Path) -> dict[str, Previous]:
    """The events of a calendar written before, by UID (empty when there is no file)."""
    if not path.exists():
        return {}
    text, _ = store.read_text(path)
    try:
        calendar = icalendar.Calendar.from_ical(text)
        events = {}
        for event in calendar.walk("VEVENT"):
            stamp = event.decoded("LAST-MODIFIED", None) or event.decoded("DTSTAMP")
            events[str(event["UID"])] = Previous(
                int(event.get("SEQUENCE", 0)), _utc(stamp), str(event.get(HASH_PROPERTY, ""))
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(
            f"the existing calendar cannot be read: {exc}",
            where=str(path),
            hint="it is read to keep SEQUENCE/LAST-MODIFIED of unchanged events; "
            "move it away or write elsewhere with -o; nothing was written",
        ) from exc
    return events


def build_calendar(
    db: Database,
    *,
    term_id: str | None = None,
    previous: dict[str, Previous] | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The .ics bytes of every session (of one term with `term_id`)."""
    sessions = _sessions(db, term_id)
    tz = zoneinfo.ZoneInfo(db.group.timezone) if db.group.timezone else None
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = db.group.name or db.group.short_name or "Reading group"
    if term_id is not None:
        term = db.term(term_id)
        name = f"{name}, {term.name}" if term else name
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if tz is not None and sessions:
        calendar.add("x-wr-timezone", db.group.timezone)
        first = min(s.date for s in sessions)
        last = max(s.date for s in sessions)
        # Only the years the sessions need: a short VTIMEZONE, and the same one every run.
        calendar.add_component(
            icalendar.Timezone.from_tzinfo(
                tz,
                tzid=db.group.timezone,
                first_date=dt.date(first.year, 1, 1),
                last_date=dt.date(last.year + 1, 1, 1),
            )
        )
    ctx = build_context(db, dt.date.min, {r.key for s in sessions for r in s.readings})
    refs = {r.key: r for r in ctx.references}
    uid_domain = "dlg." + group_slug(db)
    for session in sessions:
        calendar.add_component(
            _event(db, session, refs, tz, uid_domain, previous or {}, now or _now())
        )
    data: bytes = calendar.to_ical()
    return data


def group_slug(db: Database) -> str:
    """The host and path of the group's repository ("github.com-owner-repo"), else its name."""
    parts = urlsplit(db.group.repository)
    source = parts.netloc + parts.path if parts.netloc else db.group.short_name or db.group.name
    return _NOT_SLUG.sub("-", source.lower()).strip("-.") or "dlg-bib"


def reading_link(ref: Reference) -> str:
    """The free copy when there is one, else the reference's first link (DOI, arXiv, URL)."""
    free = next((link.url for link in ref.links if link.kind == "free"), "")
    if not free and ref.fields is not None:
        # `oaurl` equal to the entry's own url/pdf is listed under that link's kind.
        free = safe_url(ref.fields.get("oaurl"))
    return free or ref.paper_url


def description(db: Database, session: Session, refs: dict[str, Reference]) -> str:
    lines = []
    topic = db.topic(session.topic)
    if topic is not None:
        lines += [f"Topic: {topic.title}", ""]
    readings = [(r.role, refs[r.key]) for r in session.readings if r.key in refs]
    if readings:
        lines.append("Readings:")
        for role, ref in readings:
            label = ROLE_LABELS.get(role, role.capitalize())
            title = f" {ref.title}." if ref.title else ""
            link = reading_link(ref)
            cited = ref.citation.rstrip(".")  # "Zhang et al." has its own full stop
            lines.append(f"- {label}: {cited}.{title}" + (f" {link}" if link else ""))
        lines.append("")
    if session.notes:
        lines.append(session.notes)
    return "\n".join(lines).strip()


def _sessions(db: Database, term_id: str | None) -> list[Session]:
    if term_id is None:
        return list(db.sessions)
    term = db.term(term_id)
    if term is None:
        known = ", ".join(t.id for t in db.terms) or "none"
        raise UnknownNameError(
            f"no term {term_id!r}",
            hint=f"terms: {known} (see `[[terms]]` in group.toml)",
        )
    return db.sessions_in(term)


def _event(
    db: Database,
    session: Session,
    refs: dict[str, Reference],
    tz: zoneinfo.ZoneInfo | None,
    uid_domain: str,
    previous: dict[str, Previous],
    now: dt.datetime,
) -> icalendar.Event:
    term = db.term_of(session)
    _, start, end, room = term.meeting(db.group) if term else _group_meeting(db)
    props: list[tuple[str, object]] = [
        ("summary", session.title or f"{db.group.short_name or 'Group'} session")
    ]
    if start:
        begins = _at(session.date, start, tz)
        props.append(("dtstart", begins))
        ends = _at(session.date, end, tz) if end else None
        if ends is not None and ends > begins:
            props.append(("dtend", ends))
    else:  # no meeting time known: an all-day event
        props += [("dtstart", session.date), ("dtend", session.date + dt.timedelta(days=1))]
    if room:
        props.append(("location", room))
    text = description(db, session, refs)
    if text:
        props.append(("description", text))
    if db.group.repository:
        props.append(("url", db.group.repository))
    content = icalendar.Event()
    for name, value in props:
        content.add(name, value)
    content_hash = hashlib.sha256(content.to_ical()).hexdigest()[:32]

    uid = f"{session.id}@{uid_domain}"
    sequence, modified = 0, _midnight_utc(term.first if term else session.date)
    old = previous.get(uid)
    if old is not None:
        changed = old.content_hash != content_hash
        sequence = old.sequence + 1 if changed else old.sequence
        modified = now if changed else old.modified
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("sequence", sequence)
    for name, value in props:
        event.add(name, value)
    event.add(HASH_PROPERTY, content_hash)
    return event


def _group_meeting(db: Database) -> tuple[str, str, str, str]:
    g = db.group
    return g.day, g.start_time, g.end_time, g.room


def _at(date: dt.date, time: str, tz: zoneinfo.ZoneInfo | None) -> dt.datetime:
    hours, minutes = time.split(":")
    return dt.datetime.combine(date, dt.time(int(hours), int(minutes)), tz)


def _midnight_utc(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(0), dt.UTC)


def _utc(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    raise TypeError(f"LAST-MODIFIED/DTSTAMP {value!r} is not a date-time")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
