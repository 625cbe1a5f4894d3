"""Tag entries with sessions (and their role there) and meta-topics. Pure edits on the model."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from dlg_bib.bibtex import store
from dlg_bib.bibtex.values import braced
from dlg_bib.errors import UNKNOWN_KEY_HINT, DlgBibError, UnknownKeyError, UnknownNameError
from dlg_bib.library.model import (
    F_SESSIONS,
    F_TOPICS,
    ROLES,
    Database,
    Entry,
    SessionTag,
    format_session_tags,
    split_list,
)


@dataclass(frozen=True)
class TagRequest:
    session: str | None = None
    role: str | None = None
    topic: str | None = None
    remove: bool = False


def validate_request(db: Database, request: TagRequest) -> None:
    """Unknown sessions, topics or roles are errors before anything is touched."""
    if request.session is None and request.topic is None:
        raise DlgBibError(
            "nothing to tag", hint="give --session DATE --role ROLE and/or --topic ID"
        )
    if request.session is not None:
        if db.session(request.session) is None:
            raise UnknownNameError(
                f"no session {request.session!r} in group.toml",
                hint=new_session_hint(db, request.session),
            )
        if not request.remove and request.role is None:
            raise DlgBibError("--session needs --role", hint=f"choose one of: {', '.join(ROLES)}")
    if request.role is not None and request.role not in ROLES:
        raise UnknownNameError(f"no role {request.role!r}", hint=f"roles: {', '.join(ROLES)}")
    if request.topic is not None and db.topic(request.topic) is None:
        known = ", ".join(t.id for t in db.topics) or "none"
        raise UnknownNameError(f"no topic {request.topic!r}", hint=f"known topics: {known}")


def new_session_hint(db: Database, date: str) -> str:
    """How to add a session: tags may only name sessions that group.toml defines."""
    known = ", ".join(s.id for s in db.sessions) or "none"
    topic = db.topics[0].id if db.topics else "TOPIC-ID"
    return (
        f"known sessions: {known}\n"
        "    to add one, append to group.toml (next to the .bib files):\n"
        "      [[sessions]]\n"
        f"      date = {date}\n"
        '      title = "What the session is about"\n'
        f'      topic = "{topic}"  # a [[topics]] id\n'
        "    then run the command again."
    )


def resolve_keys(db: Database, keys: list[str]) -> list[Entry]:
    """Entries for keys, aliases or legacy labels; all unknown ones reported at once."""
    found, missing = [], []
    for key in keys:
        entry = db.find(key)
        if entry is None:
            missing.append(key)
        elif entry not in found:
            found.append(entry)
    if missing:
        raise UnknownKeyError(f"unknown key(s): {', '.join(missing)}", hint=UNKNOWN_KEY_HINT)
    return found


def _set_list_field(entry: Entry, name: str, text: str) -> None:
    if text:
        entry.fields[name] = braced(text)
    else:
        entry.fields.pop(name, None)


def apply_tag(db: Database, entry: Entry, request: TagRequest) -> bool:
    """Edit one entry's tag fields; True when anything changed."""
    before = dict(entry.fields)
    topics = entry.topics
    sessions = entry.sessions
    if request.session is not None:
        others = [t for t in sessions if t.date != request.session]
        if request.remove:
            sessions = others
        else:
            assert request.role is not None
            # One role per session; re-tagging replaces it in place, keeping the order.
            existing = [t.date for t in sessions]
            new_tag = SessionTag(request.session, request.role)
            if request.session in existing:
                sessions = [new_tag if t.date == request.session else t for t in sessions]
            else:
                sessions = [*others, new_tag]
            session = db.session(request.session)
            if session is not None and session.topic and session.topic not in topics:
                topics = [*topics, session.topic]
    if request.topic is not None:
        if request.remove:
            topics = [t for t in topics if t != request.topic]
        elif request.topic not in topics:
            topics = [*topics, request.topic]
    if topics != entry.topics:
        _set_list_field(entry, F_TOPICS, ", ".join(topics))
    if sessions != entry.sessions:
        _set_list_field(entry, F_SESSIONS, format_session_tags(sessions))
    return entry.fields != before


def entry_diff(old_raw: str, entry: Entry, label: str) -> str:
    """A unified diff of one entry, for --dry-run and reports."""
    new_raw = store.format_entry(entry)
    lines = difflib.unified_diff(
        old_raw.splitlines(), new_raw.splitlines(), f"a/{label}", f"b/{label}", lineterm=""
    )
    return "\n".join(lines)


def split_keys(values: tuple[str, ...]) -> list[str]:
    """KEY arguments, also accepting comma-separated lists."""
    return [k for value in values for k in split_list(value)]
