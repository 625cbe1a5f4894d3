"""dblp: published records for a title, from the SPARQL endpoint or the search API.

The SPARQL endpoint (QLever, `DLG_BIB_DBLP_SPARQL`) is asked first: a case-insensitive title
prefix range (QLever sorts its vocabulary case-insensitively), then the full records of the
titles that match exactly once folded. The publication search API (`DLG_BIB_DBLP_API`) is the
fallback; its records carry only dblp's short venue, so `complete()` reads the full fields
from the record's BibTeX export.

Since Sept 2026 dblp.org answers scripts with an Anubis bot-check page (HTML, usually status
200) and then 429 without Retry-After. "dblp unavailable" is therefore an ordinary outcome:
a non-JSON answer, a page with the bot-check markers, 429 or 5xx marks that channel down for
the rest of the run (no further requests to it), and callers get the reason as a value. Requests
to both channels share one pacer: at least one second apart, one at a time.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import bibtexparser

from dlg_bib.errors import SourceError
from dlg_bib.latex import to_text
from dlg_bib.matching import strip_homonym, title_key
from dlg_bib.published import Preprint, PublishedDecision, decide
from dlg_bib.sources.http import HttpClient, Pacer, Response, SourcePolicy, request_key

NAME = "dblp"
DEFAULT_SPARQL = "https://sparql.dblp.org/sparql"
DEFAULT_API = "https://dblp.org"
# dblp's FAQ: "wait at least one or two seconds between two consecutive requests".
MIN_INTERVAL = 1.0
# Length of the lower-cased title prefix used for the SPARQL range (paper-preflight S1, T1).
PREFIX_CHARS = 40
TITLE_ROWS = 200
MAX_RECORDS = 10
SEARCH_HITS = 30

SPARQL_ACCEPT = "application/sparql-results+json"
JSON_TYPES = frozenset({"application/json", "application/sparql-results+json"})
BIBTEX_NS = "http://purl.org/net/nknouf/ns/bibtex#"
REC_PREFIX = "https://dblp.org/rec/"
# Markers of the Anubis challenge page (apis.md §6.5); matched case-insensitively in bytes.
BOT_MARKERS = (b"anubis_challenge", b"anubis_version", b"not a bot", b"/.within.website/")

# The search API's "refine by type" names, as lower-case BibTeX-like types.
SEARCH_TYPES = {
    "conference and workshop papers": "inproceedings",
    "journal articles": "article",
    "parts in books or collections": "incollection",
    "books and theses": "book",
    "editorship": "proceedings",
    "informal and other publications": "informal",
    "informal publications": "informal",
    "reference works": "reference",
    "data and artifacts": "data",
}

CHANNEL_SPARQL = "SPARQL endpoint"
CHANNEL_SEARCH = "search API"


@dataclass(frozen=True)
class DblpRecord:
    """One dblp record as plain text (dblp's own casing; trailing `.` of titles removed)."""

    key: str  # conf/nips/VaswaniSPUJGKP17
    title: str
    authors: tuple[str, ...]  # in order, homonym suffixes (" 0001") stripped
    year: int | None
    venue: str  # dblp's short venue: NIPS, ICLR (Poster), CoRR
    type: str  # inproceedings, article, incollection, book, proceedings, informal, …
    venue_full: str = ""  # proceedings title or journal name, when known
    volume: str = ""
    number: str = ""
    pages: str = ""  # BibTeX style: 5998--6008
    publisher: str = ""
    series: str = ""
    doi: str = ""  # as dblp writes it (upper-cased)
    url: str = ""  # the primary electronic edition
    complete: bool = True  # False: from the search API, full venue fields not read yet

    @property
    def is_corr(self) -> bool:
        """An arXiv (CoRR) record, judged by venue and type, never by key prefix: dblp files
        ICLR 2013-2015 papers under journals/corr/ keys with a conference venue."""
        venue = self.venue.strip().lower()
        return venue == "corr" or venue.startswith("corr ") or self.type == "informal"


@dataclass(frozen=True)
class DblpLookup:
    """The records dblp has for a title (title-matched once folded), or why it could not say."""

    records: tuple[DblpRecord, ...] = ()
    unavailable: str = ""  # non-empty: dblp could not be asked in this run, and why
    via: str = ""  # which channel answered


def sparql_url() -> str:
    return os.environ.get("DLG_BIB_DBLP_SPARQL", DEFAULT_SPARQL)


def api_url() -> str:
    return os.environ.get("DLG_BIB_DBLP_API", DEFAULT_API).rstrip("/")


# ---- recognising "unavailable" ----------------------------------------------------------


def unavailable_reason(response: Response, expected: frozenset[str] | None = JSON_TYPES) -> str:
    """Why an answer is not a usable dblp answer ("" when it is): throttling, server
    errors, the bot-check page, or a content type other than the expected one (with
    `expected=None`, any type but HTML)."""
    if response.status == 429:
        wait = response.headers.get("retry-after", "").strip()
        return f"throttled (HTTP 429{', Retry-After ' + wait + ' s' if wait else ''})"
    if response.status >= 500:
        return f"server error (HTTP {response.status})"
    lowered = response.body[:20000].lower()
    if any(marker in lowered for marker in BOT_MARKERS):
        return f"bot-check page instead of data (HTTP {response.status})"
    unexpected = (
        response.content_type == "text/html"
        if expected is None
        else response.content_type not in expected
    )
    if response.status == 200 and unexpected:
        shown = response.content_type or "no content type"
        return f"unexpected {shown} answer (HTTP {response.status})"
    return ""


def _parse_json(response: Response) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        return None


# ---- SPARQL -----------------------------------------------------------------------------


def _sparql_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\r\n\t]", " ", escaped) + '"'


