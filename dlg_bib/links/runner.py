"""One link-check run: collect, reuse fresh cached results, check the rest, suggest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from dlg_bib.library.model import Database
from dlg_bib.links.cache import LinkCache
from dlg_bib.links.check import Checker, CheckOptions, LinkResult
from dlg_bib.links.extract import Link, collect_links
from dlg_bib.links.report import Finding, findings
from dlg_bib.links.suggest import (
    ArchiveLookups,
    Suggestion,
    needs_archive,
    plan_suggestions,
    suggest_with,
)
from dlg_bib.links.suggest import wayback_api as default_wayback_api


def check_links(
    links: list[Link],
    db: Database,
    options: CheckOptions,
    cache: LinkCache | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
    wayback_api: str | None = None,
    refresh: bool = False,
    archive: bool = True,
) -> list[Finding]:
    """Check `links`; fresh cached results are reused unless `refresh` (they are still
    written back, so a forced run refreshes the cache). Without `archive`, dead links get
    no Wayback lookup (their entries' DOI and arXiv links are still suggested)."""
    results: dict[str, LinkResult] = {}
    todo: list[str] = []
    for link in links:
        cached = cache.fresh(link.url) if cache and not refresh else None
        if cached is not None:
            results[link.url] = cached
            if on_result:
                on_result(cached)
        else:
            todo.append(link.url)
    api = (wayback_api or default_wayback_api()) if archive else None
    results, suggestions = asyncio.run(_check(links, todo, results, db, options, api, on_result))
    if cache is not None:
        cache.store(results.values())
        cache.save()
    return findings(links, results, suggestions)


async def _check(
    links: list[Link],
    todo: list[str],
    results: dict[str, LinkResult],
    db: Database,
    options: CheckOptions,
    api: str | None,
    on_result: Callable[[LinkResult], None] | None,
) -> tuple[dict[str, LinkResult], dict[str, Suggestion]]:
    by_url = {link.url: link for link in links}
    async with Checker(options).connected() as checker:
        if api is None:
            results.update(await checker.check_many(todo, on_result))
            return results, plan_suggestions(links, results, db)[0]
        archive = ArchiveLookups(api, checker)

        def done(result: LinkResult) -> None:
            # Start the archive lookup of a dead link at once instead of after all checks.
            link = by_url.get(result.url)
            if result.verdict == "dead" and link is not None and needs_archive(link, db):
                archive.submit(link.url)
            if on_result:
                on_result(result)

        try:
            results.update(await checker.check_many(todo, done))
            suggestions = await suggest_with(links, results, db, archive)
        finally:
            await archive.close()
    return results, suggestions


def check_database(
    db: Database,
    readme: Path | None,
    options: CheckOptions,
    cache: LinkCache | None = None,
    on_result: Callable[[LinkResult], None] | None = None,
    refresh: bool = False,
    archive: bool = True,
) -> list[Finding]:
    links = collect_links(db, readme)
    return check_links(links, db, options, cache, on_result, refresh=refresh, archive=archive)
