"""Issue 12: check-links on 1,000 links spread over 20 loopback hosts, at default options.

Every tool runs at its defaults, in the same run, interleaved, whole processes, medians:

- dlg-bib (aiohttp transport): `--per-host 6 --concurrency 100 --timeout 10`, its defaults;
- dlg-bib as on branch `main` (the hand-written HTTP/1.1 client), same options, when the
  bench runs in a git checkout that has `main` (`--old-ref`; the package is exported with
  `git archive` into a temp folder and run from there);
- linkinator 7.6 at its defaults (concurrency 100, no per-host limit, no timeout);
- dlg-bib with `--concurrency 100 --per-host 100`, linkinator's politeness, to tell what
  the per-host limit costs apart from the transport;
- dlg-bib with `--no-archive` (no Wayback lookups of the dead links; linkinator makes none),
  to tell what those lookups cost.

lychee is not in the comparison: it is not on PyPI, npm or Debian, and crates.io (cargo
install) is not reachable from this workplace. markdown-link-check (fixed concurrency 2) and
linkchecker were measured in issue 5 and are far slower; they are left out here.

The links are spread over hosts 127.0.0.2, 127.0.0.3, ... (Linux routes all of 127.0.0.0/8
to the loopback), one listening socket each, so per-host limits act as on the real web. The
server (asyncio, one thread) answers every request after 50 ms with a realistic mix: pages,
permanent and temporary redirects, 404/410, bot walls, servers that refuse HEAD, server
errors. It counts requests in flight per Host header: "peak/host" must stay within
dlg-bib's `--per-host` (6).

Accuracy: dlg-bib must give the expected verdict (ok/redirected/dead/blocked/error) for every
link. linkinator only says broken or not, so for both we count "dead decided right": broken
exactly when the link is really gone (404, 410).

Where the time goes: for each tool, the CPU seconds the process used, and two floors set by
the politeness limits at 50 ms per answer: per host (the busiest host's requests / per-host
limit x latency) and overall (all requests / concurrency x latency); plus the start-up of an
empty run.

`--with-hang` runs dlg-bib alone (new and old) on the same links plus two hanging hosts,
5 links each: one that accepts no connection (a dead server behind a firewall that drops
packets) and one that accepts and never answers. The extra wall time, in `--timeout`s, is
what a hanging host costs. linkinator has no timeout by default and would wait forever.

The numbers are noisy when the machine is shared: run `--runs 5` or more and read medians.
Run: `python -m bench links` or `python -m bench.bench_links [--runs N] [--with-hang]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib.links.check import CheckOptions

LATENCY = 0.05
# (share of links, route, expected dlg-bib verdict, really gone?, requests dlg-bib sends)
MIX: list[tuple[float, str, str, bool, int]] = [
    (0.66, "ok", "ok", False, 1),
    (0.08, "moved", "redirected", False, 2),  # 301 -> page: stored link should be updated
    (0.05, "temp", "ok", False, 2),  # 302 -> page (a DOI resolver does this)
    (0.06, "gone", "dead", True, 2),  # 404 (HEAD, then GET to confirm)
    (0.02, "removed", "dead", True, 2),  # 410
    (0.04, "botwall", "blocked", False, 2),  # 403 to robots, alive for people
    (0.01, "login", "blocked", False, 2),  # 401
    (0.04, "nohead", "ok", False, 2),  # HEAD 405, GET 200
    (0.02, "broken", "error", False, 3),  # 500: retried
]
N_LINKS = 1000
N_HOSTS = 20
HANG_LINKS = 5  # per hanging host
RUNS = 3
# dlg-bib's defaults, for the floors and the peak check.
DEFAULT_PER_HOST = CheckOptions.per_host
DEFAULT_CONCURRENCY = CheckOptions.concurrency
DEFAULT_TIMEOUT = 10.0


# ---- the loopback server -----------------------------------------------------------------


@dataclass
class Counters:
    in_flight: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # per Host header

    def reset(self) -> None:
        self.in_flight.clear()
        self.peak.clear()
        self.requests.clear()


PAGE = (
    b"<!doctype html><html><head><title>A page</title></head><body>"
    + b"text " * 400
    + b"</body></html>"
)


class BenchServer:
    """HTTP/1.1 with keep-alive on asyncio, one listening socket per loopback address."""

    def __init__(self, latency: float, hosts: int, hanging: bool):
        self.latency = latency
        self.counters = Counters()
        self.loop = asyncio.new_event_loop()
        self.hosts: list[str] = []  # "127.0.0.2:port", ...
        self.wayback = ""  # on 127.0.0.1: the archive is none of the links' hosts
        self.blackhole = ""  # accepts no connection
        self.silent = ""  # accepts, never answers
        self._hanging = hanging
        self._n_hosts = hosts
        self._fillers: list[socket.socket] = []
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        archive = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024)
        )
        self.wayback = f"127.0.0.1:{archive.sockets[0].getsockname()[1]}"
        for index in range(self._n_hosts):
            address = f"127.0.0.{index + 2}"
            server = self.loop.run_until_complete(
                asyncio.start_server(self._client, address, 0, backlog=1024)
            )
            self.hosts.append(f"{address}:{server.sockets[0].getsockname()[1]}")
        if self._hanging:
            self.blackhole = self._make_blackhole(f"127.0.0.{self._n_hosts + 2}")
            silent = self.loop.run_until_complete(
                asyncio.start_server(self._silent, f"127.0.0.{self._n_hosts + 3}", 0)
            )
            self.silent = f"127.0.0.{self._n_hosts + 3}:{silent.sockets[0].getsockname()[1]}"
        ready.set()
        self.loop.run_forever()

    def _make_blackhole(self, address: str) -> str:
        # A full listen queue: the kernel drops further SYNs, so connects hang.
        listener = socket.socket()
        listener.bind((address, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        self._fillers.append(listener)
        for _ in range(8):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((address, port))
            self._fillers.append(sock)
        return f"{address}:{port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        for sock in self._fillers:
            sock.close()

    async def _silent(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client gives up
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                host = headers.get("host", "")
                c = self.counters
                c.requests[host] += 1
                c.in_flight[host] += 1
                c.peak[host] = max(c.peak[host], c.in_flight[host])
                try:
                    status, extra, body = self._route(method, target)
                    await asyncio.sleep(self.latency)
                finally:
                    c.in_flight[host] -= 1
                head_out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
                head_out += [f"{k}: {v}" for k, v in extra.items()]
                head_out.append("Content-Type: text/html")
                data = ("\r\n".join(head_out) + "\r\n\r\n").encode()
                writer.write(data if method == "HEAD" else data + body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            ValueError,
            asyncio.LimitOverrunError,
        ):
            pass
        finally:
            writer.close()

    def _route(self, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition("?")
        kind = path.strip("/").split("/")[0]
        if kind in ("ok", "page") or path in ("/", "/index.html"):
            return 200, {}, PAGE
        if kind == "moved":
            return 301, {"Location": path.replace("/moved/", "/page/") + "-new"}, b""
        if kind == "temp":
            return 302, {"Location": path.replace("/temp/", "/page/")}, b""
        if kind == "gone":
            return 404, {}, b"not found"
        if kind == "removed":
            return 410, {}, b"gone"
        if kind == "botwall":
            return 403, {}, b"are you a robot?"
        if kind == "login":
            return 401, {"WWW-Authenticate": "Basic"}, b"login"
        if kind == "nohead":
            return (405, {"Allow": "GET"}, b"") if method == "HEAD" else (200, {}, PAGE)
        if kind == "broken":
            return 500, {}, b"oops"
        if kind == "wayback":
            url = re.sub(r"^.*url=", "", query)
            body = json.dumps({"archived_snapshots": {}}).encode()
            return 200, {"Content-Type": "application/json", "X-Url": url[:100]}, body
        return 404, {}, b""  # robots.txt, favicon, anything else


# ---- links and expectations --------------------------------------------------------------


@dataclass(frozen=True)
class BenchLink:
    url: str
    verdict: str
    gone: bool
    requests: int  # what dlg-bib sends for it, for the floors


def make_links(hosts: list[str], n: int) -> list[BenchLink]:
    kinds: list[tuple[str, str, bool, int]] = []
    counts = [round(share * n) for share, *_ in MIX]
    counts[0] += n - sum(counts)
    for (_, route, verdict, gone, requests), count in zip(MIX, counts, strict=True):
        kinds += [(route, verdict, gone, requests)] * count
    # Interleave kinds and hosts as in a real list (the same shuffle every run).
    random.Random(12).shuffle(kinds)
    return [
        BenchLink(f"http://{hosts[i % len(hosts)]}/{route}/{i}", verdict, gone, requests)
        for i, (route, verdict, gone, requests) in enumerate(kinds)
    ]


def hang_links(server: BenchServer) -> list[BenchLink]:
    return [
        BenchLink(f"http://{host}/paper/{i}", "timeout", False, 1)
        for host in (server.blackhole, server.silent)
        for i in range(HANG_LINKS)
    ]


def write_inputs(folder: Path, links: list[BenchLink], name: str) -> tuple[Path, Path]:
    md = folder / f"{name}.md"
    md.write_text(
        "# Reading list\n\n" + "".join(f"- [link {i}]({lk.url})\n" for i, lk in enumerate(links))
    )
    bib = folder / "empty.bib"
    bib.write_text("% no entries: the links come from the README\n")
    return md, bib


# ---- tools -------------------------------------------------------------------------------


def tools_dir() -> Path:
    configured = os.environ.get("DLG_BIB_BENCH_TOOLS")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "dlg-bib-bench-tools"


def ensure_linkinator(folder: Path) -> Path | None:
    npm_dir = folder / "npm"
    exe = npm_dir / "node_modules" / ".bin" / "linkinator"
    if exe.exists():
        return exe
    if not shutil.which("npm"):
        print("npm not found: skipping linkinator")
        return None
    npm_dir.mkdir(parents=True, exist_ok=True)
    print("installing linkinator with npm ...", flush=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "linkinator"],
        cwd=npm_dir,
        check=True,
    )
    return exe


def export_old(ref: str, into: Path) -> Path | None:
    """`git archive REF dlg_bib` into `into`; None outside a git checkout or without REF."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", ref, "dlg_bib"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        print(f"no git ref {ref!r}: the old client is left out")
        return None
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


