"""What an entry says about its identity: its DOI and arXiv id, and whether it is a preprint.

Shared by `enrich`, `add` and `import`, so that all of them read identifiers the same way,
whatever form the entry writes them in (a DOI as a resolver URL, an arXiv id in `eprint`,
in `url`, in `journal = {arXiv preprint arXiv:…}` or in `volume = {abs/…}` as dblp does).
"""

from __future__ import annotations

import re

from dlg_bib.library import ids
from dlg_bib.library.model import Entry

# arXiv's own DOIs are registered with DataCite: 10.48550/arXiv.1706.03762.
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
# An old-style id written with its subject class: math.GT/0309136 -> math/0309136.
_OLD_WITH_CLASS = re.compile(r"^([a-z-]+)\.[A-Za-z-]+/(\d{7})(v\d+)?$")
_ARXIV_IN_TEXT = re.compile(
    r"arxiv(?:\.org/(?:abs|pdf)/|:\s*|\s+preprint\s+(?:arxiv:)?\s*|\s+)"
    r"([a-z-]+(?:\.[A-Za-z-]+)?/\d{7}(?:v\d+)?|\d{4}\.\d{4,5}(?:v\d+)?)",
    re.IGNORECASE,
)
# Venue values that only say "this is a preprint": not curated venue data.
_PREPRINT_VENUE = re.compile(
    r"^\s*(?:arxiv(?:\s+preprint)?(?:\s+(?:arxiv:)?\s*\S+)?|corr(?:\s+abs/\S+)?|preprint|"
    r"e-?print|arxiv\.org)\s*$",
    re.IGNORECASE,
)
PREPRINT_TYPES = frozenset({"misc", "unpublished", "online", "preprint", "techreport"})


def canonical_arxiv_id(value: str) -> tuple[str, str] | None:
    """(id, version) for an arXiv id, `arXiv:` id or abs/pdf URL; old-style ids lose the
    subject class (`math.GT/0309136` -> `math/0309136`), which arXiv does not answer to."""
    text = value.strip()
    match = _OLD_WITH_CLASS.match(text)
    if match:
        return f"{match.group(1)}/{match.group(2)}", match.group(3) or ""
    return ids.parse_arxiv_id(text)


def arxiv_id_of_doi(doi: str) -> str | None:
    """`10.48550/arXiv.1706.03762` -> `1706.03762`; None for other DOIs."""
    match = _ARXIV_DOI.match(doi.strip())
    if not match:
        return None
    parsed = canonical_arxiv_id(match.group(1))
    return parsed[0] if parsed else None


def entry_doi(entry: Entry) -> str | None:
    """The entry's DOI, bare, whatever form it is written in; None without one."""
    if not entry.has("doi"):
        return None
    return ids.normalize_doi(entry.get("doi"))


def entry_arxiv_id(entry: Entry) -> tuple[str, str] | None:
    """(id, version) of the arXiv preprint an entry names, looked up where tools put it."""
    prefix = entry.get("archiveprefix") or entry.get("eprinttype")
    if entry.has("eprint") and (not prefix or prefix.strip().lower() == "arxiv"):
        found = canonical_arxiv_id(entry.get("eprint"))
        if found:
            return found
    doi = entry_doi(entry)
    if doi:
        from_doi = arxiv_id_of_doi(doi)
        if from_doi:
            return from_doi, ""
    volume = entry.get("volume")
    if volume.lower().startswith("abs/"):
        found = canonical_arxiv_id(volume[4:])
        if found:
            return found
    for name in ("url", "journal", "howpublished", "note", "booktitle"):
        match = _ARXIV_IN_TEXT.search(entry.get(name))
        if match:
            found = canonical_arxiv_id(match.group(1))
            if found:
                return found
    return None


def is_preprint_venue(text: str) -> bool:
    """`arXiv preprint arXiv:1706.03762`, `CoRR`, `ArXiv`: a placeholder, not a venue."""
    return bool(_PREPRINT_VENUE.match(text.replace("{", "").replace("}", "")))


def has_real_venue(entry: Entry) -> bool:
    for name in ("journal", "booktitle"):
        value = entry.get(name)
        if value.strip() and not is_preprint_venue(value):
            return True
    return False


def is_preprint(entry: Entry) -> bool:
    """An arXiv preprint not yet recorded with a published version (venue or non-arXiv DOI)."""
    if entry_arxiv_id(entry) is None or has_real_venue(entry):
        return False
    doi = entry_doi(entry)
    return doi is None or arxiv_id_of_doi(doi) is not None
