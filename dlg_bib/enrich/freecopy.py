"""Ask OpenAlex and Unpaywall for an entry's free copy; the choice itself is `openaccess`.

Only entries with a Crossref DOI are looked up (arXiv's DataCite DOIs are not covered by
either service, and the arXiv PDF is already a copy). OpenAlex is asked first; Unpaywall only
when OpenAlex gave no published version. Each source is used for links only, never for DOI,
year or venue. A source that is unavailable makes the answer inconclusive: "no legal free
copy known" is then not written, since it may not be true. With `--offline` an answer not in
the cache counts as not asked (the search is what is known offline), so the note can be
written from the entry alone and is replaced by a later online run that finds a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlg_bib.enrich.openaccess import EntryFacts, FreeCopy, choose_free_copy
from dlg_bib.library import normalize
from dlg_bib.library.model import Entry
from dlg_bib.sources.openalex import OpenAlexResult, OpenAlexSource
from dlg_bib.sources.records import OaWork
from dlg_bib.sources.unpaywall import UnpaywallResult, UnpaywallSource


@dataclass(frozen=True)
class FreeCopyAnswer:
    copy: FreeCopy
    conclusive: bool = True  # False: a source that should have been asked could not answer
    unavailable: tuple[str, ...] = field(default_factory=tuple)


class FreeCopyFinder:
    def __init__(
        self, openalex: OpenAlexSource | None = None, unpaywall: UnpaywallSource | None = None
    ):
        self.openalex = openalex
        self.unpaywall = unpaywall

    @property
    def notes(self) -> list[str]:
        """Why a source was given up in this run (reported once)."""
        return [s.down for s in (self.openalex, self.unpaywall) if s is not None and s.down]

    def find(self, entry: Entry) -> FreeCopyAnswer:
        facts = EntryFacts.from_entry(entry)
        doi = facts.doi if facts.doi and not normalize.arxiv_id_of_doi(facts.doi) else ""
        works: list[OaWork] = []
        unavailable: list[str] = []
        for source in (self.openalex, self.unpaywall):
            if not doi or source is None:
                continue
            result: OpenAlexResult | UnpaywallResult = source.work_by_doi(doi)
            if result.unavailable and not result.offline_miss:
                unavailable.append(result.unavailable)
            elif result.work is not None:
                works.append(result.work)
            best = choose_free_copy(facts, works).location
            if best is not None and best.version == "published":
                break  # the best kind of copy: no need to ask further
        copy = choose_free_copy(facts, works)
        conclusive = copy.location is not None or not unavailable
        return FreeCopyAnswer(copy, conclusive, tuple(unavailable))
