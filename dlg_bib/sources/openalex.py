"""OpenAlex: a work's open-access locations, by singleton `doi:` lookup (free of charge).

Used only for free-copy links (never for DOI, year or venue: see apis.md §6.6 for the traps),
and every work is checked against the entry by `openaccess` before any location is used.
Since Feb 2026 an API key (`api_key=`) raises the daily budget; it comes from the caller
(config) or `DLG_BIB_OPENALEX_KEY` and is kept out of cache keys, stored URLs and messages.
Unknown DOIs answer 404 with an HTML page. 429 (over budget), 403 and 5xx stop OpenAlex for
the rest of the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
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

NAME = "openalex"
DEFAULT_API = "https://api.openalex.org"
KEY_ENV = "DLG_BIB_OPENALEX_KEY"
# OpenAlex allows 100 requests/s; a reading list needs a few dozen, so stay gentle.
INTERVAL = 0.2
PUBLISHER_SOURCE_TYPES = frozenset({"journal", "conference", "ebook platform", "book series"})


@dataclass(frozen=True)
class OpenAlexResult:
    """A lookup's outcome: the work, or not found (work None), or why OpenAlex is down."""

    work: OaWork | None = None
    unavailable: str = ""
    offline_miss: bool = False  # --offline and not in the cache: not asked, not "down"


def api_url() -> str:
    return os.environ.get("DLG_BIB_OPENALEX_API", DEFAULT_API).rstrip("/")


def _doi_of(value: Any) -> str:
    text = str(value or "").strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/"):
        if text.lower().startswith(prefix):
            return text[len(prefix) :]
    return text


def parse_location(raw: Mapping[str, Any], work_doi: str) -> OaLocation:
    given = raw.get("source")
    source: Mapping[str, Any] = given if isinstance(given, dict) else {}
    landing = str(raw.get("landing_page_url") or "")
    pdf = str(raw.get("pdf_url") or "")
    location_id = str(raw.get("id") or "")
    name = str(source.get("display_name") or raw.get("raw_source_name") or "")
    declared = PUBLISHER if source.get("type") in PUBLISHER_SOURCE_TYPES else REPOSITORY
    if work_doi and location_id.lower() == f"doi:{work_doi.lower()}":
        declared = PUBLISHER  # the DOI's own landing page (source can be null, as for CVPR)
    return OaLocation(
        url=pdf or landing,
        landing_url=landing,
        pdf_url=pdf,
        version=version_name(raw.get("version")),
        license=str(raw.get("license") or ""),
        host=host_kind(pdf or landing, declared, name),
        host_name=name,
        is_oa=bool(raw.get("is_oa")),
        location_id=location_id,
        raw_type=str(raw.get("raw_type") or ""),
    )


def parse_work(data: Mapping[str, Any]) -> OaWork:
    """A work object (singleton answer or list item) as an `OaWork`."""
    doi = _doi_of(data.get("doi"))
    authors = []
    for item in data.get("authorships") or []:
        if not isinstance(item, dict):
            continue
        author = item.get("author")
        # display_name is disambiguation output ("Niki Jitendra Parmar"): prefer the raw name.
        name = item.get("raw_author_name") or (
            author.get("display_name") if isinstance(author, dict) else None
        )
        if name:
            authors.append(str(name))
    year = data.get("publication_year")
    title = data.get("title") or data.get("display_name")
    locations = [
        parse_location(raw, doi) for raw in data.get("locations") or [] if isinstance(raw, dict)
    ]
    return OaWork(
        source=NAME,
        doi=doi,
        title=str(title) if title else None,
        year=year if isinstance(year, int) else None,
        authors=tuple(authors),
        locations=tuple(locations),
    )


class OpenAlexSource:
    def __init__(
        self,
        client: HttpClient,
        *,
        url: str | None = None,
        api_key: str | None = None,
    ):
        self.client = client
        self.url = url or api_url()
        self._api_key = api_key if api_key is not None else os.environ.get(KEY_ENV, "")
        # No retries: 429 means the daily budget is spent, and it stays spent for this run.
        self.policy = SourcePolicy(
            NAME,
            Pacer(INTERVAL, 1, clock=client.clock),
            min_backoff=2.0,
            retries=0,
            label="OpenAlex",
        )
        self.down = ""  # why OpenAlex is given up for this run

    def __repr__(self) -> str:  # never show the key
        return f"OpenAlexSource(url={self.url!r}, key={'set' if self._api_key else 'none'})"

    def work_by_doi(self, doi: str) -> OpenAlexResult:
        """The work of a DOI (`/works/doi:<doi>`), None when OpenAlex does not know it."""
        if self.down:
            return OpenAlexResult(unavailable=self.down)
        url = f"{self.url}/works/doi:{quote(doi.strip(), safe='/():;')}"
        key = request_key(NAME, url)  # without the api key
        response = self.client.cached(key)
        if response is None and self.client.mode is Mode.OFFLINE:
            return OpenAlexResult(unavailable="not in the cache (--offline)", offline_miss=True)
        if response is None:
            params = {"api_key": self._api_key} if self._api_key else {}
            try:
                response = self.client.get(self.policy, url, params, what=f"DOI {doi}")
            except SourceError as exc:
                return self._give_up(self._scrub(exc.message))
        if response.status == 404:
            self.client.remember(key, replace(response, url=url))
            return OpenAlexResult()
        if response.status != 200:
            return self._give_up(f"HTTP {response.status}")
        if response.content_type != "application/json":
            return self._give_up(f"unexpected {response.content_type or 'untyped'} answer")
        try:
            data = json.loads(response.body)
        except ValueError:
            return self._give_up("answer is not JSON")
        if not isinstance(data, dict) or "id" not in data:
            return self._give_up("answer is not a work")
        self.client.remember(key, replace(response, url=url))
        return OpenAlexResult(parse_work(data))

    def _give_up(self, reason: str) -> OpenAlexResult:
        self.down = self.down or f"OpenAlex unavailable ({reason})"
        return OpenAlexResult(unavailable=self.down)

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text
