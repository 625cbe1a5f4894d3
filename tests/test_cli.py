"""The CLI contract: help that teaches, documented exit codes, errors without tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from click.testing import CliRunner

from dlg_bib.cli import cli
from tests.conftest import FIXTURES, run_cli


def test_top_level_help_documents_exit_codes_and_bib() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for text in ("--bib PATH", "0  ok", "1  findings", "2  usage error", "dlg-sessions"):
        assert text in result.output


def test_every_command_has_help_with_a_description() -> None:
    runner = CliRunner()
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert {"lint", "tag", "import", "readme", "handout", "index"} <= set(names)
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and len(command.help.split()) >= 5, name


def test_missing_database_is_exit_2_with_hint(tmp_path: Path) -> None:
    result = run_cli("--bib", str(tmp_path / "nope"), "lint")
    assert result.returncode == 2
    assert "no such database" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_is_exit_2() -> None:
    result = run_cli("tag")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_broken_group_toml_points_at_the_line(tmp_path: Path) -> None:
    (tmp_path / "group.toml").write_text('[group]\nname = "x"\n[[sessions]]\ndate = 2021-13-01\n')
    (tmp_path / "a.bib").write_text("")
    result = run_cli("--bib", str(tmp_path), "lint")
    assert result.returncode == 2
    assert f"{tmp_path / 'group.toml'}:4" in result.stderr
    assert "Traceback" not in result.stderr


def test_render_commands_report_a_malformed_value_without_traceback(tmp_path: Path) -> None:
    shutil.copy2(FIXTURES / "store" / "db" / "group.toml", tmp_path / "group.toml")
    shutil.copy2(FIXTURES / "malformed" / "dangling_concatenation.bib", tmp_path / "a.bib")
    # The rendering commands refuse with lint's finding; export reports the value it reads.
    expected = {
        "readme": f"{tmp_path / 'a.bib'}:3: error: value of `title` is not valid BibTeX",
        "index": f"{tmp_path / 'a.bib'}:3: error: value of `title` is not valid BibTeX",
        "export": f"{tmp_path / 'a.bib'}:1: field `title` of doe2020one",
    }
    for command, message in expected.items():
        result = run_cli("--bib", str(tmp_path), command, "-o", str(tmp_path / "out"))
        assert result.returncode == 2, command
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "out").exists()
