"""`dlg-bib export` as users run it: selections, formats, -o, unknown keys and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dlg_bib.cli import cli
from tests.conftest import FIXTURES, run_cli

DB = str(FIXTURES / "export" / "db")
AUX = FIXTURES / "export" / "aux"


def test_help_documents_selection_placeholders_and_exit_code() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    for text in (
        "--aux FILE.aux",
        "--include-placeholders",
        "Placeholders",
        "Exit code 1",
        "bibtex|biblatex|csl-json",
        "\\nocite{*}",
    ):
        assert text in result.output, text


def test_unknown_keys_are_listed_and_exit_1_but_known_ones_are_written(tmp_path: Path) -> None:
    out = tmp_path / "refs.bib"
    result = run_cli(
        "--bib", DB, "export", "--keys", "tikk2003survey,nokey1", "--keys", "nokey2", "-o", str(out)
    )
    assert result.returncode == 1
    assert "unknown keys (not in the database):\n  nokey1\n  nokey2\n" in result.stderr
    assert "Traceback" not in result.stderr
    assert out.read_text().startswith("@article{tikk2003survey,")


def test_aux_subset_reports_unknown_and_missing_include() -> None:
    result = run_cli("--bib", DB, "export", "--aux", str(AUX / "bibtex-paper.aux"))
    assert result.returncode == 1
    assert "  nosuchkey2020\n" in result.stderr
    assert "missing.aux: included .aux file not found (skipped)" in result.stderr
    assert "@book{goodfellow2016deep," in result.stdout


def test_clean_aux_subset_exits_0() -> None:
    result = run_cli(
        "--bib", DB, "export", "--aux", str(AUX / "biber-paper.aux"), "--format", "biblatex"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "@inproceedings{vaswani2017attention," in result.stdout  # cited as alias vaswani2017


def test_session_topic_and_formats() -> None:
    result = run_cli("--bib", DB, "export", "--session", "2021-11-12", "--format", "csl-json")
    assert result.returncode == 0
    ids = [item["id"] for item in json.loads(result.stdout)]
    assert ids == ["devlin2019bert", "pennington2014glove", "vaswani2017attention"]
    topic = run_cli("--bib", DB, "export", "--topic", "nope")
    assert topic.returncode == 2 and "unknown topic 'nope'" in topic.stderr


def test_explicit_placeholder_is_reported_and_included_on_request() -> None:
    result = run_cli("--bib", DB, "export", "--keys", "Ref 5")
    assert result.returncode == 1 and "placeholders, not exported" in result.stderr
    included = run_cli("--bib", DB, "export", "--keys", "Ref 5", "--include-placeholders")
    assert included.returncode == 0 and "@misc{ref5placeholder," in included.stdout


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.bib", tmp_path / "b.bib"
    for out in (first, second):
        assert (
            run_cli("--bib", DB, "export", "--format", "biblatex", "-o", str(out)).returncode == 0
        )
    assert first.read_bytes() == second.read_bytes()


def test_missing_aux_file_is_exit_2_with_hint(tmp_path: Path) -> None:
    result = run_cli("--bib", DB, "export", "--aux", str(tmp_path / "paper.aux"))
    assert result.returncode == 2
    assert "no such .aux file" in result.stderr and "hint:" in result.stderr


# ---- real-world shapes (issue 13) ---------------------------------------------------------

REALWORLD = FIXTURES / "export" / "realworld" / "faithful.bib"


def test_entry_with_a_repeated_field_is_exported_citable_and_warned_about() -> None:
    result = run_cli("--bib", str(REALWORLD), "export", "--keys", "repeated2019")
    assert result.returncode == 0, result.stderr
    assert "title = {The First Title}," in result.stdout and "Second" not in result.stdout
    line = REALWORLD.read_text().splitlines().index("  title = {The Second Title},") + 1
    assert f"{REALWORLD}:{line}: warning: field `title` of repeated2019 repeated" in result.stderr
    cited = run_cli("--bib", str(REALWORLD), "cite", "repeated2019", "--format", "bibtex")
    assert cited.returncode == 0 and "@article{repeated2019," in cited.stdout
    linted = run_cli("--bib", str(REALWORLD), "lint")
    assert linted.returncode == 1 and "[duplicate-field]" in linted.stdout


def test_every_preamble_is_exported_once_in_order() -> None:
    for fmt in ("bibtex", "biblatex"):
        result = run_cli("--bib", str(REALWORLD), "export", "--format", fmt, "--keys", "summer1990")
        assert result.returncode == 0, result.stderr
        preambles = [b for b in result.stdout.split("\n\n") if b.startswith("@preamble")]
        assert preambles == [
            '@preamble{"\\newcommand{\\noopsort}[1]{} "\n'
            '        # "\\newcommand{\\printfirst}[2]{#1} "}',
            "@preamble{{\\newcommand{\\TUB}{TUGboat}}}",  # its @string resolved
        ], fmt
        assert result.stdout.index("@preamble") < result.stdout.index("@article")
    csl = run_cli("--bib", str(REALWORLD), "export", "--format", "csl-json")
    assert "preamble" not in csl.stdout and json.loads(csl.stdout)
