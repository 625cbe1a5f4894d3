"""What to put instead of a dead link: the entry's DOI or arXiv link when it has a working
one, else the closest archived copy from the Wayback Machine availability API.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from dlg_bib.ids import doi_url, normalize_doi
from dlg_bib.links.check import CheckOptions, LinkResult
from dlg_bib.links.client import BadURL, ConnectionPool, Response, parse_target, send
from dlg_bib.links.extract import Link, arxiv_link
from dlg_bib.links.gate import HostGate
from dlg_bib.model import Database

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


def wayback_snapshot(
    url: str, api: str, options: CheckOptions, pool: ConnectionPool, gate: HostGate[str]
) -> str | None:
    """The closest archived copy of `url`, or None (none archived, API unreachable)."""
    query = f"{api}{'&' if '?' in api else '?'}url={quote(url, safe='')}"
    resp = _get(query, options, pool, gate)
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


def _get(
    url: str, options: CheckOptions, pool: ConnectionPool, gate: HostGate[str]
) -> Response | None:
    for _hop in range(4):
        try:
            target = parse_target(url)
        except BadURL:
            return None
        headers = {"User-Agent": options.user_agent, "Accept": "application/json"}
        gate.acquire(target.host)
        try:
            resp = send(pool, "GET", target, headers, _MAX_JSON)
        except OSError:
            return None
        except Exception:  # http.client.HTTPException and friends: no suggestion, no crash
            return None
        finally:
            gate.release(target.host)
        location = resp.headers.get("location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return resp
    return None


class ArchiveLookups:
    """Wayback lookups running in the background while links are still being checked.

    They share the checker's host gate, so the API host's limit (and, in tests and benches on
    one loopback host, the per-host limit) holds across checks and lookups together."""

    def __init__(self, api: str, options: CheckOptions, gate: HostGate[str] | None = None):
        self.api = api
        self.options = options
        self.gate: HostGate[str] = gate or HostGate(options.rule_for)
        self.pool = ConnectionPool(options.timeout)
        workers = max(1, min(options.concurrency, options.per_host))
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="wayback")
        self._futures: dict[str, Future[str | None]] = {}
        self._lock = threading.Lock()

    def submit(self, url: str) -> None:
        with self._lock:
            if url not in self._futures:
                self._futures[url] = self._executor.submit(
                    wayback_snapshot, url, self.api, self.options, self.pool, self.gate
                )

    def snapshots(self, urls: list[str]) -> dict[str, str]:
        """The snapshots of `urls` (looked up now unless already submitted)."""
        for url in urls:
            self.submit(url)
        found = {}
        for url in urls:
            snapshot = self._futures[url].result()
            if snapshot:
                found[url] = snapshot
        return found

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.pool.close()


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


def suggest(
    links: list[Link],
    results: Mapping[str, LinkResult],
    db: Database,
    options: CheckOptions,
    api: str | None = None,
    archive: ArchiveLookups | None = None,
) -> dict[str, Suggestion]:
    """Suggestions by URL: for dead links, redirected links (the new URL) and share links."""
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
    if not need_archive:
        return suggestions
    lookups = archive or ArchiveLookups(api or wayback_api(), options)
    try:
        for url, snapshot in lookups.snapshots(need_archive).items():
            suggestions[url] = Suggestion(snapshot, "wayback")
    finally:
        if archive is None:
            lookups.close()
    return suggestions
