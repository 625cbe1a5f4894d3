"""Unpaywall: open-access locations of a Crossref DOI (`/v2/<doi>?email=<contact>`).

Used only for free-copy links, after `openaccess` has checked the work against the entry.
The contact address is mandatory (`email`; the caller's config or `DLG_BIB_MAILTO`). Both
author shapes are read: Crossref-style `{given, family, sequence}` (until 2025) and
`{author_position, raw_author_name, …}` (since the 2025 migration). DOIs Unpaywall does not
know (DataCite ones such as arXiv's included) answer 404 "… isn't in Unpaywall". 422 (bad
address), 429 and 5xx stop Unpaywall for the rest of the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dlg_bib.errors import SourceError
from dlg_bib.sources.http import HttpClient, Mode, Pacer, SourcePolicy, request_key
from dlg_bib.sources.records import (
    PUBLISHER,
    REPOSITORY,
    OaLocation,
    OaWork,
    host_kind,
    version_name,
)

NAME = "unpaywall"
DEFAULT_API = "https://api.unpaywall.org"
MAILTO_ENV = "DLG_BIB_MAILTO"
# About 100,000 calls a day are fine; a reading list needs a few dozen.
INTERVAL = 0.2


@dataclass(frozen=True)
class UnpaywallResult:
    """A lookup's outcome: the work, or not found (work None), or why Unpaywall is down."""

    work: OaWork | None = None
    unavailable: str = ""
    offline_miss: bool = False  # --offline and not in the cache: not asked, not "down"


def api_url() -> str:
    return os.environ.get("DLG_BIB_UNPAYWALL_API", DEFAULT_API).rstrip("/")


def author_name(raw: Mapping[str, Any]) -> str:
    """A `z_authors` item in either shape as one display name."""
    if raw.get("raw_author_name"):
        return str(raw["raw_author_name"])
    parts = [str(raw.get(k) or "").strip() for k in ("given", "family")]
    return " ".join(p for p in parts if p) or str(raw.get("name") or "")


def parse_location(raw: Mapping[str, Any]) -> OaLocation:
    landing = str(raw.get("url_for_landing_page") or "")
    pdf = str(raw.get("url_for_pdf") or "")
    url = pdf or str(raw.get("url") or "") or landing
    declared = PUBLISHER if raw.get("host_type") == PUBLISHER else REPOSITORY
    institution = str(raw.get("repository_institution") or "")
    return OaLocation(
        url=url,
        landing_url=landing,
        pdf_url=pdf,
        version=version_name(raw.get("version")),
        license=str(raw.get("license") or ""),
        host=host_kind(url, declared, institution),
        host_name=institution,
        is_oa=True,  # Unpaywall lists only open locations in oa_locations
    )


def parse_work(data: Mapping[str, Any]) -> OaWork:
    authors = [author_name(a) for a in data.get("z_authors") or [] if isinstance(a, dict)]
    year = data.get("year")
    title = data.get("title")
    locations = [
        parse_location(raw) for raw in data.get("oa_locations") or [] if isinstance(raw, dict)
    ]
    return OaWork(
        source=NAME,
        doi=str(data.get("doi") or ""),
        title=str(title) if title else None,
        year=year if isinstance(year, int) else None,
        authors=tuple(a for a in authors if a),
        locations=tuple(locations),
    )


class UnpaywallSource:
    def __init__(self, client: HttpClient, *, url: str | None = None, email: str | None = None):
        self.client = client
        self.url = url or api_url()
        self.email = email if email is not None else os.environ.get(MAILTO_ENV, "")
        self.policy = SourcePolicy(
            NAME, Pacer(INTERVAL, 1, clock=client.clock), min_backoff=2.0, label="Unpaywall"
        )
        self.down = "" if self.email else f"Unpaywall needs a contact address ({MAILTO_ENV})"

    def work_by_doi(self, doi: str) -> UnpaywallResult:
        """The work of a Crossref DOI, None when Unpaywall does not know it."""
        if self.down:
            return UnpaywallResult(unavailable=self.down)
        url = f"{self.url}/v2/{quote(doi.strip(), safe='/():;')}"
        params = {"email": self.email}
        key = request_key(NAME, url, params)
        response = self.client.cached(key)
        if response is None and self.client.mode is Mode.OFFLINE:
            return UnpaywallResult(unavailable="not in the cache (--offline)", offline_miss=True)
        if response is None:
            try:
                response = self.client.get(self.policy, url, params, what=f"DOI {doi}")
            except SourceError as exc:
                return self._give_up(exc.message)
        if response.status == 404:
            self.client.remember(key, response)
            return UnpaywallResult()
        if response.status != 200:
            return self._give_up(f"HTTP {response.status}")
        if response.content_type != "application/json":
            return self._give_up(f"unexpected {response.content_type or 'untyped'} answer")
        try:
            data = json.loads(response.body)
        except ValueError:
            return self._give_up("answer is not JSON")
        if not isinstance(data, dict) or "doi" not in data:
            return self._give_up("answer is not a DOI record")
        self.client.remember(key, response)
        return UnpaywallResult(parse_work(data))

    def _give_up(self, reason: str) -> UnpaywallResult:
        self.down = self.down or f"Unpaywall unavailable ({reason})"
        return UnpaywallResult(unavailable=self.down)