def title_range(title: str) -> tuple[str, str]:
    """[lo, hi) on lower-cased titles: every dblp title starting with the title's prefix."""
    plain = " ".join(to_text(title).lower().split())
    lo = plain[:PREFIX_CHARS].rstrip()
    hi = lo[:-1] + chr(ord(lo[-1]) + 1) if lo else "\uffff"
    return lo, hi


def title_query(title: str) -> str:
    lo, hi = title_range(title)
    return (
        "PREFIX dblp: <https://dblp.org/rdf/schema#>\n"
        "SELECT ?pub ?t WHERE {\n"
        f"  ?pub dblp:title ?t . FILTER(?t >= {_sparql_string(lo)} && ?t < {_sparql_string(hi)})\n"
        f"}} LIMIT {TITLE_ROWS}"
    )


RECORD_FIELDS = """\
  ?pub dblp:title ?title ; dblp:bibtexType ?type .
  OPTIONAL { ?pub dblp:publishedIn ?venue }
  OPTIONAL { ?pub dblp:yearOfPublication ?year }
  OPTIONAL { ?pub dblp:doi ?doi }
  OPTIONAL { ?pub dblp:primaryDocumentPage ?primary }
  OPTIONAL { ?pub dblp:publishedInJournal ?journal }
  OPTIONAL { ?pub dblp:publishedInJournalVolume ?volume }
  OPTIONAL { ?pub dblp:publishedInJournalVolumeIssue ?number }
  OPTIONAL { ?pub dblp:pagination ?pages }
  OPTIONAL { ?pub dblp:publishedInSeries ?series }
  OPTIONAL { ?pub dblp:publishedInSeriesVolume ?seriesvol }
  OPTIONAL { ?pub dblp:publishedAsPartOf ?part . ?part dblp:title ?proceedings .
             OPTIONAL { ?part dblp:publishedBy ?publisher } }
  OPTIONAL { ?pub dblp:hasSignature ?s .
             ?s dblp:signatureOrdinal ?ord ; dblp:signatureDblpName ?name . }
"""


def records_query(iris: Iterable[str]) -> str:
    values = " ".join(f"<{iri}>" for iri in iris)
    return (
        "PREFIX dblp: <https://dblp.org/rdf/schema#>\n"
        "SELECT ?pub ?title ?type ?venue ?year ?doi ?primary ?journal ?volume ?number ?pages"
        " ?series ?seriesvol ?proceedings ?publisher ?ord ?name WHERE {\n"
        f"  VALUES ?pub {{ {values} }}\n{RECORD_FIELDS}}} ORDER BY ?pub ?ord"
    )


def _bindings(data: Any) -> list[dict[str, str]] | None:
    """SPARQL JSON rows as {var: value}; None when the shape is not SPARQL JSON."""
    if not isinstance(data, dict):
        return None
    results = data.get("results")
    rows = results.get("bindings") if isinstance(results, dict) else None
    if not isinstance(rows, list):
        return None
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append(
                {
                    name: str(cell.get("value", ""))
                    for name, cell in row.items()
                    if isinstance(cell, dict)
                }
            )
    return out


def _key_of(iri: str) -> str:
    return iri[len(REC_PREFIX) :] if iri.startswith(REC_PREFIX) else iri


