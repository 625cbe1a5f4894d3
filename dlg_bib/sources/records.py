"""The records the free-copy sources (OpenAlex, Unpaywall) return, in one shape: a work and
the places it can be read. Plain data; which copy an entry gets is `enrich.openaccess`'s call.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLISHER = "publisher"
ARXIV = "arxiv"
PMC = "pmc"
REPOSITORY = "repository"
WEB = "web"

VERSIONS = {
    "publishedversion": "published",
    "acceptedversion": "accepted",
    "submittedversion": "submitted",
}


@dataclass(frozen=True)
class OaLocation:
    """One place a work can be read."""

    url: str  # the link to record: the PDF when known, else the landing page
    landing_url: str = ""
    pdf_url: str = ""
    version: str = ""  # published, accepted, submitted or ""
    license: str = ""
    host: str = REPOSITORY  # publisher, arxiv, pmc or repository
    host_name: str = ""  # the source's display name, for messages
    is_oa: bool = True
    location_id: str = ""  # OpenAlex's location id (doi:…, pmh:…, mag:…) when given
    raw_type: str = ""  # the repository's own type, e.g. info:eu-repo/semantics/masterThesis


@dataclass(frozen=True)
class OaWork:
    """A work as OpenAlex or Unpaywall describe it, with its locations."""

    source: str  # openalex or unpaywall
    doi: str  # bare DOI, as the source writes it ("" when none)
    title: str | None  # None when the source gives none (old Unpaywall records)
    year: int | None
    authors: tuple[str, ...]  # raw author names in order
    locations: tuple[OaLocation, ...] = ()


def version_name(value: str | None) -> str:
    """`publishedVersion` -> `published`; unknown values -> ""."""
    return VERSIONS.get((value or "").strip().lower(), "")


def host_kind(url: str, declared: str, name: str = "") -> str:
    """arxiv / pmc from the link or repository name, else the declared kind."""
    text = f"{url} {name}".lower()
    if "arxiv.org" in text:
        return ARXIV
    if "ncbi.nlm.nih.gov/pmc" in text or "europepmc.org" in text or "pubmed central" in text:
        return PMC
    return PUBLISHER if declared == PUBLISHER else REPOSITORY
