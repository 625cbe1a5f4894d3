"""`dlg_bib.background`: lint in a forked child while the parent renders.

The scenarios run in fresh processes (tests/fixtures/background/probe.py), single-threaded
as the CLI is; the renders are run as the installed `dlg-bib`, once with a child and once
without (`DLG_BIB_JOBS=1`), and must give the same bytes, messages and exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlg_bib.ops.lint import BACKGROUND_FROM
from tests.conftest import FIXTURES, run_cli

PROBE = FIXTURES / "background" / "probe.py"
MANY = BACKGROUND_FROM + 200


def _probe(scenario: str, **env: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(PROBE), scenario],
        capture_output=True, text=True, timeout=60, check=True, env={**os.environ, **env},
    )  # fmt: skip
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def test_work_runs_in_a_child_and_its_answer_comes_back() -> None:
    assert _probe("where") == {"in_child": True, "answer": "child"}


@pytest.mark.parametrize(
    ("scenario", "env"),
    [("not-worth-it", {}), ("threads", {}), ("where", {"DLG_BIB_JOBS": "1"})],
    ids=["not-worth-it", "another-thread-running", "DLG_BIB_JOBS=1"],
)
def test_no_child_where_it_is_not_worth_it_or_not_safe(scenario: str, env: dict[str, str]) -> None:
    assert _probe(scenario, **env) == {"in_child": False, "answer": "parent"}


def test_a_child_killed_by_a_signal_means_the_parent_does_the_work() -> None:
    assert _probe("killed") == {"in_child": True, "answer": "parent"}


def test_an_exception_is_the_one_the_parent_raises_itself() -> None:
    assert _probe("raises") == {"in_child": True, "raised": "raised in the parent"}


def test_an_answer_that_does_not_pickle_is_worked_out_in_the_parent() -> None:
    assert _probe("unpicklable") == {"in_child": True, "answer": "parent"}


def test_cancel_stops_and_reaps_the_child() -> None:
    found = _probe("cancel")
    assert found["forked"] is True
    assert found["reaped"] is True
    assert isinstance(found["seconds"], float)
    assert found["seconds"] < 10  # the child sleeps 60 s: it was killed, not waited for


# ---- the renders that lint in the background --------------------------------------------------


def _many_entries(count: int) -> str:
    """Distinct, clean entries: enough for lint to go to a child."""
    return "".join(
        f"@article{{gen{n:05d},\n  author = {{Author{n}, Given and Other, Second}},\n"
        f"  title = {{Generated Work Number {n}}},\n  journal = {{Journal of Tests}},\n"
        f"  year = {{{1990 + n % 30}}},\n  volume = {{{n % 50}}},\n"
        f"  pages = {{{n}--{n + 9}}},\n}}\n\n"
        for n in range(count)
    )


@pytest.fixture
def big_db(tmp_path: Path) -> Path:
    target = tmp_path / "bib"
    shutil.copytree(FIXTURES / "process" / "db", target)
    (target / "generated.bib").write_text(_many_entries(MANY), encoding="utf-8")
    return target


def test_start_lint_forks_for_a_large_database(big_db: Path) -> None:
    code = (
        "from pathlib import Path; from dlg_bib.library.database import open_workspace; "
        "from dlg_bib.ops.lint import start_lint, lint_workspace; "
        f"ws = open_workspace(Path({str(big_db)!r})); p = start_lint(ws); "
        "print(p.in_child, p.result() == lint_workspace(ws))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "True"]


def _render(
    db: Path, out: Path, command: str, jobs: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DLG_BIB_JOBS"}
    if jobs is not None:
        env["DLG_BIB_JOBS"] = jobs
    args = ["--bib", str(db), command, "-o", str(out)]
    if command == "readme":
        args += ["--today", "2021-11-10"]
    return run_cli(*args, env=env)


@pytest.mark.parametrize("command", ["index", "readme"])
def test_a_render_with_lint_in_a_child_is_the_render_without(
    big_db: Path, tmp_path: Path, command: str
) -> None:
    forked = _render(big_db, tmp_path / "forked.out", command, None)
    serial = _render(big_db, tmp_path / "serial.out", command, "1")
    assert forked.returncode == serial.returncode == 0, forked.stderr + serial.stderr
    assert (tmp_path / "forked.out").read_bytes() == (tmp_path / "serial.out").read_bytes()
    assert "[placeholder]" in forked.stderr  # the fixture's one warning is shown
    assert forked.stderr == serial.stderr


@pytest.mark.parametrize("command", ["index", "readme"])
def test_lint_errors_found_in_a_child_refuse_the_render(
    big_db: Path, tmp_path: Path, command: str
) -> None:
    shutil.copy(FIXTURES / "process" / "broken" / "role_typo.bib", big_db / "broken.bib")
    forked = _render(big_db, tmp_path / "forked.out", command, None)
    serial = _render(big_db, tmp_path / "serial.out", command, "1")
    assert forked.returncode == serial.returncode == 2
    assert "lint error" in forked.stderr
    assert "Traceback" not in forked.stderr
    assert forked.stderr.replace("forked.out", "serial.out") == serial.stderr
    assert not (tmp_path / "forked.out").exists()
    assert not (tmp_path / "serial.out").exists()
