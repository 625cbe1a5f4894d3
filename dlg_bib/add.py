"""`add`: a paper from its identifier to a complete, tagged entry with a house-rule key.

Identifiers are read in every common form (arXiv ids and abs/pdf URLs, DOIs bare, `doi:`,
resolver URLs, percent-encoded, inside publisher URLs). A paper already in the database is
reported with its key and not added again. Fetching is done by `enrich.resolver`; the entry
is built with the same merge policy as `enrich`. `add_all` is the workflow of `dlg-bib add`,
one `Step` per identifier, for the CLI to print.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from dlg_bib.bibtex import values
from dlg_bib.bibtex.store import format_entry
from dlg_bib.enrich import merge
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.merge import Evidence
from dlg_bib.enrich.run import GIVEN_UP
from dlg_bib.enrich.setup import Run
from dlg_bib.errors import UnknownNameError
from dlg_bib.library import ids, keys, normalize
from dlg_bib.library.model import F_SESSIONS, F_TOPICS, Database, Entry

_EXTRA_DOI_PREFIX = re.compile(r"^(?:info:doi/|urn:doi:)", re.IGNORECASE)


@dataclass(frozen=True)
class Identifier:
    kind: Literal["arxiv", "doi"]
    value: str  # arXiv id (with version when given) or bare DOI
    given: str

    def __str__(self) -> str:
        return f"arXiv:{self.value}" if self.kind == "arxiv" else f"doi:{self.value}"


def parse_identifier(text: str) -> Identifier | None:
    """An arXiv id or a DOI in any common form; None when `text` is neither."""
    cleaned = text.strip()
    if re.match(r"^(?:www\.|export\.)?arxiv\.org/", cleaned, re.IGNORECASE):
        cleaned = "https://" + cleaned
    arxiv = normalize.canonical_arxiv_id(cleaned)
    if arxiv is not None:
        return Identifier("arxiv", arxiv[0] + arxiv[1], text)
    doi = ids.normalize_doi(_EXTRA_DOI_PREFIX.sub("", cleaned))
    if doi is None:
        return None
    from_doi = normalize.arxiv_id_of_doi(doi)
    if from_doi is not None:
        return Identifier("arxiv", from_doi, text)
    return Identifier("doi", doi, text)


@dataclass(frozen=True)
class Tags:
    session: str = ""
    role: str = "reading"
    topic: str = ""


def seed_entry(identifier: Identifier) -> Entry:
    """A blank entry that names only the identifier: what the resolver looks up."""
    if identifier.kind == "arxiv":
        fields = {"eprint": values.braced(identifier.value), "archiveprefix": "{arXiv}"}
    else:
        fields = {"doi": values.braced(identifier.value)}
    return Entry(key="new", entry_type="misc", fields=fields)


def _bare_arxiv(arxiv_id: str) -> str:
    parsed = normalize.canonical_arxiv_id(arxiv_id)
    return parsed[0] if parsed else arxiv_id


def existing_entry(
    entries: list[Entry], identifier: Identifier, evidence: Evidence | None = None
) -> Entry | None:
    """The entry that already holds this paper: same DOI (any case), same arXiv id, or, once
    fetched, the same published DOI or preprint."""
    dois: set[str] = set()
    arxiv_ids: set[str] = set()
    if identifier.kind == "doi":
        dois.add(identifier.value.lower())
    else:
        arxiv_ids.add(_bare_arxiv(identifier.value))
    if evidence is not None:
        for work in (evidence.work, evidence.published):
            if work is not None and work.doi:
                dois.add(work.doi.lower())
        if evidence.arxiv is not None:
            arxiv_ids.add(evidence.arxiv.arxiv_id)
            if evidence.arxiv.doi:
                dois.add(evidence.arxiv.doi.lower())
    for entry in entries:
        doi = normalize.entry_doi(entry)
        if doi and doi.lower() in dois:
            return entry
        found = normalize.entry_arxiv_id(entry)
        if found and found[0] in arxiv_ids:
            return entry
    return None


@dataclass
class NewEntry:
    entry: Entry | None
    change: merge.EntryChange | None = None
    problems: list[str] = field(default_factory=list)


def build_entry(evidence: Evidence, taken: set[str], tags: Tags) -> NewEntry:
    """A complete entry from what the sources said, keyed by the house rule, tagged."""
    published = merge.published_proposal(evidence)
    if published is not None:
        entry_type = published.entry_type
    elif evidence.work is not None:
        entry_type = merge.crossref_proposal(evidence.work).entry_type
    else:
        entry_type = "misc"
    entry = Entry(key="new", entry_type=entry_type, fields={}, type_as_written=entry_type)
    change = merge.plan(entry, evidence)
    change.new_type = None  # the type was chosen above, from the best source
    merge.apply(entry, change)
    missing = merge.incomplete(entry.fields)
    if missing:
        return NewEntry(None, change, [f"incomplete: no {', '.join(missing)} in the sources"])
    entry.key = keys.unique_key(keys.base_key(entry), taken)
    if tags.topic:
        entry.fields[F_TOPICS] = values.braced(tags.topic)
    if tags.session:
        entry.fields[F_SESSIONS] = values.braced(f"{tags.session}:{tags.role}")
    problems = merge.check_fields(entry.key, entry.entry_type, entry.fields)
    if problems:
        return NewEntry(None, change, problems)
    return NewEntry(entry, change)


def render(entry: Entry) -> str:
    return format_entry(entry)


def check_tags(db: Database, session: str, role: str, topic: str) -> Tags:
    """The tags asked for, once the session and topic are known to group.toml."""
    if session and db.session(session) is None:
        known = ", ".join(s.id for s in db.sessions[-5:]) or "none"
        raise UnknownNameError(
            f"no session {session!r} in group.toml",
            hint=f"use a session date from group.toml (latest: {known})",
        )
    if topic and db.topics and db.topic(topic) is None:
        raise UnknownNameError(
            f"no topic {topic!r} in group.toml",
            hint=f"known topics: {', '.join(t.id for t in db.topics)}",
        )
    return Tags(session=session, role=role or "reading", topic=topic)


def record_free_copy(entry: Entry, finder: FreeCopyFinder) -> None:
    """The new entry's free copy (its arXiv PDF at least), as `enrich` records it."""
    answer = finder.find(entry)
    extra = merge.free_copy_changes(entry.fields, answer.copy, conclusive=answer.conclusive)
    fields = merge.merged(entry, merge.EntryChange(entry.key, extra))
    if extra and not merge.check_fields(entry.key, entry.entry_type, fields):
        entry.fields = fields


