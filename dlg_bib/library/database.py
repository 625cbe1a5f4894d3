"""Open the database folder: every `.bib` file plus `group.toml` (group, topics, sessions).

This is the I/O edge that turns files into a `model.Database`, and writes edits back through
`store`, one file at a time, changed entries only.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dlg_bib.bibtex import store
from dlg_bib.errors import ParseError
from dlg_bib.library.model import Database, Entry, Group, Session, Term, Topic

METADATA_NAME = "group.toml"
DEFAULT_BIB_FILE = "references.bib"


@dataclass
class Workspace:
    """The database as loaded: the model plus the files it came from, for writing back."""

    root: Path
    files: list[store.BibFile]
    metadata_path: Path | None
    db: Database

    def file_of(self, entry: Entry) -> store.BibFile:
        for bib in self.files:
            if entry.file == bib.path:
                return bib
        raise KeyError(entry.key)

    def default_file(self) -> store.BibFile:
        """Where new entries go: `references.bib` if present, else the first file."""
        for bib in self.files:
            if bib.path.name == DEFAULT_BIB_FILE:
                return bib
        if self.files:
            return self.files[0]
        path = self.root / DEFAULT_BIB_FILE if self.root.is_dir() else self.root
        bib = store.parse_bib(path, "", "")
        self.files.append(bib)
        return bib

    def save(self, changed: list[Entry], added: list[Entry] | None = None) -> list[Path]:
        """Write changed entries (in their files) and new entries (to the default file)."""
        written = []
        added = added or []
        target = self.default_file() if added else None
        for bib in self.files:
            mine = [e for e in changed if e.file == bib.path]
            new = added if bib is target else []
            if not mine and not new:
                continue
            for e in new:
                e.file = bib.path
            if store.write_changes(bib, mine, new):
                written.append(bib.path)
        return written


def bib_paths(root: Path) -> tuple[list[Path], Path | None]:
    """The `.bib` files and the metadata file of a database given as folder or single file."""
    if root.is_dir():
        meta = root / METADATA_NAME
        return sorted(root.glob("*.bib")), meta if meta.exists() else None
    if root.is_file():
        meta = root.parent / METADATA_NAME
        return [root], meta if meta.exists() else None
    raise ParseError(
        "no such database",
        where=str(root),
        hint="pass --bib with a folder of .bib files (default: bib/) or a single .bib file",
    )


def open_workspace(root: Path) -> Workspace:
    paths, meta_path = bib_paths(root)
    files = [store.load_file(p) for p in paths]
    group, topics, sessions, terms = Group(), list[Topic](), list[Session](), list[Term]()
    if meta_path:
        text, _ = store.read_text(meta_path)
        data = load_toml(meta_path, text)
        group, topics, sessions = parse_metadata(data, meta_path, text)
        terms = parse_terms(data, meta_path, text)
    entries = [e for bib in files for e in bib.entries]
    return Workspace(root, files, meta_path, Database(group, topics, sessions, entries, terms))


def open_database(root: Path) -> Database:
    return open_workspace(root).db


# ---- group.toml --------------------------------------------------------------------------

_TOML_LINE = re.compile(r"at line (\d+)")


def load_metadata(path: Path) -> tuple[Group, list[Topic], list[Session]]:
    text, _ = store.read_text(path)
    return parse_metadata(load_toml(path, text), path, text)


def load_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = match.group(1) if match else "1"
        raise ParseError(
            f"invalid TOML: {exc}",
            where=f"{path}:{line}",
            hint="see README.md, section 'The database', for the format",
        ) from exc


def _line_of_value(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def parse_metadata(
    data: dict[str, Any], path: Path, text: str = ""
) -> tuple[Group, list[Topic], list[Session]]:
    group_data = data.get("group", {})
    known = {f.name for f in fields(Group)}
    unknown = sorted(set(group_data) - known)
    if unknown:
        raise ParseError(
            f"unknown key(s) in [group]: {', '.join(unknown)}",
            where=f"{path}:{_line_of_value(text, unknown[0])}",
            hint=f"known keys: {', '.join(sorted(known))}",
        )
    group = Group(**{k: str(v) for k, v in group_data.items()})
    _check_group(group, path, text)
    topics = []
    for item in data.get("topics", []):
        if "id" not in item or "title" not in item:
            raise ParseError(
                "each [[topics]] needs `id` and `title`",
                where=f"{path}:{_line_of_value(text, '[[topics]]')}",
            )
        topics.append(Topic(str(item["id"]), str(item["title"])))
    sessions = []
    lines = _table_lines(text, "sessions", len(data.get("sessions", [])))
    for index, item in enumerate(data.get("sessions", [])):
        date = item.get("date")
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                date = None
        if not isinstance(date, dt.date):
            raise ParseError(
                f"session date {item.get('date')!r} is not an ISO date",
                where=f"{path}:{_line_of_value(text, str(item.get('date')))}",
                hint="write dates as 2021-09-03 (no quotes needed)",
            )
        sessions.append(
            Session(
                date=date,
                title=str(item.get("title", "")),
                topic=str(item.get("topic", "")),
                notes=str(item.get("notes", "")),
                line=lines[index] if lines else _line_of_value(text, date.isoformat()),
                curator=str(item.get("curator", "")),
            )
        )
    sessions.sort(key=lambda s: s.date)
    return group, topics, sessions


# ---- terms and time zone -----------------------------------------------------------------

_TERM_REQUIRED = ("id", "name", "first", "last")
_TERM_OPTIONAL = ("day", "start_time", "end_time", "room")
_TIME = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TERMS_HINT = (
    'each [[terms]] needs id = "2022-spring", name = "Spring 2022", first = 2022-01-21 and '
    "last = 2022-05-06 (dates without quotes); see README.md, section 'Terms'"
)


def _table_lines(text: str, name: str, count: int) -> list[int]:
    """The line of each `[[name]]` header, in order; empty when they do not match the data
    one to one (tables written inline, or a header inside a multi-line string)."""
    header = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(name)}[ \t]*\]\]", re.MULTILINE)
    lines = [text.count("\n", 0, m.start()) + 1 for m in header.finditer(text)]
    return lines if len(lines) == count else []


def weekday_of(day: str) -> int | None:
    """0 for "Monday" (or "Mondays", any case), None for anything else."""
    folded = day.strip().lower().removesuffix("s")
    return WEEKDAYS.index(folded) if folded in WEEKDAYS else None


def valid_time(text: str) -> bool:
    return bool(_TIME.match(text))


def _line_of_key(text: str, key: str) -> int:
    """The line where `key = ` is set (not where a comment mentions it)."""
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else _line_of_value(text, key)


def _check_group(group: Group, path: Path, text: str) -> None:
    if group.timezone:
        check_timezone(group.timezone, f"{path}:{_line_of_key(text, 'timezone')}")
    for name in ("start_time", "end_time"):
        value = getattr(group, name)
        if value and not valid_time(value):
            raise ParseError(
                f"[group] {name} {value!r} is not a time",
                where=f"{path}:{_line_of_key(text, name)}",
                hint='write times as "11:00" (24-hour clock)',
            )


def check_timezone(name: str, where: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ParseError(
            f"unknown time zone {name!r}",
            where=where,
            hint='write an IANA time zone name, such as timezone = "America/Los_Angeles"',
        ) from exc


def parse_terms(data: dict[str, Any], path: Path, text: str = "") -> list[Term]:
    items = data.get("terms", [])
    if not isinstance(items, list):
        raise ParseError(
            "`terms` must be [[terms]] tables",
            where=f"{path}:{_line_of_value(text, 'terms')}",
            hint=_TERMS_HINT,
        )
    lines = _table_lines(text, "terms", len(items))
    terms = []
    for index, item in enumerate(items):
        line = lines[index] if lines else _line_of_value(text, "[[terms]]")
        where = f"{path}:{line}"
        if not isinstance(item, dict):
            raise ParseError("`terms` must be [[terms]] tables", where=where, hint=_TERMS_HINT)
        missing = [k for k in _TERM_REQUIRED if k not in item]
        unknown = sorted(set(item) - set(_TERM_REQUIRED) - set(_TERM_OPTIONAL))
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            raise ParseError(f"[[terms]] table: {what}", where=where, hint=_TERMS_HINT)
        first, last = item["first"], item["last"]
        if not (_is_date(first) and _is_date(last)):
            raise ParseError(
                "a term's `first` and `last` must be dates", where=where, hint=_TERMS_HINT
            )
        if first > last:
            raise ParseError(
                f"term {item['id']!r} ends ({last}) before it starts ({first})",
                where=where,
                hint="swap `first` and `last`",
            )
        extra = {k: str(item.get(k, "")) for k in _TERM_OPTIONAL}
        for name in ("start_time", "end_time"):
            if extra[name] and not valid_time(extra[name]):
                raise ParseError(
                    f"term {item['id']!r}: {name} {extra[name]!r} is not a time",
                    where=where,
                    hint='write times as "11:00" (24-hour clock)',
                )
        if extra["day"] and weekday_of(extra["day"]) is None:
            raise ParseError(
                f"term {item['id']!r}: day {extra['day']!r} is not a day of the week",
                where=where,
                hint='write the day in English, such as day = "Friday"',
            )
        terms.append(
            Term(
                id=str(item["id"]),
                name=str(item["name"]),
                first=first,
                last=last,
                day=extra["day"],
                start_time=extra["start_time"],
                end_time=extra["end_time"],
                room=extra["room"],
                line=line,
            )
        )
    return sorted(terms, key=lambda t: (t.first, t.last, t.id))


def _is_date(value: object) -> bool:
    # TOML local dates load as `date`; a datetime is a `date` too, but not a day.
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
