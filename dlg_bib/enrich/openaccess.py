"""The best legal free copy of an entry, from OpenAlex/Unpaywall works and the entry itself.

Pure: the sources (`sources.openalex`, `sources.unpaywall`) parse answers into the `OaWork`
and `OaLocation` records of `sources.records`; this module decides.

Rules:

* A work is used only after checking it against the entry: its DOI (when both have one), its
  title once folded (a missing title, as in old Unpaywall records, is not held against it),
  its year (within one year: online-first vs issue) and at least one shared author. OpenAlex
  and Unpaywall are never used for DOI, year or venue, only for links.
* A location is used only when it is open, has a link, and belongs to this work: not a copy
  registered under another DOI (the 10.65215/… re-deposits of "Attention Is All You Need"),
  not a thesis filed under a paper (the CVPR 2016 master's thesis).
* Ranking: the publisher's OA version first, then accepted, then submitted manuscripts; for
  the same version the publisher, then PubMed Central and arXiv, then other repositories;
  a PDF link before a landing page.
* An entry with an arXiv id always has its arXiv PDF as a free copy, and free proceedings
  pages the entry already links to (NeurIPS, PMLR, OpenReview, ACL Anthology, CVF, JMLR) count
  as the publisher's version. An entry with neither DOI nor arXiv id that gives its own `url`
  or `pdf` (a blog post, course notes, a book its authors host) is read there (`web`).

Fields recorded on the entry (plain text; escaping is the writer's job):

* `oaurl`: the link to the free copy (PDF where known, else its landing page);
* `oaversion`: `published`, `accepted` or `submitted` (empty when the source does not say);
* `oalicense`: the licence as the source names it (`cc-by`, `other-oa`, …), when known;
* `oahost`: `publisher`, `arxiv`, `pmc`, `repository`, or `web` (the entry's own link);
* `oanote`: only when no free copy is known: `no legal free copy known`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dlg_bib.library import ids, normalize
from dlg_bib.library.matching import Person, entry_people, shares_author, title_key, year_of
from dlg_bib.library.model import Entry
from dlg_bib.sources.records import (
    ARXIV,
    PMC,
    PUBLISHER,
    REPOSITORY,
    WEB,
    OaLocation,
    OaWork,
)

F_URL = "oaurl"
F_VERSION = "oaversion"
F_LICENSE = "oalicense"
F_HOST = "oahost"
F_NOTE = "oanote"
OA_FIELDS = (F_URL, F_VERSION, F_LICENSE, F_HOST, F_NOTE)
NONE_KNOWN = "no legal free copy known"

_VERSION_RANK = {"published": 3, "accepted": 2, "submitted": 1}
_HOST_RANK = {PUBLISHER: 2, PMC: 1, ARXIV: 1, REPOSITORY: 0, WEB: 0}
# Publishers that host their proceedings openly: a link there is the published version.
FREE_PROCEEDINGS_HOSTS = (
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "papers.neurips.cc",
    "proceedings.mlr.press",
    "openreview.net",
    "aclanthology.org",
    "openaccess.thecvf.com",
    "jmlr.org",
    "www.jmlr.org",
)
# Publisher platforms whose article pages are usually behind a paywall: an entry's link there
# is not a free copy, whatever the entry type.
SUBSCRIPTION_HOSTS = (
    "www.sciencedirect.com",
    "link.springer.com",
    "ieeexplore.ieee.org",
    "dl.acm.org",
    "onlinelibrary.wiley.com",
    "www.tandfonline.com",
    "www.jstor.org",
    "academic.oup.com",
    "www.cambridge.org",
)
_THESIS = re.compile(r"thesis|dissertation", re.IGNORECASE)
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(.+)$", re.IGNORECASE)
YEAR_SLACK = 1
MIN_PREFIX_TITLE = 30


@dataclass(frozen=True)
class EntryFacts:
    """What the check needs of an entry."""

    title: str
    year: int | None
    people: tuple[Person, ...]
    doi: str = ""
    arxiv_id: str = ""
    entry_type: str = ""
    links: tuple[str, ...] = ()  # url and pdf fields as written

    @classmethod
    def from_entry(cls, entry: Entry) -> EntryFacts:
        arxiv = normalize.entry_arxiv_id(entry)
        return cls(
            title=entry.get("title"),
            year=year_of(entry.get("year")),
            people=tuple(entry_people(entry.get("author"))),
            doi=normalize.entry_doi(entry) or "",
            arxiv_id=arxiv[0] if arxiv else "",
            entry_type=entry.entry_type.lower(),
            links=tuple(entry.get(name).strip() for name in ("url", "pdf") if entry.has(name)),
        )


@dataclass(frozen=True)
class FreeCopy:
    """The chosen copy (None: none known) and why other works and locations were not used."""

    location: OaLocation | None
    rejected: tuple[str, ...] = field(default_factory=tuple)

    def fields(self) -> dict[str, str]:
        """The fields to record (see the module docstring); empty values left out."""
        if self.location is None:
            return {F_NOTE: NONE_KNOWN}
        values = {
            F_URL: self.location.url,
            F_VERSION: self.location.version,
            F_LICENSE: self.location.license,
            F_HOST: self.location.host,
        }
        return {name: value for name, value in values.items() if value}


def _same_doi(a: str, b: str) -> bool:
    return bool(a) and bool(b) and a.strip().lower() == b.strip().lower()


def _titles_agree(entry_title: str, work_title: str) -> bool:
    a, b = title_key(entry_title), title_key(work_title)
    if not a or not b:
        return False
    if a == b:
        return True
    # One side may carry a subtitle the other drops.
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_PREFIX_TITLE and long.startswith(short)


def work_problem(entry: EntryFacts, work: OaWork) -> str:
    """Why `work` is not the entry's work ("" when it is)."""
    if entry.doi and work.doi and not _same_doi(entry.doi, work.doi):
        return f"{work.source}: work has DOI {work.doi}, entry {entry.doi}"
    if work.title is not None and not _titles_agree(entry.title, work.title):
        return f"{work.source}: different title {work.title!r}"
    if entry.year and work.year and abs(entry.year - work.year) > YEAR_SLACK:
        return f"{work.source}: year {work.year}, entry {entry.year}"
    if entry.people and work.authors and not shares_author(entry.people, work.authors):
        return f"{work.source}: no shared author"
    return ""


