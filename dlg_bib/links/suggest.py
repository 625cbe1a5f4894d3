"""What to put instead of a dead link: the entry's DOI or arXiv link when it has a working
one, else the closest archived copy from the Wayback Machine availability API.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from dlg_bib.library.ids import doi_url, normalize_doi
from dlg_bib.library.model import Database
from dlg_bib.links.check import Checker, CheckOptions, LinkResult
from dlg_bib.links.client import BadAnswer, BadURL, Response, parse_target
from dlg_bib.links.extract import Link, arxiv_link
from dlg_bib.links.gate import HostClosed

WAYBACK_ENV = "DLG_BIB_WAYBACK_API"
WAYBACK_API = "https://archive.org/wayback/available"
_WORKING = frozenset({"ok", "redirected"})
_MAX_JSON = 64 * 1024


@dataclass(frozen=True)
class Suggestion:
    url: str
    source: str  # "doi", "arxiv", "wayback" or "redirect"


def wayback_api() -> str:
    return os.environ.get(WAYBACK_ENV) or WAYBACK_API


def identifier_alternative(
    link: Link, db: Database, results: Mapping[str, LinkResult]
) -> Suggestion | None:
    """The DOI or arXiv link of an entry that uses `link`, unless that one fails too."""
    for key in link.keys:
        entry = db.find(key)
        if entry is None:
            continue
        doi = normalize_doi(entry.get("doi"))
        candidates = [
            (doi_url(doi) if doi else None, "doi"),
            (arxiv_link(entry), "arxiv"),
        ]
        for url, source in candidates:
            if not url or url == link.url:
                continue
            known = results.get(url)
            if known is None or known.verdict in _WORKING:
                return Suggestion(url, source)
    return None


async def wayback_snapshot(url: str, api: str, checker: Checker) -> str | None:
    """The closest archived copy of `url`, or None (none archived, API unreachable)."""
    query = f"{api}{'&' if '?' in api else '?'}url={quote(url, safe='')}"
    resp = await _get(query, checker)
    if resp is None or resp.status != 200:
        return None
    try:
        data = json.loads(resp.body.decode("utf-8"))
        closest = data["archived_snapshots"]["closest"]
        available = closest.get("available") is True
        snapshot = str(closest["url"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return None
    if not available or not _plain_url(snapshot):
        return None
    if snapshot.startswith("http://web.archive.org/"):
        snapshot = "https://" + snapshot[len("http://") :]
    return snapshot


def _plain_url(url: str) -> bool:
    # Remote data: accept only an http(s) URL without spaces or control characters.
    return url.startswith(("http://", "https://")) and all(33 <= ord(c) < 127 for c in url)


async def _get(url: str, checker: Checker) -> Response | None:
    # No Accept-Encoding: aiohttp asks for gzip and decodes it, as the archive's CDN sends it.
    headers = {"User-Agent": checker.options.user_agent, "Accept": "application/json"}
    for _hop in range(4):
        try:
            target = parse_target(url)
        except BadURL:
            return None
        try:
            # Urgent: the lookups run while links are checked, one host for all of them,
            # so they are the tail of the run unless they keep their host's slots busy.
            resp = await checker.send("GET", target, headers, _MAX_JSON, urgent=True)
        except (OSError, EOFError, BadAnswer, HostClosed):
            return None  # no suggestion, no crash
        location = resp.headers.get("location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return resp
    return None


class ArchiveLookups:
    """Wayback lookups running while links are still being checked: tasks on the checker's
    event loop, within the same host and overall limits as the checks."""

    def __init__(self, api: str, checker: Checker):
        self.api = api
        self.checker = checker
        self._tasks: dict[str, asyncio.Task[str | None]] = {}

    def submit(self, url: str) -> None:
        if url not in self._tasks:
            self._tasks[url] = asyncio.ensure_future(wayback_snapshot(url, self.api, self.checker))

    async def snapshots(self, urls: list[str]) -> dict[str, str]:
        """The snapshots of `urls` (looked up now unless already submitted)."""
        for url in urls:
            self.submit(url)
        found = {}
        for url in urls:
            snapshot = await self._tasks[url]
            if snapshot:
                found[url] = snapshot
        return found

    async def close(self) -> None:
        pending = [task for task in self._tasks.values() if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def needs_archive(link: Link, db: Database) -> bool:
    """True when no entry using `link` has a DOI or arXiv link to offer instead."""
    for key in link.keys:
        entry = db.find(key)
        if entry is None:
            continue
        for url in (
            doi_url(d) if (d := normalize_doi(entry.get("doi"))) else None,
            arxiv_link(entry),
        ):
            if url and url != link.url:
                return False
    return True


def plan_suggestions(
    links: list[Link], results: Mapping[str, LinkResult], db: Database
) -> tuple[dict[str, Suggestion], list[str]]:
    """Suggestions that need no lookup (redirect targets, the entry's DOI or arXiv link) and
    the dead URLs that need an archived copy."""
    suggestions: dict[str, Suggestion] = {}
    need_archive: list[str] = []
    for link in links:
        result = results.get(link.url)
        if result is None:
            continue
        if result.verdict == "redirected" and result.redirect_to:
            suggestions[link.url] = Suggestion(result.redirect_to, "redirect")
            continue
        if result.verdict != "dead" and not result.share_link:
            continue
        alternative = identifier_alternative(link, db, results)
        if alternative:
            suggestions[link.url] = alternative
        elif result.verdict == "dead":
            need_archive.append(link.url)
    return suggestions, need_archive


async def suggest_with(
    links: list[Link],
    results: Mapping[str, LinkResult],
    db: Database,
    archive: ArchiveLookups,
) -> dict[str, Suggestion]:
    """Suggestions by URL: for dead links, redirected links (the new URL) and share links."""
    suggestions, need_archive = plan_suggestions(links, results, db)
    for url, snapshot in (await archive.snapshots(need_archive)).items():
        suggestions[url] = Suggestion(snapshot, "wayback")
    return suggestions


def suggest(
    links: list[Link],
    results: Mapping[str, LinkResult],
    db: Database,
    options: CheckOptions,
    api: str | None = None,
) -> dict[str, Suggestion]:
    """`suggest_with` on an event loop of its own."""

    async def run() -> dict[str, Suggestion]:
        async with Checker(options).connected() as checker:
            archive = ArchiveLookups(api or wayback_api(), checker)
            try:
                return await suggest_with(links, results, db, archive)
            finally:
                await archive.close()

    return asyncio.run(run())