@dataclass
class Tool:
    name: str
    argv: list[str]
    parse: Callable[[str], dict[str, str]]  # output -> {url: verdict or "broken"/"alive"}
    env: dict[str, str] = field(default_factory=dict)
    full_verdicts: bool = False
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    outcome: dict[str, str] = field(default_factory=dict)


def parse_dlg_bib(out: str) -> dict[str, str]:
    return {row["url"]: row["verdict"] for row in json.loads(out)}


def parse_linkinator(out: str) -> dict[str, str]:
    data = json.loads(out)
    return {
        lk["url"]: "broken" if lk["state"] == "BROKEN" else "alive"
        for lk in data["links"]
        if lk["url"].startswith("http://127.0.0.") and ".md" not in lk["url"]
    }


def dlg_bib_tools(
    md: Path, bib: Path, wayback: str, old: Path | None, diagnostics: bool = False
) -> list[Tool]:
    argv = [sys.executable, "-m", "dlg_bib", "--bib", str(bib), "check-links"]
    argv += ["--readme", str(md), "--format", "json", "--no-cache"]
    env = {"DLG_BIB_WAYBACK_API": wayback, "DLG_BIB_CACHE_DIR": str(md.parent)}
    tools = [Tool("dlg-bib (aiohttp)", argv, parse_dlg_bib, env=env, full_verdicts=True)]
    if diagnostics:
        # linkinator's defaults allow 100 in flight and any number per host: the same here
        # shows what the politeness costs, apart from the transport.
        loose = [*argv, "--concurrency", "100", "--per-host", "100"]
        tools.append(
            Tool("dlg-bib (aiohttp) at 100/100", loose, parse_dlg_bib, env, full_verdicts=True)
        )
        # Without the Wayback lookups of the dead links (linkinator makes none): what they
        # cost. The old ref has no such option.
        bare = [*argv, "--no-archive"]
        tools.append(
            Tool("dlg-bib (aiohttp) --no-archive", bare, parse_dlg_bib, env, full_verdicts=True)
        )
    if old is not None:
        # Run from the exported tree: PYTHONPATH comes before the editable install.
        old_env = {**env, "PYTHONPATH": str(old)}
        tools.append(
            Tool("dlg-bib main (own client)", argv, parse_dlg_bib, old_env, full_verdicts=True)
        )
    return tools


