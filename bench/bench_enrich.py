"""Issue 4: enrich 250 arXiv entries against a local arXiv stub, with the default 3 s pacing.

A threaded http.server on 127.0.0.1 answers `/api/query?id_list=…` with an Atom feed in the
current (2026) arXiv format, one `<entry>` per requested id in an order different from the
request (as the real API does), and counts requests. The mandated pacing for N ids is
(ceil(N/100) - 1) * 3 s (the first request goes at once). Expected: ceil(250/100) = 3
requests, whole-process wall time within 10% of 6 s, and a second run with 0 requests.

`--source arxiv` is used, because Crossref's own limits (5-10 requests/s since Dec 2025) and
not arXiv's decide the time once Crossref is asked about 250 preprints; that part is covered by
the tests. The baseline measured in the same run is the warm run: the same command with every
answer in the cache (process start, parse, merge and write, no network).

Issue 11: a dead network must cost seconds. `enrich` of the shipped database and `add` of an
arXiv id, with every source pointed at a closed local port and at an unresolvable `.invalid`
name, against the baseline of the same command with `--offline` (no network at all: process
start, parse, merge). Targets: enrich <= 10 s, add <= 5 s (they took 324 s and 38 s offline).

Run: `python -m bench enrich` or `python -m bench.bench_enrich [--runs N] [--entries N]`.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from bench.common import report

REPO = Path(__file__).resolve().parent.parent
SOURCE_VARIABLES = (
    "DLG_BIB_ARXIV_API",
    "DLG_BIB_CROSSREF_API",
    "DLG_BIB_DBLP_SPARQL",
    "DLG_BIB_DBLP_API",
    "DLG_BIB_OPENALEX_API",
    "DLG_BIB_UNPAYWALL_API",
)
ENRICH_TARGET = 10.0
ADD_TARGET = 5.0

DELAY = 3.0  # arXiv's documented minimum; the bench leaves DLG_BIB_ARXIV_DELAY unset
BATCH = 100

FEED_HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/benchstubfeed</id>
  <title>arXiv Query: search_query=&amp;id_list={ids}&amp;start=0&amp;max_results={n}</title>
  <updated>2026-04-12T22:10:19Z</updated>
  <link href="https://arxiv.org/api/query?search_query=&amp;start=0&amp;max_results={n}\
&amp;id_list={ids}" type="application/atom+xml"/>
  <opensearch:itemsPerPage>{n}</opensearch:itemsPerPage>
  <opensearch:totalResults>{n}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
"""
ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{id}v1</id>
    <title>Benchmark paper {id} on adaptive gradient methods</title>
    <updated>2021-01-05T17:59:46Z</updated>
    <link href="https://arxiv.org/abs/{id}v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{id}v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>A stub abstract for {id}: we bound the regret of an adaptive method \
and check it on toy data.</summary>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <published>2021-01-05T17:59:46Z</published>
    <arxiv:comment>12 pages</arxiv:comment>
    <arxiv:primary_category term="cs.LG"/>
    <author>
      <name>Ada Lovelace</name>
    </author>
    <author>
      <name>Kurt Gödel</name>
    </author>
  </entry>
