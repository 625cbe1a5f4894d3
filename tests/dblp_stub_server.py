"""A local dblp on 127.0.0.1 serving the stub answers in tests/fixtures/dblp/shipped/.

For end-to-end enrich tests: point `DLG_BIB_DBLP_SPARQL` at `server.sparql_url` and
`DLG_BIB_DBLP_API` at `server.api_url`. Routes:

* `GET /sparql?query=…` — a title prefix-range query gets the `<entry>_sparql_title.json`
  whose titles fall in the range; a `VALUES ?pub {…}` query gets the `_sparql_records.json`
  holding those records; anything else an empty SPARQL result.
* `GET /search/publ/api?q=…&format=json` — the `<entry>_search.json` whose published title
  has the query's words, else a result without hits.
* `GET /rec/<key>.bib` — `rec_<key with / as _>.bib`, else 404.

With `bot_check=True` every route answers the synthetic Anubis page (status 200, HTML), with
`throttled=True` the synthetic 429 page without Retry-After: dblp unavailable either way.
Requests are counted per route in `hits`.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "dblp"
SHIPPED = FIXTURES / "shipped"
SPARQL_JSON = "application/sparql-results+json"
EMPTY_SPARQL = b'{"head":{"vars":["pub","t"]},"results":{"bindings":[]}}'
NO_HITS = b'{"result":{"query":"","hits":{"@total":"0","@computed":"0","@sent":"0","@first":"0"}}}'
_RANGE = re.compile(r'\?t >= "((?:[^"\\]|\\.)*)" && \?t < "((?:[^"\\]|\\.)*)"')
_IRI = re.compile(r"<https://dblp\.org/rec/([^>]+)>")


def _titles(path: Path) -> list[tuple[str, str]]:
    data = json.loads(path.read_text("utf-8"))
    return [(row["pub"]["value"], row["t"]["value"]) for row in data["results"]["bindings"]]


def _words(text: str) -> set[str]:
    return set(re.sub(r"[^\w]+", " ", text.lower()).split())


def sparql_answer(query: str) -> bytes:
    match = _RANGE.search(query)
    if match:
        lo, hi = (part.replace('\\"', '"').replace("\\\\", "\\") for part in match.groups())
        for path in sorted(SHIPPED.glob("*_sparql_title.json")):
            if any(lo <= title.lower() < hi for _, title in _titles(path)):
                return path.read_bytes()
        return EMPTY_SPARQL
    wanted = set(_IRI.findall(query))
    if "VALUES ?pub" in query and wanted:
        for path in sorted(SHIPPED.glob("*_sparql_records.json")):
            text = path.read_text("utf-8")
            if all(f"https://dblp.org/rec/{key}" in text for key in wanted):
                return path.read_bytes()
    return EMPTY_SPARQL


def search_answer(q: str) -> bytes:
    words = _words(q)
    for path in sorted(SHIPPED.glob("*_search.json")):
        data = json.loads(path.read_text("utf-8"))
        first = data["result"]["hits"]["hit"][0]["info"]["title"]
        if words and words <= _words(first):
            return path.read_bytes()
    return NO_HITS


class Handler(BaseHTTPRequestHandler):
    server: DblpStubServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        route = "rec" if parts.path.startswith("/rec/") else parts.path
        with self.server.lock:
            self.server.hits[route] += 1
        if self.server.bot_check:
            page = (FIXTURES / "synthetic_anubis_botcheck_page.html").read_bytes()
            self._send(200, page, "text/html; charset=utf-8")
        elif self.server.throttled:
            page = (FIXTURES / "synthetic_429_too_many_requests.html").read_bytes()
            self._send(429, page, "text/html; charset=utf-8")
        elif parts.path == "/sparql":
            self._send(200, sparql_answer(params.get("query", "")), SPARQL_JSON)
        elif parts.path == "/search/publ/api":
            self._send(200, search_answer(params.get("q", "")), "application/json")
        elif route == "rec" and parts.path.endswith(".bib"):
            key = parts.path[len("/rec/") : -len(".bib")]
            path = SHIPPED / f"rec_{key.replace('/', '_')}.bib"
            if path.is_file():
                self._send(200, path.read_bytes(), "text/x-bibtex; charset=utf-8")
            else:
                self._send(404, b"<h1>404 Not Found</h1>", "text/html")
        else:
            self._send(404, b"<h1>404 Not Found</h1>", "text/html")


class DblpStubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, bot_check: bool = False, throttled: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.bot_check = bot_check
        self.throttled = throttled
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def sparql_url(self) -> str:
        return f"{self.api_url}/sparql"

    def __enter__(self) -> DblpStubServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