# ---- running -----------------------------------------------------------------------------


def run_once(tool: Tool, server: BenchServer, cwd: Path) -> None:
    server.counters.reset()
    env = {**os.environ, **tool.env}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(tool.argv, capture_output=True, text=True, env=env, check=False, cwd=cwd)
    tool.times.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tool.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    tool.peaks.append(max(server.counters.peak.values(), default=0))
    tool.requests.append(sum(server.counters.requests.values()))
    try:
        tool.outcome = tool.parse(done.stdout)
    except (ValueError, KeyError) as exc:
        print(f"  {tool.name}: cannot read its output ({exc}); stderr: {done.stderr[-300:]}")
        tool.outcome = {}


def accuracy(tool: Tool, links: list[BenchLink]) -> tuple[float | None, float]:
    """(share of exact verdicts or None, share of links whose dead/not-dead call is right)."""
    got = tool.outcome
    exact = None
    if tool.full_verdicts:
        exact = sum(got.get(lk.url) == lk.verdict for lk in links) / len(links)
    dead_right = 0
    for lk in links:
        verdict = got.get(lk.url)
        if verdict is None:
            continue
        dead_right += (verdict in ("dead", "broken")) == lk.gone
    return exact, dead_right / len(links)


def floors(links: list[BenchLink], latency: float) -> tuple[float, float, float]:
    """The least time dlg-bib's defaults allow: (busiest host, all requests, the archive's
    lookups for the dead links, one host too)."""
    per_host: Counter[str] = Counter()
    for lk in links:
        per_host[lk.url.split("/")[2]] += lk.requests
    busiest = max(per_host.values())
    archive = sum(lk.verdict == "dead" for lk in links)
    total = sum(per_host.values()) + archive
    return (
        busiest / DEFAULT_PER_HOST * latency,
        total / DEFAULT_CONCURRENCY * latency,
        archive / DEFAULT_PER_HOST * latency,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=N_LINKS)
    parser.add_argument("--hosts", type=int, default=N_HOSTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--old-ref", default="main", help="git ref of the old client ('' skips)")
    parser.add_argument("--only", help="run only tools whose name contains this")
    parser.add_argument(
        "--with-hang", action="store_true", help="also: dlg-bib with two hanging hosts"
    )
    # `python -m bench links` calls main() with the bench runner's own arguments in argv.
    args = parser.parse_args(argv if argv is not None else [])

    server = BenchServer(args.latency, args.hosts, args.with_hang)
    links = make_links(server.hosts, args.links)
    wayback = f"http://{server.wayback}/wayback/available"
    with tempfile.TemporaryDirectory(prefix="dlg-bench-links-") as tmp:
        folder = Path(tmp)
        md, bib = write_inputs(folder, links, "links")
        empty_md, _ = write_inputs(folder, [], "empty")
        old = export_old(args.old_ref, folder / "old") if args.old_ref else None
        tools = dlg_bib_tools(md, bib, wayback, old, diagnostics=True)
        linkinator = ensure_linkinator(tools_dir())
        if linkinator:
            argv_l = [str(linkinator), str(md), "--markdown", "--format", "json"]
            tools.append(Tool("linkinator (defaults)", argv_l, parse_linkinator))
        startup = dlg_bib_tools(empty_md, bib, wayback, old)
        for tool in startup:
            tool.name += ", no links"
        if args.only:
            tools = [t for t in tools if args.only in t.name]
            startup = [t for t in startup if args.only in t.name]
        kinds = Counter(lk.verdict for lk in links)
        print(
            f"{len(links)} links on {args.hosts} loopback hosts, "
            f"{args.latency * 1000:.0f} ms per answer, {args.runs} runs each (interleaved); "
            f"expected: {dict(sorted(kinds.items()))}",
            flush=True,
        )
        for _ in range(args.runs):
            for tool in [*tools, *startup]:
                run_once(tool, server, folder)
        report(tools, startup, links, args.latency)

        if args.with_hang:
            hanging = links + hang_links(server)
            hang_md, _ = write_inputs(folder, hanging, "hanging")
            hang_tools = dlg_bib_tools(hang_md, bib, wayback, old)
            for tool in hang_tools:
                tool.name += " + 2 hanging hosts"
            print(
                f"\nthe same links plus {HANG_LINKS} on a host that accepts no connection and "
                f"{HANG_LINKS} on one that never answers (--timeout {DEFAULT_TIMEOUT:.0f} s)",
                flush=True,
            )
            for _ in range(args.runs):
                for tool in hang_tools:
                    run_once(tool, server, folder)
            report(hang_tools, [], hanging, args.latency)
            base = {t.name: statistics.median(t.times) for t in tools}
            for tool in hang_tools:
                plain = base.get(tool.name.removesuffix(" + 2 hanging hosts"))
                if plain is not None:
                    extra = statistics.median(tool.times) - plain
                    print(
                        f"{tool.name}: +{extra:.1f} s = {extra / DEFAULT_TIMEOUT:.1f} timeouts "
                        "for both hanging hosts"
                    )
    server.stop()


def report(tools: list[Tool], startup: list[Tool], links: list[BenchLink], latency: float) -> None:
    print(
        f"{'tool':<42} {'wall s':>7} {'cpu s':>6} {'links/s':>8} {'verdicts':>9} "
        f"{'dead ok':>8} {'peak/host':>9} {'requests':>8}"
    )
    medians = {}
    for tool in [*tools, *startup]:
        wall = statistics.median(tool.times)
        medians[tool.name] = wall
        exact, dead_right = accuracy(tool, links) if tool in tools else (None, 0.0)
        exact_text = f"{exact:.1%}" if exact is not None else "n/a"
        rate = f"{len(links) / wall:8.0f}" if tool in tools else f"{'':8}"
        print(
            f"{tool.name:<42} {wall:7.2f} {statistics.median(tool.cpu):6.2f} {rate} "
            f"{exact_text:>9} {dead_right:8.1%} {max(tool.peaks):9d} "
            f"{statistics.median(tool.requests):8.0f}",
            flush=True,
        )
    host_floor, overall_floor, archive_floor = floors(links, latency)
    print(
        f"floors at dlg-bib's defaults: busiest host {host_floor:.2f} s "
        f"(--per-host {DEFAULT_PER_HOST}), all requests {overall_floor:.2f} s "
        f"(--concurrency {DEFAULT_CONCURRENCY}), Wayback lookups of the dead links "
        f"{archive_floor:.2f} s (one host, after their links are found dead)"
    )
    ours = [t.name for t in tools if t.name.startswith("dlg-bib")]
    for name in ours:
        for other in sorted((t.name for t in tools if t.name != name), key=medians.__getitem__):
            print(f"{name} vs {other}: {medians[other] / medians[name]:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