def _doi_of(value: str) -> str:
    return re.sub(r"^https?://(?:dx\.)?doi\.org/", "", value.strip())


def _title(text: str) -> str:
    text = " ".join(html.unescape(text).split())
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def _pages(text: str) -> str:
    """dblp writes `5998-6008`; BibTeX wants an en dash `--`."""
    return re.sub(r"(?<=\w)\s*[-–]+\s*(?=\w)", "--", text.strip())


def _year(text: str) -> int | None:
    match = re.match(r"^\s*(\d{4})", text)
    return int(match.group(1)) if match else None


def _first(rows: list[dict[str, str]], name: str) -> str:
    values = sorted({row[name].strip() for row in rows if row.get(name, "").strip()})
    return values[0] if values else ""


def record_from_rows(key: str, rows: list[dict[str, str]]) -> DblpRecord:
    """Fold the SPARQL rows of one publication (one per author) into a record."""
    authors: dict[int, str] = {}
    for row in rows:
        ordinal = row.get("ord", "")
        if ordinal.isdigit() and row.get("name"):
            authors.setdefault(int(ordinal), strip_homonym(row["name"]))
    kind = _first(rows, "type")
    kind = kind[len(BIBTEX_NS) :] if kind.startswith(BIBTEX_NS) else kind.rsplit("#", 1)[-1]
    journal = _first(rows, "journal")
    venue = _first(rows, "venue") or _first(rows, "book") or journal
    return DblpRecord(
        key=key,
        title=_title(_first(rows, "title")),
        authors=tuple(authors[i] for i in sorted(authors)),
        year=_year(_first(rows, "year")),
        venue=venue,
        type=kind.lower(),
        venue_full=_title(_first(rows, "proceedings")) or journal,
        volume=_first(rows, "volume") or _first(rows, "seriesvol"),
        number=_first(rows, "number"),
        pages=_pages(_first(rows, "pages")),
        publisher=_first(rows, "publisher"),
        series=_first(rows, "series"),
        doi=_doi_of(_first(rows, "doi")),
        url=_first(rows, "primary") or _first(rows, "ee"),
    )


def parse_records(data: Any) -> list[DblpRecord] | None:
    """Records from a SPARQL answer of `records_query` (also reads the recorded T3 shape)."""
    rows = _bindings(data)
    if rows is None:
        return None
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row.get("pub"):
            grouped.setdefault(row["pub"], []).append(row)
    return [record_from_rows(_key_of(iri), grouped[iri]) for iri in sorted(grouped)]


def parse_title_hits(data: Any, title: str) -> list[str] | None:
    """IRIs of the prefix-range answer whose titles equal `title` once folded."""
    rows = _bindings(data)
    if rows is None:
        return None
    wanted = title_key(title)
    found = {row["pub"] for row in rows if row.get("pub") and title_key(row.get("t", "")) == wanted}
    return sorted(found)[:MAX_RECORDS]


# ---- search API -------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    """dblp's JSON is translated XML: one element is an object, several are a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text", "")
    return html.unescape(str(value)).strip() if value is not None else ""


def record_from_hit(info: Mapping[str, Any]) -> DblpRecord:
    authors_block = info.get("authors")
    authors = _as_list(authors_block.get("author") if isinstance(authors_block, dict) else None)
    kind = str(info.get("type", "")).strip().lower()
    venues = [_text(v) for v in _as_list(info.get("venue"))]
    ees = [_text(e) for e in _as_list(info.get("ee"))]
    return DblpRecord(
        key=_text(info.get("key")),
        title=_title(_text(info.get("title"))),
        authors=tuple(strip_homonym(_text(a)) for a in authors if _text(a)),
        year=_year(_text(info.get("year"))),
        venue=venues[0] if venues else "",
        type=SEARCH_TYPES.get(kind, kind),
        volume=_text(info.get("volume")),
        number=_text(info.get("number")),
        pages=_pages(_text(info.get("pages"))),
        doi=_text(info.get("doi")),
        url=ees[0] if ees else "",
        complete=False,
    )


def parse_search(data: Any) -> list[DblpRecord] | None:
    """Records of a search API answer; a missing or empty `hit` means no match."""
    if not isinstance(data, dict) or not isinstance(data.get("result"), dict):
        return None
    hits = data["result"].get("hits")
    if not isinstance(hits, dict):
        return []
    records = []
    for hit in _as_list(hits.get("hit")):
        info = hit.get("info") if isinstance(hit, dict) else None
        if isinstance(info, dict):
            records.append(record_from_hit(info))
    return records