"""


class ArxivStub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/query"

    def take_count(self) -> int:
        with self.lock:
            count, self.requests = self.requests, 0
        return count


class _Handler(BaseHTTPRequestHandler):
    server: ArxivStub

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests += 1
        url = urlparse(self.path)
        if url.path != "/api/query":
            self._send(404, "text/plain", b"Resource not found.")
            return
        ids = [i for i in parse_qs(url.query).get("id_list", [""])[0].split(",") if i]
        body = FEED_HEAD.format(ids=",".join(ids), n=len(ids))
        body += "".join(ENTRY.format(id=i) for i in reversed(ids)) + "</feed>\n"
        self._send(200, "application/atom+xml; charset=utf-8", body.encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def write_database(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    entries = [
        f"@misc{{bench{i:04d},\n  title = {{Benchmark paper 2101.{i + 1:05d}}},\n"
        f"  eprint = {{2101.{i + 1:05d}}},\n  archiveprefix = {{arXiv}},\n}}\n"
        for i in range(n)
    ]
    (folder / "references.bib").write_text("% enrich benchmark\n\n" + "\n".join(entries))


def run_enrich(folder: Path, cache: Path, stub: ArxivStub) -> tuple[float, int, str]:
    env = dict(os.environ)
    env.pop("DLG_BIB_ARXIV_DELAY", None)  # the default: 3 s
    env.update(
        DLG_BIB_ARXIV_API=stub.url,
        DLG_BIB_CROSSREF_API=stub.url.replace("/api/query", ""),  # never asked here
        DLG_BIB_CACHE_DIR=str(cache),
    )
    argv = [sys.executable, "-m", "dlg_bib", "--bib", str(folder), "enrich", "--source", "arxiv"]
    stub.take_count()
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"enrich failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, stub.take_count(), done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_enrich")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=250)
    args = parser.parse_args(argv if argv is not None else [])
    mandated = (math.ceil(args.entries / BATCH) - 1) * DELAY
    stub = ArxivStub()
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    cold_times: list[float] = []
    warm_times: list[float] = []
    cold_counts: list[int] = []
    warm_counts: list[int] = []
    summary = ""
    try:
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="dlg-bench-enrich-") as tmp:
                folder, cache = Path(tmp) / "bib", Path(tmp) / "cache"
                write_database(folder, args.entries)
                wall, count, summary = run_enrich(folder, cache, stub)
                cold_times.append(wall)
                cold_counts.append(count)
                text = (folder / "references.bib").read_text()
                assert text.count("abstract = {") == args.entries, "entries were not enriched"
                wall, count, _ = run_enrich(folder, cache, stub)
                warm_times.append(wall)
                warm_counts.append(count)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        stub.shutdown()
    cold, warm = statistics.median(cold_times), statistics.median(warm_times)
    print(f"entries: {args.entries}; last cold run said: {summary}")
    print(f"arXiv requests: cold runs {cold_counts} (expected {math.ceil(args.entries / BATCH)})")
    print(f"arXiv requests: second runs {warm_counts} (expected 0)")
    print(f"mandated spacing: {mandated:.1f} s")
    print(
        f"cold run (network, default delay)  median {cold:6.3f} s  "
        f"(min {min(cold_times):.3f}, max {max(cold_times):.3f})  "
        f"ratio to mandated spacing {cold / mandated if mandated else float('nan'):.3f}"
    )
    print(
        f"warm run (all cached, baseline)    median {warm:6.3f} s  "
        f"(min {min(warm_times):.3f}, max {max(warm_times):.3f})"
    )
    print(f"cold - warm (time spent on arXiv)  median {cold - warm:6.3f} s")
    ok = (
        all(c == math.ceil(args.entries / BATCH) for c in cold_counts)
        and not any(warm_counts)
        and (mandated == 0 or cold <= 1.1 * mandated)
    )
    print("verdict: " + ("PASS" if ok else "FAIL") + " (requests, zero on rerun, wall <= 1.1x)")
    unreachable(args.runs)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dead_env(cache: Path, base: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLG_BIB_")}
    env["DLG_BIB_CACHE_DIR"] = str(cache)
    env["DLG_BIB_MAILTO"] = "bench@example.org"  # Unpaywall is asked too
    if base is not None:
        env.update({name: base for name in SOURCE_VARIABLES})
        env["DLG_BIB_ARXIV_API"] = f"{base}/api/query"
    return env


def _timed(argv: list[str], env: dict[str, str], expect: int) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout + done.stderr


def unreachable(runs: int) -> None:
    """enrich and add with every source unreachable, beside `--offline` in the same run."""
    dead = {
        "closed port": f"http://127.0.0.1:{_closed_port()}",
        ".invalid name": "http://dlg-bib-bench.invalid",
    }
    cases = {
        "enrich": (["enrich", "--dry-run"], ENRICH_TARGET),
        "add 2301.00001": (["add", "2301.00001", "--dry-run"], ADD_TARGET),
    }
    ok = True
    for command, (args, target) in cases.items():
        times: dict[str, list[float]] = {"--offline (baseline)": []}
        times.update({name: [] for name in dead})
        said = ""
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="dlg-bench-dead-") as tmp:
                folder = Path(tmp) / "bib"
                shutil.copytree(REPO / "bib", folder)
                argv = [sys.executable, "-m", "dlg_bib", "--bib", str(folder), *args]
                env = _dead_env(Path(tmp) / "cache", None)
                times["--offline (baseline)"].append(_timed([*argv, "--offline"], env, 1)[0])
                for name, base in dead.items():
                    wall, said = _timed(argv, _dead_env(Path(tmp) / "cache", base), 1)
                    times[name].append(wall)
        print(f"{command}: every source unreachable (target <= {target:g} s); last said:")
        for line in said.strip().splitlines():
            if "requests sent" in line or "unreachable" in line:
                print(f"    {line.strip()}")
        baseline = times["--offline (baseline)"]
        report(f"  {command} --offline (baseline)", baseline)
        for name in dead:
            median = report(f"  {command}, sources at a {name}", times[name], baseline)
            ok = ok and median <= target
    print("verdict: " + ("PASS" if ok else "FAIL") + " (every median within its target)")
    failing_crossref(runs)


class _Failing(BaseHTTPRequestHandler):
    """A Crossref answering 500 to everything (the issue measured 295 s for this)."""

    def do_GET(self) -> None:
        body = b"Internal Server Error"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def failing_crossref(runs: int) -> None:
    """enrich --source crossref against a Crossref answering 500, beside --offline."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    offline: list[float] = []
    failing: list[float] = []
    said = ""
    try:
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="dlg-bench-500-") as tmp:
                folder = Path(tmp) / "bib"
                shutil.copytree(REPO / "bib", folder)
                argv = [sys.executable, "-m", "dlg_bib", "--bib", str(folder), "enrich"]
                argv += ["--source", "crossref", "--dry-run"]
                env = _dead_env(Path(tmp) / "cache", None)
                offline.append(_timed([*argv, "--offline"], env, 1)[0])
                env["DLG_BIB_CROSSREF_API"] = base
                wall, said = _timed(argv, env, 1)
                failing.append(wall)
    finally:
        server.shutdown()
        server.server_close()
    print("enrich --source crossref: Crossref answering 500 to everything; last said:")
    for line in said.strip().splitlines():
        if "requests sent" in line or "unavailable" in line:
            print(f"    {line.strip()}")
    report("  enrich --source crossref --offline (baseline)", offline)
    report("  enrich --source crossref, Crossref 500", failing, offline)


if __name__ == "__main__":
    main(sys.argv[1:])
