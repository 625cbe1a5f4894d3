"""The arXiv API: batches of ids in, plain records out.

Both Atom formats are read (the legacy one of cached/recorded answers and the one served since
the Nov 2025 backend change), namespace-aware and independent of element order. Results are
keyed by the id in each `<id>`, never by position. Ids are validated locally first, because one
bad id fails a whole batch on the server. XML goes through defusedxml: no DTDs, no entities.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from dlg_bib.errors import SourceError
from dlg_bib.sources.http import (
    THROTTLED,
    Clock,
    HttpClient,
    Mode,
    Pacer,
    Response,
    SourcePolicy,
)

NAME = "arxiv"
DEFAULT_API = "https://export.arxiv.org/api/query"
DEFAULT_DELAY = 3.0
BATCH_SIZE = 100

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_ID_URL = re.compile(r"^https?://(?:export\.)?arxiv\.org/abs/")
_VERSION = re.compile(r"v(\d+)$")


@dataclass(frozen=True)
class ArxivRecord:
    """One arXiv entry as plain text (whitespace collapsed; still arXiv's TeX-ish markup)."""

    arxiv_id: str  # without version: 1706.03762, math/0211159
    version: str  # v5
    title: str
    summary: str
    authors: tuple[str, ...]
    published: str  # date of v1, YYYY-MM-DD
    updated: str  # date of the retrieved version
    doi: str = ""
    journal_ref: str = ""
    comment: str = ""
    primary_category: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def year(self) -> str:
        return self.published[:4]

    @property
    def month(self) -> int | None:
        part = self.published[5:7]
        return int(part) if part.isdigit() else None


@dataclass
class ArxivResult:
    """Per requested id: a record, absent, or a failure message."""

    records: dict[str, ArxivRecord] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)


def api_url() -> str:
    return os.environ.get("DLG_BIB_ARXIV_API", DEFAULT_API)


def configured_delay() -> float:
    value = os.environ.get("DLG_BIB_ARXIV_DELAY", "")
    try:
        return max(0.0, float(value)) if value.strip() else DEFAULT_DELAY
    except ValueError:
        return DEFAULT_DELAY


def policy(delay: float, clock: Clock | None = None) -> SourcePolicy:
    """One request at a time, starts `delay` apart; back off at least `delay` (≥ 5 s)."""
    pacer = Pacer(delay, concurrency=1, clock=clock)
    return SourcePolicy(NAME, pacer, min_backoff=max(delay, 5.0) if delay else 0.0, label="arXiv")


# ---- parsing ------------------------------------------------------------------------------


def _text(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())


def _date(element: Element | None) -> str:
    return _text(element)[:10]


def parse_feed(body: bytes) -> list[ArxivRecord]:
    """The records of an Atom feed. Raises SourceError for the error feed, non-XML bodies
    (`Rate exceeded.`, HTML pages) and XML with a DTD or entities (bombs)."""
    if body.lstrip().startswith(b"Rate exceeded"):
        raise SourceError("arXiv: rate exceeded")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SourceError(f"arXiv: refused unsafe XML ({type(exc).__name__})") from exc
    except (SafeET.ParseError, ValueError) as exc:
        raise SourceError(f"arXiv: answer is not XML ({exc})") from exc
    if root.tag != f"{ATOM}feed":
        raise SourceError(f"arXiv: answer is not an Atom feed (root {root.tag!r})")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        if "/api/errors" in _text(entry.find(f"{ATOM}id")):
            message = _text(entry.find(f"{ATOM}summary")) or "error"
            raise SourceError(f"arXiv: {message}")
    return [_record(entry) for entry in entries]


def _record(entry: Element) -> ArxivRecord:
    full_id = _ID_URL.sub("", _text(entry.find(f"{ATOM}id")))
    version_match = _VERSION.search(full_id)
    version = f"v{version_match.group(1)}" if version_match else ""
    bare = full_id[: version_match.start()] if version_match else full_id
    primary = entry.find(f"{ARXIV}primary_category")
    title = entry.find(f"{ATOM}title")
    return ArxivRecord(
        arxiv_id=bare,
        version=version,
        # A paper can be titled "0"; a missing <title> stays "" rather than failing.
        title=_text(title),
        summary=_text(entry.find(f"{ATOM}summary")),
        authors=tuple(
            _text(a.find(f"{ATOM}name"))
            for a in entry.findall(f"{ATOM}author")
            if _text(a.find(f"{ATOM}name"))
        ),
        published=_date(entry.find(f"{ATOM}published")),
        updated=_date(entry.find(f"{ATOM}updated")),
        doi=_text(entry.find(f"{ARXIV}doi")),
        journal_ref=_text(entry.find(f"{ARXIV}journal_ref")),
        comment=_text(entry.find(f"{ARXIV}comment")),
        primary_category=primary.get("term", "") if primary is not None else "",
        categories=tuple(
            c.get("term", "") for c in entry.findall(f"{ATOM}category") if c.get("term")
        ),
    )


