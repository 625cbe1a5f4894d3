"""Build the sources of a run from the environment and `group.toml`.

Environment (the contract with Makefile, CI and tests):
  DLG_BIB_ARXIV_API     arXiv endpoint (default https://export.arxiv.org/api/query)
  DLG_BIB_CROSSREF_API  Crossref endpoint (default https://api.crossref.org)
  DLG_BIB_ARXIV_DELAY   seconds between arXiv requests (default 3)
  DLG_BIB_CACHE_DIR     the HTTP cache (default: the user cache folder)
  DLG_BIB_MAILTO        contact address for Crossref's polite pool; else `mailto` in the
                        `[enrich]` table of group.toml
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from dlg_bib.sources.arxiv import ArxivSource
from dlg_bib.sources.crossref import CrossrefSource
from dlg_bib.sources.http import Clock, DiskCache, HttpClient, Mode
from dlg_bib.sources.resolver import Resolver

ALL_SOURCES = ("arxiv", "crossref")


def cache_dir() -> Path:
    configured = os.environ.get("DLG_BIB_CACHE_DIR", "").strip()
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("dlg-bib"))


def contact_address(metadata_path: Path | None) -> str | None:
    configured = os.environ.get("DLG_BIB_MAILTO", "").strip()
    if configured:
        return configured
    if metadata_path is None:
        return None
    try:
        data = tomllib.loads(metadata_path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # the database loader reports a broken group.toml
    table = data.get("enrich")
    mailto = table.get("mailto") if isinstance(table, dict) else None
    return str(mailto).strip() or None if mailto else None


@dataclass
class Run:
    client: HttpClient
    resolver: Resolver


def make_run(
    *,
    mode: Mode = Mode.NORMAL,
    contact: str | None = None,
    use: tuple[str, ...] = ALL_SOURCES,
    workers: int = 1,
    clock: Clock | None = None,
) -> Run:
    client = HttpClient(contact=contact, cache=DiskCache(cache_dir()), mode=mode, clock=clock)
    arxiv = ArxivSource(client) if "arxiv" in use else None
    crossref = CrossrefSource(client, workers=workers) if "crossref" in use else None
    return Run(client, Resolver(arxiv, crossref))