def search_words(title: str) -> str:
    """The title as plain words: dblp treats every word as a prefix and ANDs them."""
    plain = to_text(title)
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


# ---- BibTeX export ----------------------------------------------------------------------


def _bib_value(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "")
    return " ".join(to_text(value, keep_math=True).split()) if value else ""


def _bib_link(fields: Mapping[str, str], name: str) -> str:
    """A URL or DOI: only dblp's escapes undone (`\\_` -> `_`); `~` and `%` stay as they are."""
    return re.sub(r"\\([_&%#$~])", r"\1", "".join(fields.get(name, "").split()))


def parse_bibtex(text: str, key: str) -> DblpRecord | None:
    """The record `key` of a `rec/<key>.bib` answer (param 0, 1 or 2, either column layout);
    with `param=2` the cross-referenced `@proceedings` fills what the paper lacks."""
    library = bibtexparser.parse_string(text.strip())  # type: ignore[attr-defined]
    entries = {e.key: e for e in library.entries}
    entry = entries.get(f"DBLP:{key}")
    if entry is None:
        return None
    fields = {name.lower(): f.value for name, f in entry.fields_dict.items()}
    parent = entries.get(fields.get("crossref", "").strip())
    if parent is not None:
        for name, f in parent.fields_dict.items():
            if name.lower() in ("series", "volume", "publisher"):
                fields.setdefault(name.lower(), f.value)
    authors = re.split(r"\s+and\s+", _bib_value(fields, "author")) if "author" in fields else []
    venue_full = _bib_value(fields, "booktitle") or _bib_value(fields, "journal")
    return DblpRecord(
        key=key,
        title=_title(_bib_value(fields, "title")),
        authors=tuple(strip_homonym(a) for a in authors if a),
        year=_year(_bib_value(fields, "year")),
        venue=venue_full,
        type=entry.entry_type.lower(),
        venue_full=venue_full,
        volume=_bib_value(fields, "volume"),
        number=_bib_value(fields, "number"),
        pages=_pages(_bib_value(fields, "pages")),
        publisher=_bib_value(fields, "publisher"),
        series=_bib_value(fields, "series"),
        doi=_bib_link(fields, "doi"),
        url=_bib_link(fields, "url"),
    )


# ---- the source -------------------------------------------------------------------------