def _retry_check(response: Response) -> str | None:
    """arXiv sometimes throttles with HTTP 200 and the plain-text body `Rate exceeded.`."""
    if response.body.lstrip().startswith(b"Rate exceeded"):
        return f"{THROTTLED} (Rate exceeded.)"
    return None


def _check_content_type(response: Response) -> None:
    kind = response.content_type
    if kind and "xml" not in kind:
        raise SourceError(f"arXiv: unexpected content type {kind!r} (HTTP {response.status})")


# ---- fetching -----------------------------------------------------------------------------


def _cache_key(arxiv_id: str) -> str:
    return f"{NAME}:id:{arxiv_id}"


def _record_response(record: ArxivRecord | None) -> Response:
    body = json.dumps(asdict(record) if record else {"missing": True}).encode("utf-8")
    return Response(status=200, body=body, headers={"content-type": "application/json"})


def _record_from_cache(response: Response) -> ArxivRecord | None:
    data = json.loads(response.body)
    if data.get("missing"):
        return None
    data["authors"] = tuple(data["authors"])
    data["categories"] = tuple(data["categories"])
    return ArxivRecord(**data)


class ArxivSource:
    """Looks up arXiv ids in batches, paced, with per-id caching."""

    def __init__(
        self,
        client: HttpClient,
        *,
        url: str | None = None,
        delay: float | None = None,
        batch_size: int = BATCH_SIZE,
    ):
        self.client = client
        self.url = url or api_url()
        self.policy = policy(configured_delay() if delay is None else delay, client.clock)
        self.batch_size = max(1, min(batch_size, BATCH_SIZE))

    def fetch(self, ids: Iterable[str]) -> ArxivResult:
        """Records for ids as arXiv writes them (`1706.03762`, `1706.03762v5`,
        `math/0211159`), keyed by those ids. Reading an id out of the form a person wrote it
        in (`arXiv:…`, abs/pdf URLs, `math.DG/…`) is the caller's (`enrich.arxiv`)."""
        result = ArxivResult()
        to_fetch = []
        for arxiv_id in dict.fromkeys(ids):
            cached = self.client.cached(_cache_key(arxiv_id))
            if cached is None:
                to_fetch.append(arxiv_id)
                continue
            record = _record_from_cache(cached)
            if record is None:
                result.missing.add(arxiv_id)
            else:
                result.records[arxiv_id] = record
        if to_fetch and self.client.mode is Mode.OFFLINE:
            for arxiv_id in to_fetch:
                result.failed[arxiv_id] = (
                    f"arXiv {arxiv_id} is not in the cache and --offline was given"
                )
            return result
        for start in range(0, len(to_fetch), self.batch_size):
            batch = to_fetch[start : start + self.batch_size]
            try:
                found = self._fetch_batch(batch)
            except SourceError as exc:
                for arxiv_id in batch:
                    result.failed[arxiv_id] = exc.message
                continue
            for arxiv_id in batch:
                record = found.get(arxiv_id)
                self.client.remember(_cache_key(arxiv_id), _record_response(record))
                if record is None:
                    result.missing.add(arxiv_id)
                else:
                    result.records[arxiv_id] = record
        return result

    def _fetch_batch(self, batch: list[str]) -> dict[str, ArxivRecord]:
        params = {
            "id_list": ",".join(batch),
            "start": "0",
            # id_list alone returns at most 10 results: always ask for the whole batch.
            "max_results": str(len(batch)),
        }
        what = f"arXiv {batch[0]}" + (f" (and {len(batch) - 1} more)" if len(batch) > 1 else "")
        response = self.client.get(
            self.policy, self.url, params, retry_check=_retry_check, what=what
        )
        _check_content_type(response)
        records = parse_feed(response.body)
        if response.status != 200:
            raise SourceError(f"arXiv: HTTP {response.status}", where=response.url)
        by_id: dict[str, ArxivRecord] = {}
        for record in records:
            by_id.setdefault(record.arxiv_id, record)
            by_id[record.arxiv_id + record.version] = record
        return {c: by_id[c] for c in batch if c in by_id}
