"""Every link the group relies on: URL fields of the database, DOIs through the resolver,
arXiv links built from `eprint`, and the links of the rendered README. Each URL once, with
the entries and places that use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag

from dlg_bib.errors import ParseError
from dlg_bib.library.ids import arxiv_abs_url, doi_url, normalize_doi, parse_arxiv_id
from dlg_bib.library.model import Database, Entry
from dlg_bib.links.mdlinks import markdown_links

# Fields that hold a URL or text with URLs in it. Others (abstract, title) may mention URLs in
# passing; those are not links the reading list offers.
TEXT_FIELDS = ("url", "pdf", "howpublished", "note", "annote", "addendum", "dlg-note", "link")
_SKIP_FIELDS = frozenset({"urldate", "doi", "eprint", "file", "abstract"})
_LATEX_URL = re.compile(r"\\(?:url|href)\s*\{([^{}]*)\}")
_BARE_URL = re.compile(r"https?://[^\s{}\\]*(?:\\[_%&#~][^\s{}\\]*)*", re.IGNORECASE)
_LATEX_ESCAPE = re.compile(r"\\([_%&#$])")


@dataclass
class Link:
    url: str
    keys: list[str] = field(default_factory=list)  # entries that use the URL
    sources: list[str] = field(default_factory=list)  # "key:field" or "README.md:12"


@dataclass(frozen=True)
class Use:
    url: str
    key: str | None
    source: str


def entry_uses(entry: Entry) -> Iterator[Use]:
    """The links of one entry, in field order."""
    for name in entry.fields:
        if name in _SKIP_FIELDS or not _is_url_field(name):
            continue
        for url in urls_in_field(entry.get(name)):
            yield Use(url, entry.key, f"{entry.key}:{name}")
    doi = normalize_doi(entry.get("doi"))
    if doi:
        yield Use(doi_url(doi), entry.key, f"{entry.key}:doi")
    arxiv = arxiv_link(entry)
    if arxiv:
        yield Use(arxiv, entry.key, f"{entry.key}:eprint")


def _is_url_field(name: str) -> bool:
    return name in TEXT_FIELDS or name.endswith("url") or name.endswith("-link")


def arxiv_link(entry: Entry) -> str | None:
    """The arXiv abstract page of an entry's `eprint`, when it is an arXiv eprint.

    Only the abstract page is checked: the PDF lives at the same place, and arXiv asks for one
    request every three seconds, so checking both would double the slowest part of a run."""
    prefix = (entry.get("archiveprefix") or entry.get("eprinttype")).strip().lower()
    eprint = entry.get("eprint").strip()
    if not eprint or prefix not in ("", "arxiv"):
        return None
    parsed = parse_arxiv_id(eprint)
    return arxiv_abs_url(parsed[0] + parsed[1]) if parsed else None


def urls_in_field(text: str) -> list[str]:
    """URLs in a BibTeX value: `\\url{…}`, `\\href{…}{…}` or bare, LaTeX escapes undone."""
    found = [m.group(1) for m in _LATEX_URL.finditer(text)]
    rest = _LATEX_URL.sub(" ", text)
    found += [m.group(0) for m in _BARE_URL.finditer(rest)]
    urls = []
    for raw in found:
        url = _LATEX_ESCAPE.sub(r"\1", raw.strip()).replace("\\~{}", "~").replace("\\~", "~")
        url = url.rstrip(".,;")
        if url.lower().startswith(("http://", "https://")):
            urls.append(url)
    return urls


def readme_uses(path: Path) -> list[Use]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParseError(
            f"cannot read the README: {exc}",
            where=str(path),
            hint="pass the rendered README with --readme (make readme writes README.md)",
        ) from exc
    return [Use(link.url, None, f"{path.name}:{link.line}") for link in markdown_links(text)]


def group_uses(uses: Iterable[Use]) -> list[Link]:
    """One Link per URL (fragments ignored), in order of first use."""
    links: dict[str, Link] = {}
    for use in uses:
        url = urldefrag(use.url.strip())[0]
        link = links.setdefault(url, Link(url))
        if use.key and use.key not in link.keys:
            link.keys.append(use.key)
        if use.source not in link.sources:
            link.sources.append(use.source)
    return list(links.values())


def collect_links(db: Database, readme: Path | None = None) -> list[Link]:
    uses = [use for entry in db.entries for use in entry_uses(entry)]
    if readme is not None:
        uses += readme_uses(readme)
    return group_uses(uses)
