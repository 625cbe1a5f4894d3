"""Offline `check-links`: when no host at all can be resolved or reached, the machine looks
offline (exit 2, nothing listed as dead); one unresolvable host among reachable ones is dead.
The installed script in a subprocess, against `.invalid` names and the loopback test server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlg_bib.links.check import LinkResult, looks_offline
from tests.conftest import run_cli
from tests.links_server import LinkServer, closed_port, serving


@pytest.fixture
def server() -> Iterator[LinkServer]:
    with serving() as srv:
        yield srv


def write_bib(tmp_path: Path, urls: list[str]) -> Path:
    folder = tmp_path / "bib"
    folder.mkdir()
    entries = [
        f"@misc{{page{i}2020,\n  title = {{Page {i}}},\n  year = {{2020}},\n"
        f"  url = {{{url}}},\n}}\n"
        for i, url in enumerate(urls)
    ]
    (folder / "references.bib").write_text("\n".join(entries), encoding="utf-8")
    return folder


def check(tmp_path: Path, folder: Path, wayback: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLG_BIB_")}
    env["DLG_BIB_CACHE_DIR"] = str(tmp_path / "cache")
    env["DLG_BIB_WAYBACK_API"] = wayback
    result = run_cli("--bib", str(folder), "check-links", "--timeout", "2", env=env)
    return result.returncode, result.stdout, result.stderr


def test_only_unresolvable_hosts_means_offline_exit_2(tmp_path: Path) -> None:
    urls = [
        "https://dlg-bib-a.invalid/paper.pdf",
        "https://dlg-bib-b.invalid/",
        "http://dlg-bib-c.invalid/x",
    ]
    code, out, err = check(tmp_path, write_bib(tmp_path, urls), "http://dlg-bib-w.invalid/")
    assert code == 2, out + err
    assert "looks offline" in err and "hint:" in err
    assert len(err.strip().splitlines()) == 2  # one line and its hint, no traceback
    assert "Dead" not in out and "dead" not in out  # nothing listed as dead


def test_an_unresolvable_host_among_reachable_ones_is_dead(
    tmp_path: Path, server: LinkServer
) -> None:
    dead = "https://dlg-bib-gone.invalid/paper.pdf"
    folder = write_bib(tmp_path, [server.url("/ok"), server.url("/perm"), dead])
    code, out, err = check(tmp_path, folder, server.url("/wayback/available"))
    assert code == 1, out + err
    assert "Dead (1)" in out and dead in out
    assert "DNS: no such host" in out
    assert "offline" not in out + err


def _result(url: str, **fields: object) -> LinkResult:
    data: dict[str, object] = {"url": url, "verdict": "dead", "status": None, "final_url": url}
    return LinkResult.from_dict({**data, **fields})


def test_looks_offline_needs_every_checked_host_unreached() -> None:
    refused = _result(f"http://127.0.0.1:{closed_port()}/", unreached=True, requests=1)
    unresolved = _result("https://x.invalid/", unreached=True)  # queued behind its host
    answered = _result("https://example.org/gone", status=404, requests=2)
    cached_ok = _result("https://example.org/", verdict="ok", status=200, cached=True)
    malformed = _result("htp:/broken", verdict="error")  # never sent
    assert looks_offline([refused, unresolved, cached_ok, malformed])
    assert not looks_offline([refused, unresolved, answered])
    assert not looks_offline([cached_ok, malformed])  # nothing was tried
    assert not looks_offline([])