REPEATED = "repeated"  # given more than once: considered once
PRESENT = "present"  # already in the database (detail: its key)
FAILED = "failed"  # no source could say what it is (detail: why)
REJECTED = "rejected"  # known, but no valid entry could be made (detail: why)
ADDED = "added"


@dataclass(frozen=True)
class Step:
    """What became of one identifier."""

    identifier: Identifier
    outcome: str  # one of the constants above
    detail: str = ""
    entry: Entry | None = None  # the new entry (ADDED)
    published_via: str = ""  # the published version was confirmed by this source
    unconfirmed: str = ""  # a preprint whose published version is not confirmed: why


def add_all(db: Database, wanted: list[Identifier], tags: Tags, sources: Run) -> Iterator[Step]:
    """Resolve, build and tag each identifier's entry, in order; nothing is written."""
    taken = {e.key for e in db.entries}
    added: list[Entry] = []
    seen: set[str] = set()
    for identifier in wanted:
        if str(identifier).lower() in seen:
            yield Step(identifier, REPEATED)
            continue
        seen.add(str(identifier).lower())
        existing = existing_entry([*db.entries, *added], identifier)
        if existing is not None:
            yield Step(identifier, PRESENT, existing.key)
            continue
        evidence = sources.resolver.resolve(seed_entry(identifier))
        existing = existing_entry([*db.entries, *added], identifier, evidence)
        if existing is not None:
            yield Step(identifier, PRESENT, existing.key)
            continue
        if evidence.failures or (evidence.arxiv is None and evidence.work is None):
            reasons = evidence.failures or evidence.notes or ["no source knows it"]
            down = {o.message for o in sources.client.outages}
            # An outage is reported once, after the identifiers.
            told = [r for r in reasons if r not in down] or [GIVEN_UP]
            yield Step(identifier, FAILED, "; ".join(told))
            continue
        new = build_entry(evidence, taken | {e.key for e in added}, tags)
        if new.entry is None:
            yield Step(identifier, REJECTED, "; ".join(new.problems))
            continue
        record_free_copy(new.entry, sources.free_copy)
        added.append(new.entry)
        via = new.change.published_via if new.change is not None else ""
        yield Step(
            identifier,
            ADDED,
            entry=new.entry,
            published_via=via,
            unconfirmed="" if via else evidence.unconfirmed,
        )
