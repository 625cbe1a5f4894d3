"""Which entries an export holds: by session, topic, keys or a paper's `.aux`, or all.

Criteria add up (a union). Keys are looked up as BibTeX does (case-insensitively) and also as
aliases (`ids`) and legacy labels (`Ref 14`). Placeholders (`dlg-placeholder`: a title and a
year, no real record yet) are left out unless asked for, because they would make BibTeX warn;
a placeholder named explicitly is reported. `crossref` parents always come along and are
ordered after every child (BibTeX only inherits from entries that come later).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib.bibtex.syntax import is_valid_key
from dlg_bib.errors import UnknownNameError
from dlg_bib.export.aux import read_aux
from dlg_bib.library.model import Database, Entry, normalize_label


@dataclass
class Criteria:
    sessions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    aux_files: list[Path] = field(default_factory=list)
    include_placeholders: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.sessions or self.topics or self.keys or self.aux_files)


@dataclass(frozen=True)
class Uncitable:
    where: str  # .aux file:line
    cited: str
    key: str
    kind: str  # "legacy label" or "alias"


@dataclass
class Selection:
    """The entries to write (children before parents, else by key) and what went wrong."""

    entries: list[Entry]
    parents: dict[str, str] = field(default_factory=dict)  # lowercased child key -> parent key
    # Aliases (`ids`) and old keys a paper cites, by lowercased real key: BibTeX has no
    # aliases, so its export repeats such entries under the cited name.
    aliases: dict[str, list[str]] = field(default_factory=dict)
    cited_only_by_alias: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    missing_aux: list[Path] = field(default_factory=list)
    # A paper citing a legacy label like `Ref 14`: we resolve it, but BibTeX cannot read
    # a key with a space, so the paper must cite the key instead.
    uncitable: list[Uncitable] = field(default_factory=list)

    @property
    def crossref_targets(self) -> set[str]:
        return {key.lower() for key in self.parents.values()}

    def parent_key(self, entry: Entry) -> str | None:
        """The real key of an entry's `crossref` parent (the field may hold an alias)."""
        return self.parents.get(entry.key.lower())

    @property
    def complete(self) -> bool:
        return not (self.unknown or self.placeholders)


def select(db: Database, criteria: Criteria) -> Selection:
    chosen: dict[str, Entry] = {}
    selection = Selection(entries=[])
    requested, cite_all, cited_at = _requested_keys(criteria, selection)
    if criteria.is_empty or cite_all:
        for entry in db.entries:
            if criteria.include_placeholders or not entry.is_placeholder:
                chosen.setdefault(entry.key.lower(), entry)
    for entry in _by_sessions_and_topics(db, criteria):
        if criteria.include_placeholders or not entry.is_placeholder:
            chosen.setdefault(entry.key.lower(), entry)
    by_alias: dict[str, Entry] = {}
    for key in requested:
        found = db.find(key)
        if found is None:
            selection.unknown.append(key)
        elif found.is_placeholder and not criteria.include_placeholders:
            selection.placeholders.append(key)
        elif key.lower() != found.key.lower() and is_valid_key(key):
            by_alias[found.key.lower()] = found
            selection.aliases.setdefault(found.key.lower(), []).append(key)
        else:
            chosen.setdefault(found.key.lower(), found)
            if key in cited_at and not is_valid_key(key):
                labels = {normalize_label(label) for label in found.legacy_labels}
                kind = "legacy label" if normalize_label(key) in labels else "alias"
                selection.uncitable.append(Uncitable(cited_at[key], key, found.key, kind))
    selection.cited_only_by_alias = set(by_alias) - set(chosen)
    for lowered, entry in by_alias.items():
        chosen.setdefault(lowered, entry)
    _add_crossref_parents(db, chosen, selection)
    selection.entries = ordered(list(chosen.values()), selection.parents)
    return selection


def _requested_keys(
    criteria: Criteria, selection: Selection
) -> tuple[list[str], bool, dict[str, str]]:
    """Keys asked for, whether `\\nocite{*}` was, and where a paper cites each key."""
    keys = [k.strip() for k in criteria.keys if k.strip()]
    cite_all = False
    cited_at: dict[str, str] = {}
    if criteria.aux_files:
        cited = read_aux(criteria.aux_files)
        keys.extend(cited.keys)
        cite_all = cited.cite_all
        cited_at = cited.where
        selection.missing_aux = cited.missing
    return list(dict.fromkeys(keys)), cite_all, cited_at


def _by_sessions_and_topics(db: Database, criteria: Criteria) -> list[Entry]:
    for date in criteria.sessions:
        if db.session(date) is None and not any(
            tag.date == date for e in db.entries for tag in e.sessions
        ):
            known = ", ".join(s.id for s in db.sessions) or "none"
            raise UnknownNameError(f"unknown session {date!r}", hint=f"sessions: {known}")
    for topic in criteria.topics:
        if db.topic(topic) is None:
            known = ", ".join(t.id for t in db.topics) or "none"
            raise UnknownNameError(f"unknown topic {topic!r}", hint=f"topics: {known}")
    wanted_dates = set(criteria.sessions)
    wanted_topics = set(criteria.topics)
    return [
        e
        for e in db.entries
        if wanted_dates.intersection(t.date for t in e.sessions)
        or wanted_topics.intersection(e.topics)
    ]


def _add_crossref_parents(db: Database, chosen: dict[str, Entry], selection: Selection) -> None:
    pending = list(chosen.values())
    while pending:
        entry = pending.pop()
        parent_key = entry.get("crossref").strip()
        if not parent_key:
            continue
        parent = db.find(parent_key)
        if parent is None:
            if parent_key not in selection.unknown:
                selection.unknown.append(parent_key)
            continue
        selection.parents[entry.key.lower()] = parent.key
        if parent.key.lower() not in chosen:
            chosen[parent.key.lower()] = parent
            pending.append(parent)


def ordered(entries: list[Entry], parents: dict[str, str]) -> list[Entry]:
    """By key, except that a `crossref` parent follows all its children (and its own parent
    follows it): sort by depth in the crossref chain, then key. `parents` maps lowercased
    child keys to parent keys."""
    depth = {e.key.lower(): 0 for e in entries}
    links = [(child, parent.lower()) for child, parent in parents.items()]
    for _ in range(len(entries)):  # chains are short; a cycle stops after len(entries) rounds
        changed = False
        for child, parent in links:
            if child in depth and parent in depth and depth[parent] <= depth[child]:
                depth[parent] = depth[child] + 1
                changed = True
        if not changed:
            break
    return sorted(entries, key=lambda e: (depth[e.key.lower()], e.key.lower(), e.key))
