"""`add`: a paper from its identifier to a complete, tagged entry with a house-rule key.

Identifiers are read in every common form (arXiv ids and abs/pdf URLs, DOIs bare, `doi:`,
resolver URLs, percent-encoded, inside publisher URLs). A paper already in the database is
reported with its key and not added again. Fetching is done by `sources.resolver`; the entry
is built with the same merge policy as `enrich`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from dlg_bib import ids, keys, normalize, values
from dlg_bib.enrich import merge
from dlg_bib.enrich.merge import Evidence
from dlg_bib.model import F_SESSIONS, F_TOPICS, Entry
from dlg_bib.store import format_entry

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
