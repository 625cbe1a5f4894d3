"""The reading list as data: entries, topics, sessions and the roles of readings in them.

Pure: nothing here reads files or the network. `store` builds these from `bib/`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib import values

ROLES = ("main", "reading", "prerequisite")

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
    readings: list[Reading] = field(default_factory=list)

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


@dataclass
class Database:
    group: Group
    topics: list[Topic]
    sessions: list[Session]
    entries: list[Entry]

    def __post_init__(self) -> None:
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
