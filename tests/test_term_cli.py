"""`dlg-bib term new` as users run it: output, --dry-run and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlg_bib.library.database import open_workspace
from tests.conftest import FIXTURES, REPO, run_cli

MULTI = FIXTURES / "terms" / "multi"


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def test_term_new_weekly_exits_0_and_adds_the_term_and_its_sessions(tmp_path: Path) -> None:
    folder = _copy(MULTI, tmp_path)
    args = ["--name", "Fall 2022", "--first", "2022-09-01", "--last", "2022-09-30"]
    result = run_cli("--bib", str(folder), "term", "new", "2022-fall", *args, "--weekly")
    assert result.returncode == 0, result.stderr
    assert "fill in the TBA titles" in result.stderr
    db = open_workspace(folder).db
    term = db.term("2022-fall")
    assert term is not None
    # The group's day (Friday): every Friday of September 2022.
    assert [s.id for s in db.sessions_in(term)] == [
        "2022-09-02",
        "2022-09-09",
        "2022-09-16",
        "2022-09-23",
        "2022-09-30",
    ]
    assert run_cli("--bib", str(folder), "lint").returncode == 0


def test_dry_run_shows_the_text_and_writes_nothing(tmp_path: Path) -> None:
    folder = _copy(MULTI, tmp_path)
    before = (folder / "group.toml").read_bytes()
    result = run_cli(
        "--bib", str(folder), "term", "new", "2022-fall", "--name", "Fall 2022",
        "--first", "2022-09-01", "--last", "2022-09-08", "--weekly", "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert 'id = "2022-fall"' in result.stdout and "date = 2022-09-02" in result.stdout
    assert "would insert" in result.stdout and "nothing was written" in result.stderr
    assert (folder / "group.toml").read_bytes() == before


def test_the_shipped_database_converts_its_implicit_term(tmp_path: Path) -> None:
    folder = _copy(REPO / "bib", tmp_path)
    result = run_cli(
        "--bib", str(folder), "term", "new", "2022-spring", "--name", "Spring 2022",
        "--first", "2022-01-21", "--last", "2022-05-06", "--weekly",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [t.id for t in open_workspace(folder).db.terms] == ["2021-fall", "2022-spring"]
    assert run_cli("--bib", str(folder), "lint").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2021-fall", "--first", "2023-01-06", "--last", "2023-02-01"], "already exists"),
        (["x", "--first", "2021-12-01", "--last", "2022-01-07"], "overlaps term"),
        (["x", "--first", "2023-02-01", "--last", "2023-01-01"], "before it starts"),
        (["x", "--first", "2023-02-30", "--last", "2023-03-01"], "--first"),
        (["x", "--first", "2023-01-01"], "--last"),
    ],
)
def test_refusals_exit_2_with_a_message_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    folder = _copy(MULTI, tmp_path)
    before = (folder / "group.toml").read_bytes()
    result = run_cli("--bib", str(folder), "term", "new", *args, "--name", "X", "--weekly")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert (folder / "group.toml").read_bytes() == before


def test_weekly_without_a_meeting_day_exits_2(tmp_path: Path) -> None:
    folder = _copy(FIXTURES / "terms" / "no-day", tmp_path)
    result = run_cli(
        "--bib", str(folder), "term", "new", "x", "--name", "X",
        "--first", "2023-01-01", "--last", "2023-02-01", "--weekly",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--day" in result.stderr


def test_a_database_without_group_toml_exits_2(tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("")
    result = run_cli(
        "--bib", str(bib), "term", "new", "x", "--name", "X",
        "--first", "2023-01-01", "--last", "2023-02-01",
    )  # fmt: skip
    assert result.returncode == 2
    assert "no group.toml" in result.stderr
