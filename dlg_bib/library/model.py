"""The reading list as data: entries, topics, sessions and the roles of readings in them.

Pure: nothing here reads files or the network. `store` builds these from `bib/`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib.bibtex import values

# `supplementary`: what the legacy notes call supplementary references (blogs, course notes,
# encyclopaedia pages) beside the background a session presumes (`prerequisite`).
ROLES = ("main", "reading", "prerequisite", "supplementary")

# dlg-specific BibTeX fields. They live in the entries, so tagging is one edit in one place.
F_TOPICS = "dlg-topics"
F_SESSIONS = "dlg-sessions"
F_LEGACY = "dlg-legacy"
F_PLACEHOLDER = "dlg-placeholder"
F_NOTE = "dlg-note"
DLG_FIELDS = (F_TOPICS, F_SESSIONS, F_LEGACY, F_PLACEHOLDER, F_NOTE)


@dataclass
class Entry:
    """One BibTeX entry. `fields` hold raw values as written (`{…}`, `"…"`, macros)."""

    key: str
    entry_type: str
    fields: dict[str, str]
    file: Path | None = None
    line: int = 0
    type_as_written: str = ""
    strings: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # `YEAR`, `Title`: field names as the file spells them, so a rewrite keeps them.
    names_as_written: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def get(self, name: str, default: str = "") -> str:
        """The text of a field (enclosing removed, @string macros resolved), still LaTeX."""
        raw = self.fields.get(name)
        if raw is None:
            return default
        try:
            return values.resolve(raw, self.strings)
        except values.ValueSyntaxError as exc:
            raise values.ValueSyntaxError(
                f"field `{name}` of {self.key} is not valid BibTeX: {exc.message}",
                where=self.where,
                hint="run `dlg-bib lint` and fix the value (braces, quotes, `#`)",
            ) from exc

    def has(self, name: str) -> bool:
        return bool(self.get(name).strip())

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else self.key

    @property
    def topics(self) -> list[str]:
        return split_list(self.get(F_TOPICS))

    @property
    def sessions(self) -> list[SessionTag]:
        return [parse_session_tag(item) for item in split_list(self.get(F_SESSIONS))]

    @property
    def legacy_labels(self) -> list[str]:
        return split_list(self.get(F_LEGACY))

    @property
    def aliases(self) -> list[str]:
        return split_list(self.get("ids"))

    @property
    def is_placeholder(self) -> bool:
        return F_PLACEHOLDER in self.fields


@dataclass(frozen=True)
class SessionTag:
    """`2021-11-12:main` as written in `dlg-sessions`; `date` stays a string until checked."""

    date: str
    role: str


@dataclass(frozen=True)
class Topic:
    id: str
    title: str


@dataclass(frozen=True)
class Reading:
    """A reference in a session, with its role there."""

    key: str
    role: str


@dataclass
class Session:
    date: dt.date
    title: str
    topic: str
    notes: str = ""
    curator: str = ""  # who chose the readings, when it was not the organiser
    readings: list[Reading] = field(default_factory=list)
    line: int = 0  # of its table in group.toml, for lint; 0 when not from a file

    @property
    def id(self) -> str:
        return self.date.isoformat()

    def keys_with_role(self, role: str) -> list[str]:
        return [r.key for r in self.readings if r.role == role]


@dataclass
class Group:
    name: str = ""
    short_name: str = ""
    term: str = ""
    organiser: str = ""
    organiser_url: str = ""
    day: str = ""
    start_time: str = ""
    end_time: str = ""
    room: str = ""
    repository: str = ""
    description: str = ""
    meeting_format: str = ""
    timezone: str = ""  # IANA name; empty: calendar times are floating (local)
    term_start: str = ""  # ISO date of the first meeting
    chapter: str = ""  # the student chapter the group belongs to
    series: str = ""  # the chapter's seminar series the group is part of
    paper: str = ""  # the handout's paper size: a4 or us-letter
    site_url: str = ""  # where `dlg-bib site` is published; default: the GitHub Pages URL


@dataclass(frozen=True)
class Term:
    """A term (`[[terms]]` in group.toml): the sessions between `first` and `last` belong to it.

    `day`, `start_time`, `end_time` and `room` are empty when the group's apply.
    `implicit` marks the one term read from a file without `[[terms]]`.
    """

    id: str
    name: str
    first: dt.date
    last: dt.date
    day: str = ""
    start_time: str = ""
    end_time: str = ""
    room: str = ""
    line: int = 0
    implicit: bool = False

    def contains(self, date: dt.date) -> bool:
        return self.first <= date <= self.last

    def overlaps(self, other: Term) -> bool:
        return self.first <= other.last and other.first <= self.last

    def meeting(self, group: Group) -> tuple[str, str, str, str]:
        """Day, start time, end time and room of this term's sessions: its own, else the group's."""
        return (
            self.day or group.day,
            self.start_time or group.start_time,
            self.end_time or group.end_time,
            self.room or group.room,
        )


@dataclass
class Database:
    group: Group
    topics: list[Topic]
    sessions: list[Session]
    entries: list[Entry]
    terms: list[Term] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.terms:
            implicit = implicit_term(self.group, self.sessions)
            self.terms = [implicit] if implicit else []
        self._by_key = {e.key.lower(): e for e in reversed(self.entries)}
        self._aliases: dict[str, Entry] = {}
        for e in self.entries:
            for alias in [*e.aliases, *e.legacy_labels]:
                self._aliases.setdefault(normalize_label(alias), e)
        self._link_readings()

    def _link_readings(self) -> None:
        by_date = {s.id: s for s in self.sessions}
        for s in self.sessions:
            s.readings = []
        for e in self.entries:
            for tag in e.sessions:
                session = by_date.get(tag.date)
                if session is not None:
                    session.readings.append(Reading(e.key, tag.role))
        order = {role: i for i, role in enumerate(ROLES)}
        for s in self.sessions:
            s.readings.sort(key=lambda r: order.get(r.role, len(order)))

    def find(self, key_or_label: str) -> Entry | None:
        """An entry by key (case-insensitive, as BibTeX), alias or legacy label ("Ref 14")."""
        return self._by_key.get(key_or_label.lower()) or self._aliases.get(
            normalize_label(key_or_label)
        )

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def session(self, date: str) -> Session | None:
        return next((s for s in self.sessions if s.id == date), None)

    def term(self, term_id: str) -> Term | None:
        return next((t for t in self.terms if t.id == term_id), None)

    def term_of(self, session: Session) -> Term | None:
        """The term whose dates contain the session (the earliest, if terms overlap)."""
        return next((t for t in self.terms if t.contains(session.date)), None)

    def sessions_in(self, term: Term) -> list[Session]:
        return [s for s in self.sessions if self.term_of(s) == term]


_SEASON_YEAR = re.compile(r"^\s*([A-Za-z]+)\s+(\d{4})\s*$")
_NOT_ID = re.compile(r"[^a-z0-9]+")


def term_id_of(name: str, first: dt.date) -> str:
    """An id for a term known only by its name: "Fall 2021" -> "2021-fall"."""
    match = _SEASON_YEAR.match(name)
    if match:
        return f"{match.group(2)}-{match.group(1).lower()}"
    return _NOT_ID.sub("-", name.lower()).strip("-") or str(first.year)


def implicit_term(group: Group, sessions: list[Session]) -> Term | None:
    """The one term of a file without `[[terms]]`: `[group] term`, spanning its sessions."""
    if not sessions:
        return None
    first = min(s.date for s in sessions)
    last = max(s.date for s in sessions)
    name = group.term or f"Sessions {first.year}"
    return Term(term_id_of(name, first), name, first, last, implicit=True)


def split_list(text: str) -> list[str]:
    if not text:  # most entries have no dlg fields: asked for them several times each
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_session_tag(item: str) -> SessionTag:
    date, _, role = item.partition(":")
    return SessionTag(date.strip(), role.strip() or "reading")


def format_session_tags(tags: list[SessionTag]) -> str:
    return ", ".join(f"{t.date}:{t.role}" for t in tags)


def normalize_label(label: str) -> str:
    """ "Ref 14", "ref14" and "REF  14" are the same legacy label."""
    return "".join(label.lower().split())
