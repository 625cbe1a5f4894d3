"""Is this dblp record the published version of that preprint? Pure: no I/O.

Accept a candidate only when all of these hold:

* it is not a CoRR (arXiv) record, judged by venue and type, never by key prefix: dblp files
  ICLR 2013-2015 papers under `journals/corr/` keys with a conference venue, and those count;
* it is a paper in proceedings, a journal or a collection (not a book, thesis, editorship);
* its title equals the preprint's once both are folded (LaTeX, accents, case, punctuation);
* its first author is the preprint's first author (dblp's homonym suffix " 0001" stripped;
  family name words in order, first initial when both sides give one);
* its year lies in [preprint year, preprint year + 3], where the preprint year is the
  earliest of the entry's `year` and the year in its arXiv id (papers are often posted to
  arXiv after the conference: Reddi et al. is ICLR 2018 with arXiv id 1904.09237).

One accepted record confirms the published version; several distinct ones are ambiguous and
nothing is recorded. A published record without a DOI is still a published record (NeurIPS,
ICLR, PMLR). The fields to record come from the record as plain Unicode text; escaping them
for BibTeX is the writer's job.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from dlg_bib.bibtex.latex import to_text
from dlg_bib.library import normalize
from dlg_bib.library.matching import Person, entry_people, same_person, title_key, year_of
from dlg_bib.library.model import Entry
from dlg_bib.sources.dblp import DblpLookup, DblpRecord, DblpSource, TextRules

# How the dblp source reads text: dblp's BibTeX export decoded, titles folded, as here.
DBLP_TEXT = TextRules(decode=functools.partial(to_text, keep_math=True), title_key=title_key)

YEAR_SPAN = 3
PAPER_TYPES = {
    "inproceedings": "inproceedings",
    "incollection": "incollection",
    "article": "article",
}

CONFIRMED = "confirmed"
NO_MATCH = "no match"
AMBIGUOUS = "ambiguous match"
UNAVAILABLE = "source unavailable"

_ARXIV_ID_YEAR = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$|^[a-z-]+(?:\.[A-Za-z-]+)?/(\d{2})\d{5}$")


@dataclass(frozen=True)
class Preprint:
    """What the decision needs of an entry."""

    title: str  # as written (LaTeX)
    authors: tuple[Person, ...]
    years: tuple[int, ...] = ()  # the entry's year and its arXiv id's year, where known
    arxiv_id: str = ""

    @classmethod
    def from_entry(cls, entry: Entry) -> Preprint:
        found = normalize.entry_arxiv_id(entry)
        arxiv_id = found[0] if found else ""
        years = [y for y in (year_of(entry.get("year")), arxiv_year(arxiv_id)) if y]
        return cls(
            title=entry.get("title"),
            authors=tuple(entry_people(entry.get("author"))),
            years=tuple(sorted(set(years))),
            arxiv_id=arxiv_id,
        )

    @property
    def year_window(self) -> tuple[int, int] | None:
        if not self.years:
            return None
        return min(self.years), min(self.years) + YEAR_SPAN


def arxiv_year(arxiv_id: str) -> int | None:
    """`1706.03762` -> 2017, `math/0211159` -> 2002; None for anything else."""
    match = _ARXIV_ID_YEAR.match(arxiv_id)
    if not match:
        return None
    yy = int(match.group(1) or match.group(3))
    return 1900 + yy if yy >= 91 else 2000 + yy


@dataclass(frozen=True)
class PublishedDecision:
    status: str  # CONFIRMED, NO_MATCH, AMBIGUOUS or UNAVAILABLE
    reason: str = ""  # for the summary: why not confirmed, or which record
    record: DblpRecord | None = None
    entry_type: str = ""  # inproceedings, article or incollection when confirmed
    fields: dict[str, str] = field(default_factory=dict)  # to record on the entry

    @property
    def confirmed(self) -> bool:
        return self.status == CONFIRMED


def _rejection(preprint: Preprint, record: DblpRecord) -> str:
    """Why `record` is not the published version ("" when it is)."""
    if record.is_corr:
        return "CoRR record"
    if record.type not in PAPER_TYPES:
        return f"{record.type or 'untyped'} record"
    if title_key(record.title) != title_key(preprint.title):
        return "different title"
    if not preprint.authors or not record.authors:
        return "no first author to compare"
    if not same_person(preprint.authors[0], record.authors[0]):
        return "different first author"
    window = preprint.year_window
    if window and (record.year is None or not window[0] <= record.year <= window[1]):
        return f"year {record.year} outside {window[0]}-{window[1]}"
    return ""


def decide(preprint: Preprint, lookup: DblpLookup) -> PublishedDecision:
    """Confirm one published record among dblp's candidates for a preprint, or say why not."""
    if lookup.unavailable:
        return PublishedDecision(UNAVAILABLE, lookup.unavailable)
    accepted: dict[str, DblpRecord] = {}
    rejected: list[str] = []
    for record in lookup.records:
        why = _rejection(preprint, record)
        if why:
            rejected.append(f"{record.key}: {why}")
        else:
            accepted.setdefault(record.key, record)
    if not accepted:
        detail = "; ".join(sorted(rejected)) if rejected else "dblp has no record of this title"
        return PublishedDecision(NO_MATCH, detail)
    if len(accepted) > 1:
        return PublishedDecision(AMBIGUOUS, ", ".join(sorted(accepted)))
    record = next(iter(accepted.values()))
    entry_type, fields = published_fields(record)
    return PublishedDecision(CONFIRMED, record.key, record, entry_type, fields)


def _useful_url(url: str) -> str:
    """The proceedings page, unless it is only a DOI link or the arXiv copy."""
    if re.match(r"^https?://(?:dx\.)?doi\.org/|^https?://(?:www\.)?arxiv\.org/", url):
        return ""
    return url


def published_fields(record: DblpRecord) -> tuple[str, dict[str, str]]:
    """(entry type, fields) to record for a confirmed published version. Empty values are
    left out; an arXiv DataCite DOI (10.48550/…) is not a published DOI and is dropped."""
    entry_type = PAPER_TYPES.get(record.type, "inproceedings")
    venue = record.venue_full or record.venue
    doi = "" if record.doi.lower().startswith("10.48550/") else record.doi
    values = {
        "journal" if entry_type == "article" else "booktitle": venue,
        "series": record.series if entry_type != "article" else "",
        "year": str(record.year) if record.year else "",
        "volume": record.volume,
        "number": record.number if entry_type == "article" else "",
        "pages": record.pages,
        "publisher": record.publisher,
        "doi": doi,
        "url": _useful_url(record.url),
    }
    return entry_type, {name: value for name, value in values.items() if value}


def published_version(source: DblpSource, preprint: Preprint) -> PublishedDecision:
    """The published version of a preprint according to dblp: look the title up, decide,
    and for a search-API record read its full venue fields first."""
    decision = decide(preprint, source.find(to_text(preprint.title)))
    if decision.record is None or decision.record.complete:
        return decision
    return decide(preprint, DblpLookup((source.complete(decision.record),), via="search"))
