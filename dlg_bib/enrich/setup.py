"""Build the sources of a run from the environment and `group.toml`.

Environment (the contract with Makefile, CI and tests):
  DLG_BIB_ARXIV_API     arXiv endpoint (default https://export.arxiv.org/api/query)
  DLG_BIB_CROSSREF_API  Crossref endpoint (default https://api.crossref.org)
  DLG_BIB_ARXIV_DELAY   seconds between arXiv requests (default 3)
  DLG_BIB_CACHE_DIR     the HTTP cache (default: the user cache folder)
  DLG_BIB_MAILTO        contact address for Crossref's polite pool and Unpaywall's `email`;
                        else `mailto` in the `[enrich]` table of group.toml
  DLG_BIB_DBLP_SPARQL   dblp's SPARQL endpoint (default https://sparql.dblp.org/sparql)
  DLG_BIB_DBLP_API      dblp's search API and BibTeX export (default https://dblp.org)
  DLG_BIB_OPENALEX_API  OpenAlex (default https://api.openalex.org)
  DLG_BIB_OPENALEX_KEY  OpenAlex API key (optional; else `openalex_key` in `[enrich]`);
                        never logged, never cached
  DLG_BIB_UNPAYWALL_API Unpaywall (default https://api.unpaywall.org); asked only with a
                        contact address
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib import transport
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.published import DBLP_TEXT
from dlg_bib.enrich.resolver import (
    CrossrefSearchFinder,
    DblpFinder,
    PublishedVersionFinder,
    Resolver,
)
from dlg_bib.sources.arxiv import ArxivSource
from dlg_bib.sources.crossref import CrossrefSource
from dlg_bib.sources.dblp import DblpSource
from dlg_bib.sources.http import Clock, DiskCache, HttpClient, Mode
from dlg_bib.sources.openalex import KEY_ENV, OpenAlexSource
from dlg_bib.sources.unpaywall import UnpaywallSource

ALL_SOURCES = ("arxiv", "crossref", "dblp", "openalex", "unpaywall")


def _enrich_setting(metadata_path: Path | None, name: str) -> str | None:
    """A value of the `[enrich]` table of group.toml, if any."""
    if metadata_path is None:
        return None
    try:
        data = tomllib.loads(metadata_path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # the database loader reports a broken group.toml
    table = data.get("enrich")
    value = table.get(name) if isinstance(table, dict) else None
    return str(value).strip() or None if value else None


def contact_address(metadata_path: Path | None) -> str | None:
    configured = os.environ.get("DLG_BIB_MAILTO", "").strip()
    return configured or _enrich_setting(metadata_path, "mailto")


def openalex_key(metadata_path: Path | None) -> str | None:
    """The OpenAlex API key: the environment first (keeps it out of the repository)."""
    configured = os.environ.get(KEY_ENV, "").strip()
    return configured or _enrich_setting(metadata_path, "openalex_key")


@dataclass
class Run:
    client: HttpClient
    resolver: Resolver
    dblp: DblpSource | None = None
    free_copy: FreeCopyFinder = field(default_factory=FreeCopyFinder)

    def notes(self) -> list[str]:
        """Sources given up during the run, one line each (reported once)."""
        return [*(self.dblp.notes if self.dblp else []), *self.free_copy.notes]


def make_run(
    *,
    mode: Mode = Mode.NORMAL,
    contact: str | None = None,
    use: tuple[str, ...] = ALL_SOURCES,
    workers: int = 1,
    clock: Clock | None = None,
    api_key: str | None = None,
) -> Run:
    """The sources of a run. `use` names those that may be asked; `api_key` is OpenAlex's."""
    client = HttpClient(
        contact=contact, cache=DiskCache(transport.cache_dir()), mode=mode, clock=clock
    )
    arxiv = ArxivSource(client) if "arxiv" in use else None
    crossref = CrossrefSource(client, workers=workers) if "crossref" in use else None
    dblp = DblpSource(client, text=DBLP_TEXT) if "dblp" in use else None
    finders: list[PublishedVersionFinder] = []
    if crossref is not None:
        finders.append(CrossrefSearchFinder(crossref))
    venue_finders: list[PublishedVersionFinder] = [DblpFinder(dblp)] if dblp is not None else []
    resolver = Resolver(arxiv, crossref, [*finders, *venue_finders], venue_finders)
    openalex = OpenAlexSource(client, api_key=api_key or "") if "openalex" in use else None
    # Unpaywall requires a contact address; without one it is simply not asked.
    unpaywall = UnpaywallSource(client, email=contact) if "unpaywall" in use and contact else None
    return Run(client, resolver, dblp, FreeCopyFinder(openalex, unpaywall))