class DblpSource:
    """dblp for one run: SPARQL first, the search API as fallback, each channel given up
    for the rest of the run at its first "unavailable" answer."""

    def __init__(
        self,
        client: HttpClient,
        *,
        sparql: str | None = None,
        api: str | None = None,
        interval: float = MIN_INTERVAL,
    ):
        self.client = client
        self.sparql = sparql or sparql_url()
        self.api = (api or api_url()).rstrip("/")
        self.policy = SourcePolicy(
            NAME,
            Pacer(max(MIN_INTERVAL, interval), 1, clock=client.clock),
            min_backoff=2.0,
            retries=0,  # 429 (with or without Retry-After) or 5xx: unavailable for this run
        )
        self.down: dict[str, str] = {}  # channel -> reason, for the rest of the run

    @property
    def unavailable(self) -> str:
        """One line for the run summary ("" while dblp answers): why each channel is down."""
        if CHANNEL_SPARQL in self.down and CHANNEL_SEARCH in self.down:
            return "; ".join(f"{channel}: {reason}" for channel, reason in self.down.items())
        return ""

    @property
    def notes(self) -> list[str]:
        """One line per channel given up in this run, for the summary (reported once)."""
        return [f"dblp {channel} unavailable: {reason}" for channel, reason in self.down.items()]

    # ---- transport ----

    def _fetch(
        self,
        channel: str,
        url: str,
        params: Mapping[str, str],
        *,
        accept: str,
        expected: frozenset[str] | None = JSON_TYPES,
    ) -> tuple[Response | None, str]:
        """(answer, "") or (None, reason). Never raises for an unavailable service."""
        if channel in self.down:
            return None, self.down[channel]
        key = request_key(NAME, url, params)
        cached = self.client.cached(key)
        if cached is not None:
            return cached, ""
        try:
            response = self.client.get(self.policy, url, params, headers={"Accept": accept})
        except SourceError as exc:  # timeouts, refused connections, retries exhausted, offline
            return None, self._give_up(channel, exc.message.removeprefix(f"{NAME}: "))
        reason = unavailable_reason(response, expected)
        if reason:
            return None, self._give_up(channel, reason)
        return response, ""

    def _give_up(self, channel: str, reason: str) -> str:
        self.down.setdefault(channel, reason)
        return self.down[channel]

    def _keep(self, url: str, params: Mapping[str, str], response: Response) -> None:
        self.client.remember(request_key(NAME, url, params), response)

    def _sparql(self, query: str) -> tuple[Any, str]:
        params = {"query": query}
        response, reason = self._fetch(CHANNEL_SPARQL, self.sparql, params, accept=SPARQL_ACCEPT)
        if response is None:
            return None, reason
        if response.status != 200:
            # A 400 is a query the endpoint rejects (our bug), not an outage: skip this title.
            return None, f"{CHANNEL_SPARQL}: HTTP {response.status}"
        data = _parse_json(response)
        if _bindings(data) is None:
            return None, self._give_up(CHANNEL_SPARQL, "answer is not SPARQL JSON")
        self._keep(self.sparql, params, response)
        return data, ""

    # ---- lookups ----

    def find(self, title: str) -> DblpLookup:
        """dblp's records whose title equals `title` once folded (CoRR twins included; the
        caller decides). Tries SPARQL, then the search API; `unavailable` says why neither
        could answer."""
        if not title_key(title):
            return DblpLookup()
        records, reason = self._find_sparql(title)
        if records is not None:
            return DblpLookup(tuple(records), via="sparql")
        records, second = self._find_search(title)
        if records is not None:
            return DblpLookup(tuple(records), via="search")
        return DblpLookup(unavailable=f"dblp unavailable ({reason}; {second})")

    def _find_sparql(self, title: str) -> tuple[list[DblpRecord] | None, str]:
        data, reason = self._sparql(title_query(title))
        if data is None:
            return None, reason or CHANNEL_SPARQL
        iris = parse_title_hits(data, title) or []
        if not iris:
            return [], ""
        data, reason = self._sparql(records_query(iris))
        if data is None:
            return None, reason or CHANNEL_SPARQL
        wanted = {_key_of(iri) for iri in iris}
        return [r for r in parse_records(data) or [] if r.key in wanted], ""

    def _find_search(self, title: str) -> tuple[list[DblpRecord] | None, str]:
        url = f"{self.api}/search/publ/api"
        params = {"q": search_words(title), "format": "json", "h": str(SEARCH_HITS), "c": "0"}
        response, reason = self._fetch(CHANNEL_SEARCH, url, params, accept="application/json")
        if response is None:
            return None, f"{CHANNEL_SEARCH}: {reason}"
        records = parse_search(_parse_json(response)) if response.status == 200 else None
        if records is None:
            detail = f"HTTP {response.status}" if response.status != 200 else "not search JSON"
            return None, f"{CHANNEL_SEARCH}: {self._give_up(CHANNEL_SEARCH, detail)}"
        self._keep(url, params, response)
        wanted = title_key(title)
        return [r for r in records if title_key(r.title) == wanted], ""

    def complete(self, record: DblpRecord) -> DblpRecord:
        """Fill the full venue fields of a search-API record from its BibTeX export
        (`rec/<key>.bib?param=1`); the record as it is when dblp cannot say more."""
        if record.complete or not record.key:
            return record
        url = f"{self.api}/rec/{record.key}.bib"
        params = {"param": "1"}
        response, _ = self._fetch(
            CHANNEL_SEARCH,
            url,
            params,
            accept="application/x-bibtex",
            expected=None,  # the export's content type was never recorded
        )
        if response is None or response.status != 200:
            return record
        full = parse_bibtex(response.text, record.key)
        if full is None:
            return record
        self._keep(url, params, response)
        return replace(
            record,
            venue_full=full.venue_full or record.venue_full,
            volume=full.volume or record.volume,
            number=full.number or record.number,
            pages=full.pages or record.pages,
            publisher=full.publisher,
            series=full.series,
            doi=full.doi or record.doi,
            url=full.url or record.url,
            complete=True,
        )


def published_version(source: DblpSource, preprint: Preprint) -> PublishedDecision:
    """The published version of a preprint according to dblp: look the title up, decide
    (`published.decide`), and for a search-API record read its full venue fields first."""
    decision = decide(preprint, source.find(preprint.title))
    if decision.record is None or decision.record.complete:
        return decision
    return decide(preprint, DblpLookup((source.complete(decision.record),), via="search"))
