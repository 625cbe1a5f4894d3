"""DOI and arXiv identifiers: recognise them in any common form and normalise them."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIXES = re.compile(
    r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/|https?://doi\.org/|doi\.org/|dx\.doi\.org/)",
    re.IGNORECASE,
)
# A DOI inside a publisher URL, e.g. https://dl.acm.org/doi/10.1145/3457607 or
# https://link.springer.com/book/10.1007%2F3-540-29587-9.
_DOI_IN_URL = re.compile(r"(10\.\d{4,9}/[^\s?#]+)")

NEW_ARXIV = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
OLD_ARXIV = re.compile(r"^([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ARXIV_PREFIX = re.compile(
    r"^(?:arxiv:\s*|https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/)", re.IGNORECASE
)


def looks_like_doi_url(value: str) -> bool:
    """True when a `doi` field holds a resolver URL or `doi:` prefix instead of a bare DOI."""
    return bool(_DOI_PREFIXES.match(value.strip()))


def normalize_doi(value: str) -> str | None:
    """Return the bare DOI (`10.xxxx/...`) in `value`, or None when there is none.

    Accepts `10.…`, `doi:10.…`, `https://doi.org/…`, `https://dx.doi.org/…`, percent-encoded
    forms and publisher URLs that carry a DOI. DOIs are case-insensitive; we keep the case as
    written because publishers print it that way.
    """
    text = value.strip()
    if not text:
        return None
    text = _DOI_PREFIXES.sub("", text)
    text = unquote(text).strip()
    if _DOI_RE.match(text):
        return text.rstrip(".,;")
    found = _DOI_IN_URL.search(unquote(value))
    if found and value.strip().lower().startswith(("http://", "https://")):
        doi = found.group(1).rstrip(".,;")
        # Publisher URLs append path parts after the DOI (…/fulltext, …/pdf).
        for tail in ("/fulltext", "/abstract", "/pdf", "/full", "/epdf"):
            if doi.lower().endswith(tail):
                doi = doi[: -len(tail)]
        return doi
    return None


def is_valid_doi(value: str) -> bool:
    return bool(_DOI_RE.match(value.strip()))


def parse_arxiv_id(value: str) -> tuple[str, str] | None:
    """Return (id without version, version or "") for an arXiv id or abs/pdf URL, else None."""
    text = _ARXIV_PREFIX.sub("", value.strip())
    text = re.sub(r"\.pdf$", "", text)
    text = text.rstrip("/")
    for pattern in (NEW_ARXIV, OLD_ARXIV):
        match = pattern.match(text)
        if match:
            return match.group(1), match.group(2) or ""
    return None


def arxiv_category_of(arxiv_id: str) -> str | None:
    """The archive of an old-style id (`math/0211159` -> `math`); None for new-style ids."""
    if "/" in arxiv_id:
        return arxiv_id.split("/", 1)[0]
    return None


def arxiv_abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def arxiv_pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


# Control characters have no place in a URL we link to (a hand-typed value, or a hostile one).
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host, else "" (never link it).

    Inner spaces (seen in hand-typed URLs) are percent-encoded; control characters reject it.
    """
    url = url.strip()
    # No `//`, no host (urlsplit finds a netloc only after `//`): most values, cheaply.
    if "//" not in url or _URL_CONTROL.search(url):
        return ""
    url = url.replace(" ", "%20")
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url
