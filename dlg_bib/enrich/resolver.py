"""Ask the sources about entries: arXiv records (batched), Crossref works, published versions.

No HTTP of its own (that is in the source modules) and no merge policy (that is `enrich`): it
gathers `merge.Evidence` per entry. The published version of a preprint is looked for, in
order, through the entry's own DOI, arXiv's `doi`, Crossref relations (`is-preprint-of`), a
strict Crossref search and then dblp (`DblpFinder`), which also knows the venues without
DOIs (NeurIPS, ICLR, PMLR). Conference papers and articles written without any venue and
without a DOI (AlexNet as `@inproceedings` with only its title) are looked up in dblp too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from dlg_bib.bibtex.latex import to_text
from dlg_bib.enrich import merge
from dlg_bib.enrich.arxiv import fetch as fetch_arxiv
from dlg_bib.enrich.merge import Evidence, Proposal
from dlg_bib.enrich.published import UNAVAILABLE, Preprint, arxiv_year, published_version
from dlg_bib.errors import SourceError
from dlg_bib.library import normalize
from dlg_bib.library.matching import Person, entry_people, year_of
from dlg_bib.library.model import Entry
from dlg_bib.sources import dblp
from dlg_bib.sources.arxiv import ArxivRecord, ArxivSource
from dlg_bib.sources.crossref import CrossrefSource, CrossrefWork

# Entry types whose venue (journal/booktitle) dblp can fill when it is missing.
VENUE_TYPES = frozenset({"inproceedings", "conference", "article", "incollection"})
VENUE_NOT_FOUND = "venue not found: "


@dataclass(frozen=True)
class Query:
    """What is known about a paper when looking for it elsewhere."""

    title: str
    families: list[str]
    year: str
    arxiv_id: str = ""
    people: tuple[Person, ...] = ()  # the authors in order (folded), for dblp's check
    years: tuple[int, ...] = ()  # the entry's year and the arXiv id's year, where known


@dataclass(frozen=True)
class Finding:
    """What a finder concluded: the published version (a Crossref work or a Proposal), or
    why there is none (`unconfirmed`: "no match: …", "ambiguous match: …", "source
    unavailable: …")."""

    found: CrossrefWork | Proposal | None = None
    via: str = ""
    unconfirmed: str = ""


class PublishedVersionFinder(Protocol):
    """A way to find the published version of a preprint (Crossref search now; dblp later).

    A finder answers a Crossref work, or an `merge.Proposal` built from its own records
    (values escaped with `merge.escape_plain`, `entry_type` set), or None."""

    name: str

    def find(self, query: Query) -> CrossrefWork | Proposal | None: ...


class DblpFinder:
    """dblp as the third source of published versions (after arXiv and Crossref)."""

    name = "dblp"

    def __init__(self, source: dblp.DblpSource):
        self.source = source

    def find(self, query: Query) -> Proposal | None:
        found = self.look(query).found
        return found if isinstance(found, Proposal) else None

    def look(self, query: Query) -> Finding:
        preprint = Preprint(
            title=query.title, authors=query.people, years=query.years, arxiv_id=query.arxiv_id
        )
        decision = published_version(self.source, preprint)
        if decision.confirmed:
            proposal = merge.record_proposal(
                "dblp (published version)", decision.entry_type, decision.fields
            )
            return Finding(proposal, via=f"dblp ({decision.reason})")
        if decision.status == UNAVAILABLE:
            # The long reason is reported once for the run (`DblpSource.notes`).
            return Finding(unconfirmed=f"{UNAVAILABLE}: dblp")
        return Finding(unconfirmed=f"{decision.status} in dblp: {decision.reason}")


class CrossrefSearchFinder:
    name = "Crossref search"

    def __init__(self, crossref: CrossrefSource):
        self.crossref = crossref

    def find(self, query: Query) -> CrossrefWork | None:
        return find_by_search(self.crossref, query, published_only=True)


def find_by_search(
    crossref: CrossrefSource, query: Query, *, published_only: bool
) -> CrossrefWork | None:
    if not query.title.strip() or not query.families:
        return None
    text = " ".join([query.title, *query.families[:3]])
    for work in crossref.search(text):
        if published_only and not merge.is_published_kind(work):
            continue  # also drops posted-content re-deposits and arXiv's own DOIs
        if merge.strict_match(query.title, query.families, query.year, work):
            return work
    return None


def query_of(entry: Entry, record: ArxivRecord | None) -> Query:
    # Plain text for the search engine: `{BERT}: Pre-training` -> `BERT: Pre-training`.
    title = to_text(entry.get("title")) or (record.title if record else "")
    families = merge._families_of_entry(entry)
    if not families and record is not None:
        families = [merge.comparable(a.split()[-1]) for a in record.authors if a.split()]
    year = entry.get("year") or (record.year if record else "")
    people = entry_people(entry.get("author")) if entry.has("author") else []
    if not people and record is not None:
        people = entry_people(" and ".join(record.authors))
    found = normalize.entry_arxiv_id(entry)
    arxiv_id = record.arxiv_id if record else (found[0] if found else "")
    years = {year_of(entry.get("year")), arxiv_year(arxiv_id)}
    if record is not None:
        years.add(year_of(record.year))
    return Query(
        title,
        families,
        year,
        arxiv_id,
        tuple(people),
        tuple(sorted(y for y in years if y is not None)),
    )


def needs_venue(entry: Entry) -> bool:
    """A paper written as published (`@inproceedings`, `@article`) with neither a venue nor
    a DOI nor an arXiv id: dblp may know where it appeared."""
    return (
        entry.entry_type.lower() in VENUE_TYPES
        and not normalize.has_real_venue(entry)
        and normalize.entry_doi(entry) is None
        and normalize.entry_arxiv_id(entry) is None
        and bool(entry.get("title").strip())
    )


class Resolver:
    def __init__(
        self,
        arxiv: ArxivSource | None,
        crossref: CrossrefSource | None,
        finders: list[PublishedVersionFinder] | None = None,
        venue_finders: list[PublishedVersionFinder] | None = None,
    ):
        self.arxiv = arxiv
        self.crossref = crossref
        self.finders: list[PublishedVersionFinder] = (
            finders
            if finders is not None
            else ([CrossrefSearchFinder(crossref)] if crossref is not None else [])
        )
        # Asked for entries that need a venue (`needs_venue`), after a Crossref search.
        self.venue_finders: list[PublishedVersionFinder] = venue_finders or []
        self.arxiv_records: dict[str, ArxivRecord] = {}
        self.arxiv_problems: dict[str, str] = {}
        self._arxiv_asked: set[str] = set()

    # ---- arXiv, in batches, before anything else -----------------------------------------

    def prefetch_arxiv(self, arxiv_ids: Iterable[str]) -> None:
        if self.arxiv is None:
            return
        wanted = sorted({i for i in arxiv_ids if i not in self._arxiv_asked})
        if not wanted:
            return
        self._arxiv_asked.update(wanted)
        result = fetch_arxiv(self.arxiv, wanted)
        self.arxiv_records.update(result.records)
        for arxiv_id in result.missing:
            self.arxiv_problems[arxiv_id] = f"arXiv has no paper {arxiv_id}"
        self.arxiv_problems.update(result.failed)

    # ---- one entry ------------------------------------------------------------------------

    def resolve(self, entry: Entry) -> Evidence:
        evidence = Evidence(entry.key)
        arxiv_id = normalize.entry_arxiv_id(entry)
        if arxiv_id is not None and self.arxiv is not None:
            wanted = arxiv_id[0] + arxiv_id[1]
            self.prefetch_arxiv([wanted])
            evidence.arxiv = self.arxiv_records.get(wanted)
            if wanted in self.arxiv_problems:
                evidence.failures.append(self.arxiv_problems[wanted])
        try:
            self._look_up(entry, evidence)
        except SourceError as exc:
            evidence.failures.append(exc.message)
        return evidence

    def _look_up(self, entry: Entry, evidence: Evidence) -> None:
        """Crossref by DOI, then the published-version finders, then a DOI for entries
        without one. Any SourceError ends the lookups for this entry (and only this one)."""
        record = evidence.arxiv
        preprint = normalize.is_preprint(entry)
        doi = normalize.entry_doi(entry)
        if doi and normalize.arxiv_id_of_doi(doi):
            doi = None  # arXiv's own DataCite DOI: not in Crossref
        if doi and self.crossref is not None:
            evidence.work = self._work(doi, evidence)
            if evidence.work is not None:
                # A posted-content DOI (bioRxiv, SSRN, …) makes the entry a preprint too.
                preprint = preprint or evidence.work.type == "posted-content"
                self._published_from(evidence.work, evidence, "the entry's DOI", preprint)
        arxiv_doi = record.doi.strip() if record else ""
        if normalize.arxiv_id_of_doi(arxiv_doi):
            arxiv_doi = ""
        if preprint and evidence.published is None and arxiv_doi and self.crossref is not None:
            work = self._work(arxiv_doi, evidence)
            if work is not None:
                self._published_from(work, evidence, "arXiv's doi", True)
        reasons: list[str] = []
        if preprint and evidence.published is None:
            reasons = self._find_published(query_of(entry, record), evidence, self.finders)
        if not preprint and doi is None and evidence.work is None and self.crossref is not None:
            # An entry without a DOI: look it up, accepting only a strict match.
            found = find_by_search(self.crossref, query_of(entry, record), published_only=False)
            if found is not None and found.type != "posted-content":
                evidence.work = found
        if not preprint and evidence.work is None and needs_venue(entry):
            missing = self._find_published(query_of(entry, record), evidence, self.venue_finders)
            if missing and self.venue_finders:
                evidence.notes.append(VENUE_NOT_FOUND + "; ".join(missing))
        confirmed = evidence.published is not None or evidence.published_proposal is not None
        if preprint and not confirmed and (self.crossref is not None or self.finders):
            evidence.unconfirmed = _unconfirmed_reason(record, reasons)

    def _find_published(
        self, query: Query, evidence: Evidence, finders: list[PublishedVersionFinder]
    ) -> list[str]:
        """Ask the finders in order until one confirms; the reasons of those that did not."""
        reasons = []
        for finder in finders:
            look = getattr(finder, "look", None)
            finding = look(query) if callable(look) else Finding(finder.find(query), finder.name)
            if not isinstance(finding, Finding) or finding.found is None:
                if isinstance(finding, Finding) and finding.unconfirmed:
                    reasons.append(finding.unconfirmed)
                continue
            if isinstance(finding.found, Proposal):
                evidence.published_proposal = finding.found
            else:
                evidence.published = finding.found
            evidence.published_via = finding.via or finder.name
            return []
        return reasons

    @property
    def crossref_source(self) -> CrossrefSource:
        assert self.crossref is not None
        return self.crossref

    def _work(self, doi: str, evidence: Evidence) -> CrossrefWork | None:
        work = self.crossref_source.work(doi)
        if work is None:
            evidence.notes.append(f"DOI {doi} is not in Crossref")
        return work

    def _published_from(
        self, work: CrossrefWork, evidence: Evidence, via: str, preprint: bool
    ) -> None:
        """A Crossref work is the published version itself, or points to it (is-preprint-of)."""
        if merge.is_published_kind(work):
            if preprint:
                evidence.published, evidence.published_via = work, via
            return
        for target in work.relations.get("is-preprint-of", ()):
            published = self.crossref_source.work(target)
            if published is not None and merge.is_published_kind(published):
                evidence.published = published
                evidence.published_via = f"Crossref relation is-preprint-of ({via})"
                return


def _unconfirmed_reason(record: ArxivRecord | None, reasons: list[str]) -> str:
    """`no match: …`, `ambiguous match: …` or `source unavailable: …` for the summary."""
    journal_ref = record.journal_ref if record is not None else ""
    if reasons:
        reason = "; ".join(reasons)
        return f"{reason} (arXiv journal_ref {journal_ref!r})" if journal_ref else reason
    if journal_ref:
        return f"no match: arXiv journal_ref {journal_ref!r}, but no DOI confirms it"
    return "no match: no published version found"


ProgressCallback = Callable[[Entry], None]


def resolve_all(
    resolver: Resolver,
    entries: list[Entry],
    *,
    workers: int = 1,
    on_done: ProgressCallback | None = None,
) -> dict[str, Evidence]:
    """Evidence for every entry; arXiv first in batches, then Crossref (sequential unless
    `workers` > 1, and never beyond the concurrency Crossref announces)."""
    ids = []
    for entry in entries:
        found = normalize.entry_arxiv_id(entry)
        if found:
            ids.append(found[0] + found[1])
    resolver.prefetch_arxiv(ids)
    results: dict[str, Evidence] = {}
    if workers <= 1:
        for entry in entries:
            results[entry.key] = resolver.resolve(entry)
            if on_done:
                on_done(entry)
        return results
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for entry, evidence in zip(entries, pool.map(resolver.resolve, entries), strict=True):
            results[entry.key] = evidence
            if on_done:
                on_done(entry)
    return results