def location_problem(entry: EntryFacts, work: OaWork, location: OaLocation) -> str:
    """Why a location of an accepted work is not a free copy of it ("" when it is)."""
    if not location.is_oa:
        return "not open"
    if not location.url:
        return "no link"
    for candidate in (location.location_id, location.landing_url):
        doi = _location_doi(candidate)
        if doi and not (_same_doi(doi, work.doi) or _same_doi(doi, entry.doi)):
            if normalize.arxiv_id_of_doi(doi) and normalize.arxiv_id_of_doi(doi) == entry.arxiv_id:
                continue  # the entry's own arXiv DOI
            return f"registered under another DOI ({doi})"
    if _THESIS.search(location.raw_type) and "thesis" not in entry.entry_type:
        return f"a thesis ({location.raw_type}), not this paper"
    return ""


def _location_doi(value: str) -> str:
    if value.lower().startswith("doi:"):
        return value[4:].strip()
    match = _DOI_URL.match(value.strip())
    return match.group(1) if match else ""


def entry_locations(entry: EntryFacts) -> list[OaLocation]:
    """Free copies the entry itself vouches for: its arXiv PDF and open proceedings links."""
    found = []
    if entry.arxiv_id:
        found.append(
            OaLocation(
                url=ids.arxiv_pdf_url(entry.arxiv_id),
                landing_url=ids.arxiv_abs_url(entry.arxiv_id),
                pdf_url=ids.arxiv_pdf_url(entry.arxiv_id),
                version="submitted",
                host=ARXIV,
                host_name="arXiv",
            )
        )
    for link in entry.links:
        host = urlsplit(link).hostname or ""
        is_pdf = link.lower().endswith(".pdf")
        if host in FREE_PROCEEDINGS_HOSTS:
            version, kind = "published", PUBLISHER
        elif not entry.doi and not entry.arxiv_id and host not in SUBSCRIPTION_HOSTS:
            # A web document (blog post, course notes, a book its authors host): the entry's
            # own link is where it is read. Papers with a DOI need OpenAlex/Unpaywall instead.
            version, kind = "", WEB
        else:
            continue
        found.append(
            OaLocation(
                url=link,
                landing_url="" if is_pdf else link,
                pdf_url=link if is_pdf else "",
                version=version,
                host=kind,
                host_name=host,
            )
        )
    return found


def _rank(location: OaLocation) -> tuple[int, int, int, tuple[int, ...]]:
    """Version, then host, then having a PDF; ties broken by the URL, so runs agree."""
    return (
        _VERSION_RANK.get(location.version, 0),
        _HOST_RANK.get(location.host, 0),
        1 if location.pdf_url else 0,
        tuple(-ord(c) for c in location.url),
    )


def choose_free_copy(entry: EntryFacts, works: Sequence[OaWork]) -> FreeCopy:
    """The best legal free copy among the checked works' locations and the entry's own."""
    candidates = entry_locations(entry)
    rejected: list[str] = []
    for work in works:
        problem = work_problem(entry, work)
        if problem:
            rejected.append(problem)
            continue
        for location in work.locations:
            problem = location_problem(entry, work, location)
            if problem and location.is_oa:
                rejected.append(f"{work.source}: {location.url or location.location_id}: {problem}")
            elif not problem:
                candidates.append(location)
    if not candidates:
        return FreeCopy(None, tuple(rejected))
    return FreeCopy(max(candidates, key=_rank), tuple(rejected))
