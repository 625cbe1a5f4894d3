"""A dead or failing network: sources given up once, reported once, exit 1; transient faults
survived. End to end: in process with mocked sources, and the installed script against
loopback servers, a closed port and unresolvable `.invalid` names."""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import responses
from click.testing import CliRunner

from dlg_bib.cli import cli
from tests.conftest import FIXTURES, run_cli
from tests.fault_server import Answer, serving
from tests.links_server import closed_port
from tests.sources_support import (
    ARXIV_API,
    ATOM,
    CROSSREF_API,
    CROSSREF_HEADERS,
    arxiv_body,
    copy_enrich_database,
    crossref_body,
    mock_dblp_and_free_copy_sources,
)

DOI = "10.1371/journal.pone.0033693"
SOURCES_ENV = (
    "DLG_BIB_ARXIV_API",
    "DLG_BIB_CROSSREF_API",
    "DLG_BIB_DBLP_SPARQL",
    "DLG_BIB_DBLP_API",
    "DLG_BIB_OPENALEX_API",
    "DLG_BIB_UNPAYWALL_API",
)


ORIGINAL = FIXTURES / "enrich" / "references.bib"


def database_untouched(folder: Path) -> bool:
    """The database byte for byte as it was: entries that failed are left untouched, and a
    placeholder is never sent to the sources nor given a free-copy note."""
    before = (FIXTURES / "enrich" / "references.bib").read_bytes()
    return (folder / "references.bib").read_bytes() == before


def requests_sent(output: str) -> dict[str, int]:
    """The `requests sent: 1 arxiv, 4 crossref` part of the summary line."""
    found = re.search(r"requests sent: ([^(\n]*)", output)
    assert found is not None, output
    pairs = re.findall(r"(\d+) (\w+)", found.group(1))
    return {name: int(n) for n, name in pairs}


# ---- transient faults are survived (in process, mocked) -----------------------------------


@pytest.fixture
def quick_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("dlg_bib.sources.http.SystemClock.sleep", lambda _s, t: slept.append(t))
    return slept


def _mock_sources(rsps: responses.RequestsMock, faults: list[tuple[int, dict[str, str]]]) -> None:
    mock_dblp_and_free_copy_sources(rsps)
    rsps.get(ARXIV_API, body=arxiv_body("new_batch_three.xml"), content_type=ATOM)
    rsps.get(re.compile(re.escape(f"{CROSSREF_API}/works?") + ".*"), json={"message": {}})
    for status, headers in faults:  # answered first, in order (responses pops them)
        rsps.get(f"{CROSSREF_API}/works/{DOI}", status=status, body="busy", headers=headers)
    rsps.get(
        f"{CROSSREF_API}/works/{DOI}",
        body=crossref_body("work_journal_article_plos.json"),
        content_type="application/json",
        headers=CROSSREF_HEADERS,
    )


def _enrich_sadasivan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faults: list[tuple[int, dict[str, str]]]
) -> tuple[int, bytes]:
    bib = copy_enrich_database(tmp_path, monkeypatch)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_sources(rsps, faults)
        result = CliRunner().invoke(
            cli, ["--bib", str(bib), "enrich", "sadasivan2012methylphenidate"]
        )
    return result.exit_code, (bib / "references.bib").read_bytes()


def test_two_throttles_then_two_server_errors_leave_the_entry_as_a_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_sleeps: list[float]
) -> None:
    clean_code, clean = _enrich_sadasivan(tmp_path / "clean", monkeypatch, [])
    assert clean_code == 0
    faults = [(429, {"Retry-After": "1"})] * 2 + [(500, {})] * 2
    code, faulty = _enrich_sadasivan(tmp_path / "faulty", monkeypatch, faults)
    assert code == 0
    assert faulty == clean
    assert b"pages = {e33693}" in faulty  # enriched, not merely unchanged
    assert sum(1 for t in quick_sleeps if t >= 1.0) >= 4  # every retry waited


# ---- the installed script: exit codes, one report, one request per source --------------------


@pytest.fixture
def database(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "enrich", tmp_path / "bib")
    return tmp_path / "bib"


