"""arXiv ids as people write them, read before the source is asked: `sources.arxiv` takes
ids as arXiv writes them, and the answers are given back under the ids as written."""

from __future__ import annotations

from collections.abc import Iterable

from dlg_bib.library.normalize import canonical_arxiv_id
from dlg_bib.sources.arxiv import ArxivResult, ArxivSource


def fetch(source: ArxivSource, requested: Iterable[str]) -> ArxivResult:
    """Records for ids as written (`1706.03762`, `arXiv:1706.03762v5`, abs/pdf URLs), keyed
    as written; what is not an arXiv id fails here, without a request."""
    result = ArxivResult()
    wanted: dict[str, str] = {}  # canonical (with version if given) -> as requested
    for raw in requested:
        parsed = canonical_arxiv_id(raw)
        if parsed is None:
            result.failed[raw] = f"not an arXiv identifier: {raw!r}"
            continue
        wanted.setdefault(parsed[0] + parsed[1], raw)
    found = source.fetch(wanted)
    for canonical, raw in wanted.items():
        if canonical in found.records:
            result.records[raw] = found.records[canonical]
        elif canonical in found.failed:
            result.failed[raw] = found.failed[canonical]
        elif canonical in found.missing:
            result.missing.add(raw)
    return result
