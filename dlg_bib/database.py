"""Open the database folder: every `.bib` file plus `group.toml` (group, topics, sessions).

This is the I/O edge that turns files into a `model.Database`, and writes edits back through
`store`, one file at a time, changed entries only.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dlg_bib import store
from dlg_bib.errors import ParseError
from dlg_bib.model import Database, Entry, Group, Session, Topic

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
    group, topics, sessions = load_metadata(meta_path) if meta_path else (Group(), [], [])
    entries = [e for bib in files for e in bib.entries]
    return Workspace(root, files, meta_path, Database(group, topics, sessions, entries))


def open_database(root: Path) -> Database:
    return open_workspace(root).db


# ---- group.toml --------------------------------------------------------------------------

_TOML_LINE = re.compile(r"at line (\d+)")


def load_metadata(path: Path) -> tuple[Group, list[Topic], list[Session]]:
    text, _ = store.read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = match.group(1) if match else "1"
        raise ParseError(
            f"invalid TOML: {exc}",
            where=f"{path}:{line}",
            hint="see README.md, section 'The database', for the format",
        ) from exc
    return parse_metadata(data, path, text)


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
    topics = []
    for item in data.get("topics", []):
        if "id" not in item or "title" not in item:
            raise ParseError(
                "each [[topics]] needs `id` and `title`",
                where=f"{path}:{_line_of_value(text, '[[topics]]')}",
            )
        topics.append(Topic(str(item["id"]), str(item["title"])))
    sessions = []
    for item in data.get("sessions", []):
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
                curator=str(item.get("curator", "")),
            )
        )
    sessions.sort(key=lambda s: s.date)
    return group, topics, sessions