def source_env(tmp_path: Path, **endpoints: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLG_BIB_")}
    env["DLG_BIB_CACHE_DIR"] = str(tmp_path / "cache")
    env["DLG_BIB_ARXIV_DELAY"] = "0"
    env.update(endpoints)
    return env


def unreachable_env(tmp_path: Path, base: str) -> dict[str, str]:
    """Every source at `base` (a closed port or an unresolvable name)."""
    endpoints = {name: base for name in SOURCES_ENV}
    endpoints["DLG_BIB_ARXIV_API"] = f"{base}/api/query"
    endpoints["DLG_BIB_DBLP_SPARQL"] = f"{base}/sparql"
    env = source_env(tmp_path, **endpoints)
    env["DLG_BIB_MAILTO"] = "dlg@example.org"  # so that Unpaywall is asked too
    return env


@pytest.fixture(params=["closed-port", "invalid-name"])
def dead_base(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "closed-port":
        yield f"http://127.0.0.1:{closed_port()}"
    else:
        yield "http://dlg-bib-unreachable.invalid"


def test_enrich_with_every_source_unreachable_sends_one_request_per_source(
    tmp_path: Path, database: Path, dead_base: str
) -> None:
    result = run_cli("--bib", str(database), "enrich", env=unreachable_env(tmp_path, dead_base))
    assert result.returncode == 1, result.stdout + result.stderr
    assert requests_sent(result.stdout) == {
        "arxiv": 1,
        "crossref": 1,
        "openalex": 1,
        "unpaywall": 1,
    }
    assert re.search(r"^  Crossref unreachable: .+; \d+ entries not enriched$", result.stdout, re.M)
    assert result.stdout.count("Crossref unreachable") == 1  # reported once
    assert result.stdout.count("arXiv unreachable") == 1
    # Entries held up only by a given-up source are named once, together, not a line each.
    assert result.stdout.count("held up by a source given up above") <= 1
    assert not re.search(r"^  \w+: held up by", result.stdout, re.M)
    assert "Traceback" not in result.stderr
    assert database_untouched(database)


def test_enrich_against_a_crossref_answering_500_to_everything_exits_1(
    tmp_path: Path, database: Path
) -> None:
    with serving(Answer(500, b"Internal Server Error")) as server:
        env = source_env(tmp_path, DLG_BIB_CROSSREF_API=server.url)
        result = run_cli("--bib", str(database), "enrich", "--source", "crossref", env=env)
        sent = server.total
    assert result.returncode == 1, result.stdout + result.stderr
    # The first request tries three times (one record may always fail), the second once.
    assert sent == 4 and requests_sent(result.stdout) == {"crossref": 4}
    lines = [ln for ln in result.stdout.splitlines() if "Crossref unavailable" in ln]
    assert len(lines) == 1 and "server error (HTTP 500)" in lines[0], result.stdout
    assert database_untouched(database)


def test_enrich_against_a_crossref_answering_truncated_json_exits_1(
    tmp_path: Path, database: Path
) -> None:
    body = crossref_body("work_journal_article_plos.json")[:700]
    answer = Answer(200, body, {"Content-Type": "application/json"})
    with serving(answer) as server:
        env = source_env(tmp_path, DLG_BIB_CROSSREF_API=server.url)
        result = run_cli("--bib", str(database), "enrich", "--source", "crossref", env=env)
        sent = server.total
    assert result.returncode == 1, result.stdout + result.stderr
    assert sent == 4
    assert result.stdout.count("Crossref unavailable: the answer is not valid JSON") == 1
    assert database_untouched(database)


def test_enrich_that_reports_failed_entries_exits_1(tmp_path: Path, database: Path) -> None:
    # Crossref answers, but the DOI's record has an unexpected shape: one entry failed.
    bad = Answer(200, b'{"message-type": "work-list"}', {"Content-Type": "application/json"})
    with serving(bad) as server:
        env = source_env(tmp_path, DLG_BIB_CROSSREF_API=server.url)
        args = ("enrich", "--source", "crossref", "sadasivan2012methylphenidate")
        result = run_cli("--bib", str(database), *args, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "expected a work" in result.stdout


def test_add_with_arxiv_unreachable_sends_one_request_and_exits_1(
    tmp_path: Path, database: Path, dead_base: str
) -> None:
    env = unreachable_env(tmp_path, dead_base)
    result = run_cli("--bib", str(database), "add", "2301.00001", "2302.00002", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("arXiv unreachable") == 1, result.stderr
    assert "arXiv:2301.00001: failed" in result.stderr
    assert "arXiv:2302.00002: failed" in result.stderr
    assert requests_sent(result.stderr) == {"arxiv": 1}
    assert (database / "references.bib").read_bytes() == ORIGINAL.read_bytes()


def test_add_of_an_unknown_paper_reports_failed_and_exits_1(tmp_path: Path, database: Path) -> None:
    empty_feed = arxiv_body("new_batch_three.xml").split(b"<entry>")[0] + b"</feed>\n"
    with serving(Answer(200, empty_feed, {"Content-Type": ATOM})) as server:
        env = source_env(tmp_path, DLG_BIB_ARXIV_API=f"{server.url}/api/query")
        result = run_cli("--bib", str(database), "add", "2301.00001", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "arXiv:2301.00001: failed" in result.stderr


def test_an_unreachable_dblp_is_asked_once_per_endpoint_and_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quick_sleeps: list[float]
) -> None:
    bib = copy_enrich_database(tmp_path, monkeypatch)
    no_such_host = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for url in ("https://sparql.dblp.org/sparql", "https://dblp.org/"):
            rsps.get(re.compile(re.escape(url) + ".*"), body=requests.ConnectionError(no_such_host))
        rsps.get(re.compile(r"https://api\.openalex\.org/.*"), status=404, body="")
        rsps.get(ARXIV_API, body=arxiv_body("new_batch_three.xml"), content_type=ATOM)
        rsps.get(
            re.compile(re.escape(f"{CROSSREF_API}/works?") + ".*"),
            json={"message-type": "work-list", "message": {"items": []}},
        )
        rsps.get(re.compile(re.escape(f"{CROSSREF_API}/works/") + ".*"), status=404, body="")
        result = CliRunner().invoke(cli, ["--bib", str(bib), "enrich", "--dry-run"])
    assert result.exit_code == 1, result.output
    assert requests_sent(result.output)["dblp"] == 2  # the SPARQL endpoint and dblp.org
    for host in ("sparql.dblp.org", "dblp.org"):
        line = f"dblp unreachable: name not resolved ({host})"
        assert result.output.count(line) == 1, result.output
