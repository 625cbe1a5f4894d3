"""`dlg-bib check-links` end to end against the test server: outputs and exit codes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dlg_bib.cli import cli
from tests.conftest import run_cli
from tests.links_server import LinkServer, serving
from tests.proxy_server import ProxyServer

FIXTURES = Path(__file__).parent / "fixtures" / "links"
JSON_FIELDS = {
    "url",
    "verdict",
    "status",
    "final_url",
    "keys",
    "suggestion",
    "elapsed_ms",
    "attempts",
}


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serving() as srv:
        yield srv


def _bib(tmp_path: Path, server: LinkServer, template: str) -> Path:
    text = (FIXTURES / template).read_text(encoding="utf-8").replace("@BASE@", server.base)
    path = tmp_path / "references.bib"
    path.write_text(text, encoding="utf-8")
    return path


def _run(tmp_path: Path, server: LinkServer, bib: Path, *args: str) -> tuple[int, str]:
    env = {
        "DLG_BIB_CACHE_DIR": str(tmp_path / "cache"),
        "DLG_BIB_WAYBACK_API": server.url("/wayback/available"),
    }
    result = CliRunner().invoke(
        cli, ["--bib", str(bib), "check-links", "--timeout", "1", *args], env=env
    )
    return result.exit_code, result.output


def test_json_output_and_exit_1_when_a_link_is_dead(tmp_path: Path, server: LinkServer) -> None:
    server.archived[server.url("/status/410")] = "https://web.archive.org/web/2020/x"
    code, out = _run(
        tmp_path, server, _bib(tmp_path, server, "links.bib.template"), "--format", "json"
    )
    assert code == 1
    rows = {row["url"]: row for row in json.loads(out)}
    assert all(set(row) >= JSON_FIELDS for row in rows.values())
    gone = rows[server.url("/status/404")]
    assert gone["verdict"] == "dead" and gone["status"] == 404
    assert gone["keys"] == ["gone2018"]
    assert gone["suggestion"] is None  # no identifier and nothing archived
    lost = rows[server.url("/status/410")]
    assert lost["keys"] == ["lost2017", "shared2021"]  # one URL, checked once, both entries
    assert lost["suggestion"] == "https://web.archive.org/web/2020/x"
    moved = rows[server.url("/perm")]
    assert moved["verdict"] == "redirected" and moved["suggestion"] == server.url("/ok")
    assert rows[server.url("/status/403")]["verdict"] == "blocked"
    assert rows[server.url("/ok")]["verdict"] == "ok"
    assert isinstance(gone["elapsed_ms"], int) and gone["attempts"] == 1
    assert server.counters.hits["/status/410"] == 2  # HEAD and GET, once for both entries


def test_no_archive_asks_the_wayback_machine_nothing(tmp_path: Path, server: LinkServer) -> None:
    server.archived[server.url("/status/410")] = "https://web.archive.org/web/2020/x"
    bib = _bib(tmp_path, server, "links.bib.template")
    code, out = _run(tmp_path, server, bib, "--format", "json", "--no-archive")
    assert code == 1
    rows = {row["url"]: row for row in json.loads(out)}
    assert rows[server.url("/status/410")]["verdict"] == "dead"
    assert rows[server.url("/status/410")]["suggestion"] is None
    assert rows[server.url("/perm")]["suggestion"] == server.url("/ok")  # not a lookup
    assert server.counters.hits["/wayback/available"] == 0


def test_exit_0_when_nothing_is_dead_blocked_links_included(
    tmp_path: Path, server: LinkServer
) -> None:
    code, out = _run(tmp_path, server, _bib(tmp_path, server, "alive.bib.template"))
    assert code == 0
    assert "Blocked (server alive, refuses robots) (1)" in out
    assert out.rstrip().endswith("2 links: 1 blocked, 1 ok")


def test_table_groups_by_verdict_with_entries_and_suggestions(
    tmp_path: Path, server: LinkServer
) -> None:
    server.archived[server.url("/status/410")] = "https://web.archive.org/web/2020/x"
    code, out = _run(tmp_path, server, _bib(tmp_path, server, "links.bib.template"))
    assert code == 1
    dead_at = out.index("Dead (2)")
    ok_at = out.index("OK (1)")
    assert dead_at < out.index("Moved permanently") < ok_at
    assert "used by: lost2017, shared2021" in out
    assert "suggest: https://web.archive.org/web/2020/x (wayback)" in out
    assert f"new URL: {server.url('/ok')} (redirect)" in out


def test_markdown_report_and_readme_links(tmp_path: Path, server: LinkServer) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"[gone]({server.url('/status/404?from=readme')})\n", encoding="utf-8")
    bib = _bib(tmp_path, server, "alive.bib.template")
    code, out = _run(tmp_path, server, bib, "--readme", str(readme), "--format", "markdown")
    assert code == 1
    assert out.startswith("## Link check")
    assert f"| <{server.url('/status/404?from=readme')}> | 404 | README.md:1 |" in out


def test_second_run_uses_the_cache_and_no_cache_forces(tmp_path: Path, server: LinkServer) -> None:
    bib = _bib(tmp_path, server, "alive.bib.template")
    _run(tmp_path, server, bib)
    _run(tmp_path, server, bib)
    assert server.counters.hits["/ok"] == 1
    _run(tmp_path, server, bib, "--no-cache")
    assert server.counters.hits["/ok"] == 2


def test_unreadable_readme_is_a_usage_error(tmp_path: Path, server: LinkServer) -> None:
    bib = _bib(tmp_path, server, "alive.bib.template")
    done = run_cli("--bib", str(bib), "check-links", "--readme", str(tmp_path / "missing.md"))
    assert done.returncode == 2
    assert "cannot read the README" in done.stderr
    assert server.counters.hits["/ok"] == 0


def test_no_cache_still_refreshes_the_cache(tmp_path: Path, server: LinkServer) -> None:
    bib = _bib(tmp_path, server, "alive.bib.template")
    _run(tmp_path, server, bib, "--no-cache")
    saved = json.loads((tmp_path / "cache" / "links.json").read_text(encoding="utf-8"))
    assert list(saved["results"]) == [server.url("/ok")]  # blocked results are not kept
    _run(tmp_path, server, bib)
    assert server.counters.hits["/ok"] == 1


def test_progress_bar_on_a_terminal_counts_every_result(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dlg_bib.cli import check_links as cli
    from dlg_bib.links.check import LinkResult

    result = LinkResult("http://x.example/", "ok", 200, "http://x.example/")
    with cli._progress(2) as advance:
        advance(result)  # not a terminal under pytest: no bar, no output
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with cli._progress(2) as advance:
        advance(result)
        advance(result)
    err = capsys.readouterr().err
    assert "Checking links" in err and "100%" in err


def test_installed_script_checks_links_through_the_proxy_in_the_environment(
    tmp_path: Path,
) -> None:
    # The university-proxy case: the name resolves only for the proxy, so without it the
    # link would be "dead" and the run would exit 1.
    bib = tmp_path / "references.bib"
    bib.write_text(
        "@misc{viaproxy, author = {A, B}, title = {T}, year = {2020},\n"
        "  url = {http://behind-the-proxy.invalid/paper.pdf}}\n",
        encoding="utf-8",
    )
    with ProxyServer() as proxy:
        env = {**os.environ, "HTTP_PROXY": proxy.url, "DLG_BIB_CACHE_DIR": str(tmp_path)}
        env.pop("NO_PROXY", None)
        env.pop("no_proxy", None)
        done = run_cli("--bib", str(bib), "check-links", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    assert (row["url"], row["verdict"]) == ("http://behind-the-proxy.invalid/paper.pdf", "ok")
    assert proxy.requests == ["GET http://behind-the-proxy.invalid/paper.pdf"]
