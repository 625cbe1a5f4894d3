"""The Crossref REST API: works by DOI and bibliographic search, as plain records.

Markup is stripped here (JATS abstracts, `<scp>`/`<i>`/MathML in titles, HTML entities) so
records hold plain Unicode text. 404 is plain text and means "not in Crossref" (DataCite DOIs
such as arXiv's answer 404 too). Pacing follows the limits each answer announces in its
`x-rate-limit-*` and `x-concurrency-limit` headers (5 requests/s, one at a time until told
otherwise; never more at once than the caller's worker count).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dlg_bib.errors import SourceError
from dlg_bib.sources.http import HttpClient, Pacer, Response, SourcePolicy, request_key

NAME = "crossref"
DEFAULT_API = "https://api.crossref.org"
# Crossref's public-pool limits since Dec 2025; the headers of each answer refine them.
DEFAULT_RATE = 5.0
SEARCH_ROWS = 5
SEARCH_SELECT = (
    "DOI,title,subtitle,author,editor,issued,published,published-print,published-online,"
    "container-title,short-container-title,type,subtype,volume,issue,page,article-number,"
    "publisher,ISBN,ISSN,relation,event,institution,abstract"
)

_TAG = re.compile(r"<[^>]+>")
_JATS_TITLE = re.compile(r"<jats:title>.*?</jats:title>", re.DOTALL)


@dataclass(frozen=True)
class Person:
    family: str = ""
    given: str = ""
    literal: str = ""  # an organisation


@dataclass(frozen=True)
class CrossrefWork:
    doi: str
    type: str
    title: str
    subtype: str = ""
    container_title: str = ""
    short_container_title: str = ""
    authors: tuple[Person, ...] = ()
    editors: tuple[Person, ...] = ()
    year: int | None = None
    month: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    article_number: str = ""
    publisher: str = ""
    isbn: str = ""
    issn: str = ""
    abstract: str = ""
    institution: str = ""
    relations: dict[str, tuple[str, ...]] = field(default_factory=dict)


def api_url() -> str:
    return os.environ.get("DLG_BIB_CROSSREF_API", DEFAULT_API).rstrip("/")


def strip_markup(text: str) -> str:
    """`<scp>T</scp>reebase`, JATS paragraphs, `&amp;` -> plain text, whitespace collapsed."""
    text = _JATS_TITLE.sub(" ", text)
    text = re.sub(r"</(?:jats:)?p>", " ", text)
    text = _TAG.sub("", text)
    return " ".join(html.unescape(text).split())


def _first(values: Any) -> str:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, str) and value.strip():
                return strip_markup(value)
        return ""
    return strip_markup(values) if isinstance(values, str) else ""


def _people(items: Any) -> tuple[Person, ...]:
    people = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("family"):
            people.append(
                Person(
                    family=strip_markup(item["family"]), given=strip_markup(item.get("given", ""))
                )
            )
        elif item.get("name"):
            people.append(Person(literal=strip_markup(item["name"])))
    return tuple(people)


def _date_parts(message: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Year and month from `issued`, then `published`, print, online (never `created`)."""
    for name in ("issued", "published", "published-print", "published-online"):
        parts = (message.get(name) or {}).get("date-parts") or [[]]
        first = parts[0] if parts and isinstance(parts[0], list) else []
        if first and isinstance(first[0], int):
            month = first[1] if len(first) > 1 and isinstance(first[1], int) else None
            return first[0], month
    return None, None


def _relations(value: Any) -> dict[str, tuple[str, ...]]:
    relations: dict[str, tuple[str, ...]] = {}
    for name, items in (value or {}).items() if isinstance(value, dict) else []:
        dois = tuple(
            str(i["id"])
            for i in items
            if isinstance(i, dict) and i.get("id-type") == "doi" and i.get("id")
        )
        if dois:
            relations[name] = dois
    return relations


def _text_field(message: Mapping[str, Any], name: str) -> str:
    value = message.get(name)
    return strip_markup(str(value)) if isinstance(value, str | int) else ""


def parse_work(message: Mapping[str, Any]) -> CrossrefWork:
    year, month = _date_parts(message)
    title = _first(message.get("title"))
    subtitle = _first(message.get("subtitle"))
    if subtitle and subtitle.lower() not in title.lower():
        title = f"{title}: {subtitle}"
    institution = message.get("institution")
    return CrossrefWork(
        doi=str(message.get("DOI", "")),
        type=str(message.get("type", "")),
        subtype=str(message.get("subtype", "")),
        title=title,
        container_title=_first(message.get("container-title")),
        short_container_title=_first(message.get("short-container-title")),
        authors=_people(message.get("author")),
        editors=_people(message.get("editor")),
        year=year,
        month=month,
        volume=_text_field(message, "volume"),
        issue=_text_field(message, "issue"),
        pages=_text_field(message, "page"),
        article_number=_text_field(message, "article-number"),
        publisher=_text_field(message, "publisher"),
        isbn=_first(message.get("ISBN")),
        issn=_first(message.get("ISSN")),
        abstract=strip_markup(str(message.get("abstract", ""))),
        institution=_first([i.get("name", "") for i in institution if isinstance(i, dict)])
        if isinstance(institution, list)
        else "",
        relations=_relations(message.get("relation")),
    )


def _parse(message: Mapping[str, Any], url: str) -> CrossrefWork:
    try:
        return parse_work(message)
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        raise SourceError(f"Crossref: unexpected record shape ({exc})", where=url) from exc


