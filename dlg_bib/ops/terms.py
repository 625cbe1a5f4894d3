"""`term new`: add a `[[terms]]` table (and, weekly, its sessions) to group.toml.

The file is edited by inserting text only: every byte already there (comments, order,
formatting, newlines) stays as it was. The result is parsed back and must hold exactly the
old data plus the new tables before it is written, atomically, through `store`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlg_bib.bibtex import store
from dlg_bib.errors import DlgBibError
from dlg_bib.library.database import Workspace, load_toml, valid_time, weekday_of
from dlg_bib.library.model import Term

# What `--weekly` writes as the title of each new session: a non-empty placeholder, so the
# README shows "TBA" until someone fills it in.
TBA = "TBA"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


class TermError(DlgBibError):
    """A term that cannot be added as asked (exit 2: nothing was written)."""


@dataclass
class Insertion:
    offset: int  # in the old text
    text: str


@dataclass
class TermPlan:
    path: Path
    old_text: str
    digest: str
    insertions: list[Insertion]
    terms: list[Term]  # the new term, after the implicit one written out when converting
    sessions: list[dt.date]
    new_text: str = field(default="", repr=False)

    def line_of(self, insertion: Insertion) -> int:
        return self.old_text.count("\n", 0, insertion.offset) + 1


def weekly_dates(first: dt.date, last: dt.date, weekday: int) -> list[dt.date]:
    """Every `weekday` (0 = Monday) from `first` to `last`, both included."""
    start = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
    count = (last - start).days // 7 + 1 if start <= last else 0
    return [start + dt.timedelta(weeks=i) for i in range(count)]


def plan_new_term(ws: Workspace, new: Term, *, weekly: bool) -> TermPlan:
    path = ws.metadata_path
    if path is None:
        raise TermError(
            "the database has no group.toml to add a term to",
            where=str(ws.root),
            hint="create group.toml next to the .bib files (see README.md, 'The database')",
        )
    _check_new(ws, new, path)
    db = ws.db
    text, digest = store.read_text(path)
    old_data = load_toml(path, text)
    explicit = [t for t in db.terms if not t.implicit]
    # A file without [[terms]] has one implicit term spanning its sessions: adding a second
    # term writes that one out first, so the old sessions keep a term and lint stays clean.
    converted = [t for t in db.terms if t.implicit]
    dates: list[dt.date] = []
    if weekly:
        day = new.day or db.group.day
        weekday = weekday_of(day)
        if weekday is None:
            raise TermError(
                f"--weekly needs the meeting day; {day!r} is not a day of the week"
                if day
                else "--weekly needs the meeting day, and [group] has no `day`",
                where=str(path),
                hint='pass --day Friday, or set day = "Friday" in [group]',
            )
        taken = {s.date for s in db.sessions}
        dates = [d for d in weekly_dates(new.first, new.last, weekday) if d not in taken]
    added = new
    nl = "\r\n" if "\r\n" in text else "\n"
    terms_text = nl.join(_term_table(t, nl) for t in [*converted, added])
    sessions_text = nl.join(_session_table(d, nl) for d in dates)
    expected = _expected_data(old_data, [*converted, added], dates)
    for where_terms, where_sessions in (
        (_terms_offset(text, explicit != []), _sessions_offset(text)),
        (len(text), len(text)),  # the fallback: both appended at the end of the file
    ):
        pieces = [(where_terms, terms_text)]
        if sessions_text:
            pieces.append((where_sessions, sessions_text))
        insertions = _insertions(text, pieces, nl)
        new_text = splice(text, insertions)
        if _loads(new_text) == expected:
            return TermPlan(path, text, digest, insertions, [*converted, added], dates, new_text)
    raise TermError(
        "cannot add the term by inserting text: group.toml would not read back as intended",
        where=str(path),
        hint="are `terms` or `sessions` written as inline arrays? write them as [[terms]] and "
        "[[sessions]] tables; nothing was written",
    )


def write_plan(plan: TermPlan) -> None:
    store.atomic_replace(plan.path, plan.new_text.encode("utf-8"), expected_digest=plan.digest)


def splice(text: str, insertions: list[Insertion]) -> str:
    out, pos = [], 0
    for ins in sorted(insertions, key=lambda i: i.offset):
        out.append(text[pos : ins.offset])
        out.append(ins.text)
        pos = ins.offset
    out.append(text[pos:])
    return "".join(out)


def _check_new(ws: Workspace, new: Term, path: Path) -> None:
    if not _ID.match(new.id):
        raise TermError(
            f"term id {new.id!r} is not a plain id",
            hint="use letters, digits, '-', '.' and '_', such as 2022-spring",
        )
    if not new.name.strip():
        raise TermError("the term needs a --name, such as 'Spring 2022'")
    if new.first > new.last:
        raise TermError(
            f"the term ends ({new.last}) before it starts ({new.first})",
            hint="swap --first and --last",
        )
    for name in ("start_time", "end_time"):
        value = getattr(new, name)
        if value and not valid_time(value):
            raise TermError(f"{value!r} is not a time", hint='write times as "11:00"')
    if new.day and weekday_of(new.day) is None:
        raise TermError(f"{new.day!r} is not a day of the week", hint="such as --day Friday")
    for term in ws.db.terms:
        where = f"{path}:{term.line}" if term.line else str(path)
        what = "the term of its existing sessions" if term.implicit else "term"
        if term.id == new.id:
            raise TermError(
                f"{what} {term.id!r} already exists", where=where, hint="choose another id"
            )
        if term.first <= new.last and new.first <= term.last:
            raise TermError(
                f"the new term ({new.first} to {new.last}) overlaps {what} {term.id!r} "
                f"({term.first} to {term.last})",
                where=where,
                hint="choose dates outside every existing term",
            )


def _string(value: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML forbids a raw DEL."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _term_table(term: Term, nl: str) -> str:
    lines = [
        "[[terms]]",
        f"id = {_string(term.id)}",
        f"name = {_string(term.name)}",
        f"first = {term.first.isoformat()}",
        f"last = {term.last.isoformat()}",
    ]
    for name in ("day", "start_time", "end_time", "room"):
        value = getattr(term, name)
        if value:
            lines.append(f"{name} = {_string(value)}")
    return nl.join(lines) + nl


def _session_table(date: dt.date, nl: str) -> str:
    return nl.join(["[[sessions]]", f"date = {date.isoformat()}", f"title = {_string(TBA)}"]) + nl


def _expected_data(old: dict[str, Any], terms: list[Term], dates: list[dt.date]) -> dict[str, Any]:
    data = dict(old)
    data["terms"] = [*old.get("terms", []), *(_term_dict(t) for t in terms)]
    if dates:
        data["sessions"] = [
            *old.get("sessions", []),
            *({"date": d, "title": TBA} for d in dates),
        ]
    return data


def _term_dict(term: Term) -> dict[str, Any]:
    data: dict[str, Any] = {"id": term.id, "name": term.name, "first": term.first}
    data["last"] = term.last
    for name in ("day", "start_time", "end_time", "room"):
        if getattr(term, name):
            data[name] = getattr(term, name)
    return data


def _loads(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


# ---- where the new tables go -------------------------------------------------------------


def _headers(text: str) -> list[tuple[int, str]]:
    """Offsets and text of the lines that look like table headers (`[group]`, `[[x]]`)."""
    found = []
    for match in _HEADER.finditer(text):
        end = text.find("\n", match.start())
        found.append((match.start(), text[match.start() : end if end >= 0 else len(text)]))
    return found


def _is_header(line: str, name: str) -> bool:
    return re.match(rf"^[ \t]*\[\[[ \t]*{re.escape(name)}[ \t]*\]\]", line) is not None


def _after_last(text: str, name: str) -> int | None:
    """Where the last `[[name]]` table ends: before the next header (and the comments
    written right above it), or the end of the file. None when there is no such table."""
    headers = _headers(text)
    last = max((i for i, (_, line) in enumerate(headers) if _is_header(line, name)), default=None)
    if last is None:
        return None
    if last + 1 < len(headers):
        return _before_comments(text, headers[last + 1][0])
    return len(text)


def _terms_offset(text: str, has_terms: bool) -> int:
    if has_terms:
        offset = _after_last(text, "terms")
        if offset is not None:
            return offset
    first_session = next((o for o, line in _headers(text) if _is_header(line, "sessions")), None)
    return _before_comments(text, first_session) if first_session is not None else len(text)


def _sessions_offset(text: str) -> int:
    offset = _after_last(text, "sessions")
    return len(text) if offset is None else offset


def _before_comments(text: str, offset: int) -> int:
    """Step back over the comment lines written directly above a header: they belong to it."""
    while offset > 0:
        previous_start = text.rfind("\n", 0, offset - 1) + 1
        if not text[previous_start:offset].strip().startswith("#"):
            break
        offset = previous_start
    return offset


def _insertions(text: str, pieces: list[tuple[int, str]], nl: str) -> list[Insertion]:
    """The text to insert at each offset, with one blank line around each new block."""
    by_offset: dict[int, list[str]] = {}
    for offset, block in pieces:
        by_offset.setdefault(offset, []).append(block)
    insertions = []
    for offset, blocks in sorted(by_offset.items()):
        body = nl.join(blocks)
        before = text[:offset]
        if offset == len(text):
            if not before:
                prefix = ""
            elif not before.endswith(nl):
                prefix = nl + nl
            else:
                prefix = "" if before.endswith(nl + nl) else nl
            insertions.append(Insertion(offset, prefix + body))
        else:
            prefix = "" if offset == 0 or before.endswith(nl + nl) else nl
            insertions.append(Insertion(offset, prefix + body + nl))
    return insertions