def _json(response: Response, expected_type: str) -> Mapping[str, Any]:
    if response.content_type != "application/json":
        raise SourceError(
            f"Crossref: unexpected content type {response.content_type or 'none'!r} "
            f"(HTTP {response.status})",
            where=response.url,
        )
    try:
        data = json.loads(response.body)
    except ValueError as exc:
        raise SourceError(
            f"Crossref: answer is not valid JSON ({exc})", where=response.url
        ) from exc
    if not isinstance(data, dict) or data.get("message-type") != expected_type:
        kind = data.get("message-type") if isinstance(data, dict) else type(data).__name__
        raise SourceError(f"Crossref: expected a {expected_type}, got {kind!r}", where=response.url)
    message = data.get("message")
    if not isinstance(message, dict):
        raise SourceError("Crossref: answer without a message", where=response.url)
    return message


def _failure(response: Response) -> SourceError:
    """A 4xx other than 404: Crossref explains itself in JSON (validation-failure)."""
    detail = f"HTTP {response.status}"
    try:
        data = json.loads(response.body)
        items = data.get("message") if isinstance(data, dict) else None
        if isinstance(items, list) and items and isinstance(items[0], dict):
            detail += f": {items[0].get('message', '')}"
    except ValueError:
        pass
    return SourceError(f"Crossref: {detail}", where=response.url)


def _broken_json(response: Response) -> str | None:
    """A 200 whose JSON does not parse was cut short on the way (a proxy, an overloaded
    server): asked again, and counted as a failure of the source if it keeps happening."""
    if response.status != 200 or response.content_type != "application/json":
        return None
    try:
        json.loads(response.body)
    except ValueError:
        return "the answer is not valid JSON (cut short?)"
    return None


def adapt(pacer: Pacer, headers: Mapping[str, str], max_workers: int) -> None:
    """Follow the limits an answer announces: `x-rate-limit-limit` per `-interval`, and
    `x-concurrency-limit` (capped by our own worker count)."""
    limit = headers.get("x-rate-limit-limit", "").strip()
    interval = headers.get("x-rate-limit-interval", "1s").strip().rstrip("s") or "1"
    concurrency = headers.get("x-concurrency-limit", "").strip()
    try:
        rate = float(limit) / float(interval) if limit else None
    except (ValueError, ZeroDivisionError):
        rate = None
    pacer.update(
        interval=1.0 / rate if rate and rate > 0 else None,
        concurrency=min(max_workers, int(concurrency)) if concurrency.isdigit() else None,
    )


class CrossrefSource:
    def __init__(self, client: HttpClient, *, url: str | None = None, workers: int = 1):
        self.client = client
        self.url = url or api_url()
        self.workers = max(1, workers)
        pacer = Pacer(1.0 / DEFAULT_RATE, concurrency=1, clock=client.clock)
        self.policy = SourcePolicy(
            NAME,
            pacer,
            min_backoff=1.0,
            adapt=lambda p, h: adapt(p, h, self.workers),
            label="Crossref",
        )

    def _get(self, path: str, params: Mapping[str, str] | None, what: str) -> Response:
        url = f"{self.url}{path}"
        cached = self.client.cached(request_key(NAME, url, params))
        if cached is not None:
            return cached
        return self.client.get(self.policy, url, params, retry_check=_broken_json, what=what)

    @staticmethod
    def _work_path(doi: str) -> str:
        # Keep `/` (Crossref's routes expect it), encode everything else that is not safe.
        return "/works/" + quote(doi.strip(), safe="/()")

    def work(self, doi: str) -> CrossrefWork | None:
        """The work of a DOI, or None when Crossref does not know it (404)."""
        path = self._work_path(doi)
        response = self._get(path, None, f"DOI {doi}")
        key = request_key(NAME, f"{self.url}{path}")
        if response.status == 404:
            self.client.remember(key, response)
            return None
        if response.status != 200:
            raise _failure(response)
        work = _parse(_json(response, "work"), response.url)
        self.client.remember(key, response)
        return work

    def search(self, bibliographic: str, *, rows: int = SEARCH_ROWS) -> list[CrossrefWork]:
        """Candidates for a free-text citation; the caller decides which one (if any) matches."""
        params = {"query.bibliographic": bibliographic, "rows": str(rows), "select": SEARCH_SELECT}
        response = self._get("/works", params, f"the search for {bibliographic[:60]!r}")
        if response.status != 200:
            raise _failure(response)
        message = _json(response, "work-list")
        items = [i for i in message.get("items") or [] if isinstance(i, dict)]
        works = [_parse(i, response.url) for i in items]
        self.client.remember(request_key(NAME, f"{self.url}/works", params), response)
        if not response.from_cache:
            for item in items:
                self._seed_work(item)
        return works

    def _seed_work(self, item: Mapping[str, Any]) -> None:
        """Keep a search hit as the answer for its DOI too: a DOI found by search today is
        looked up by DOI on the next run, which then needs no request."""
        doi = item.get("DOI")
        if not isinstance(doi, str) or not doi:
            return
        key = request_key(NAME, f"{self.url}{self._work_path(doi)}")
        if self.client.cached(key) is None:
            envelope = {"status": "ok", "message-type": "work", "message": dict(item)}
            body = json.dumps(envelope).encode("utf-8")
            self.client.remember(
                key, Response(200, body, {"content-type": "application/json"}, key)
            )
