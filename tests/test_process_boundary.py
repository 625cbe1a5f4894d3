"""Every command's exit paths as the shell sees them: the installed `dlg-bib` in a subprocess.

Each refusal is checked for its exit code, its one-line message (no traceback) and that no
file of the database changed (sha256 before and after). Tests run as root, which ignores
permission bits, so write failures are made with things that fail for root too: an output
path under a regular file, a missing folder, /dev/full (disk full) and a file-size limit
(RLIMIT_FSIZE: the store's temporary file cannot be written).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, dlg_bib_script, run_cli

PROCESS = FIXTURES / "process"
BROKEN = PROCESS / "broken"
COMMANDS = ("lint", "tag", "import", "readme", "handout", "index", "export", "cite", "keys")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def db(tmp_path: Path) -> Path:
    target = tmp_path / "bib"
    shutil.copytree(PROCESS / "db", target)
    return target


def _dlg(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # --bib after the command name: the form the README promises for every command.
    return run_cli(args[0], "--bib", str(db), *args[1:], cwd=db.parent)


def _refused(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _under_a_file(tmp_path: Path, name: str) -> Path:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    return blocker / name


def _run_with_file_size_limit(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dlg-bib ARGS` unable to write files over 512 bytes: the store's temporary copy of
    references.bib fails with EFBIG (Python ignores SIGXFSZ), as on a full disk."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    return subprocess.run(
        [*dlg_bib_script(), "--bib", str(db), *args],
        capture_output=True,
        text=True,
        cwd=db.parent,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        preexec_fn=limit,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# ---- --bib anywhere and help -------------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, "add", "enrich", "check-links"])
def test_every_command_takes_bib_after_its_name(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "--bib PATH" in result.stdout


def test_bib_after_the_command_overrides_the_one_before(db: Path, tmp_path: Path) -> None:
    result = run_cli("--bib", str(tmp_path / "missing"), "keys", "--bib", str(db))
    assert result.returncode == 0, result.stderr
    assert "vaswani2017attention" in result.stdout


@pytest.mark.parametrize("command", ["lint", "cite"])
def test_help_wraps_at_the_terminal_width(command: str) -> None:
    result = run_cli(command, "--help", env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0
    too_long = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert too_long == []


# ---- lint ----------------------------------------------------------------------------------


def test_lint_clean_database_exits_0_with_its_warning(db: Path) -> None:
    result = _dlg(db, "lint")
    assert result.returncode == 0, result.stdout
    assert f"{db / 'references.bib'}:30: warning:" in result.stdout
    assert "0 error(s), 1 warning(s)" in result.stderr


def test_lint_errors_exit_1(db: Path) -> None:
    shutil.copy2(BROKEN / "role_typo.bib", db)
    result = _dlg(db, "lint")
    assert result.returncode == 1
    assert f"{db / 'role_typo.bib'}:2: error: `dlg-sessions` gives role 'keynote'" in result.stdout


def test_lint_of_a_missing_database_exits_2(tmp_path: Path) -> None:
    result = _dlg(tmp_path / "missing", "lint")
    _refused(result, 2, f"error: {tmp_path / 'missing'}: no such database")


def test_session_topic_not_in_group_toml_is_a_lint_error(db: Path) -> None:
    shutil.copy2(BROKEN / "unknown_topic.toml", db / "group.toml")
    result = _dlg(db, "lint")
    assert result.returncode == 1
    assert (
        f"{db / 'group.toml'}:27: error: session 2021-11-12 names topic 'vision'" in result.stdout
    )
    assert "[unknown-session-topic]" in result.stdout


# ---- the lint gate on rendering -------------------------------------------------------------

BROKEN_DATABASES = {
    "syntax_error": ("syntax_error.bib", "syntax_error.bib:2: error: missing comma"),
    "role_typo": ("role_typo.bib", "role_typo.bib:2: error: `dlg-sessions` gives role"),
    "unknown_session": ("unknown_session.bib", "unknown_session.bib:2: error: `dlg-sessions`"),
    "unknown_topic": ("unknown_topic.toml", "group.toml:27: error: session 2021-11-12"),
}
RENDER_OUTPUTS = {"readme": "README.md", "handout": "handout.pdf", "index": "index.json"}
RENDER_ARGS: dict[str, list[str]] = {
    "readme": ["--today", "2021-11-01"],
    "handout": ["--session", "2021-11-12"],
    "index": [],
}


@pytest.mark.parametrize("command", sorted(RENDER_OUTPUTS))
@pytest.mark.parametrize("case", sorted(BROKEN_DATABASES))
def test_rendering_refuses_a_database_with_lint_errors(
    db: Path, tmp_path: Path, command: str, case: str
) -> None:
    name, message = BROKEN_DATABASES[case]
    shutil.copy2(BROKEN / name, db / ("group.toml" if name.endswith(".toml") else name))
    before = _hashes(tmp_path)
    output = tmp_path / RENDER_OUTPUTS[command]
    result = _dlg(db, command, "-o", str(output))
    _refused(result, 2, "error: the database has")
    assert f"{db}/{message}" in result.stderr
    assert "wrote" not in result.stdout
    assert _hashes(tmp_path) == before


# ---- readme, handout, index ------------------------------------------------------------------


def test_readme_renders_and_shows_warnings(db: Path, tmp_path: Path) -> None:
    output = tmp_path / "README.md"
    result = _dlg(db, "readme", "-o", str(output), "--today", "2021-11-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"
    assert f"{db / 'references.bib'}:30: warning: placeholder" in result.stderr
    assert "Attention Is All You Need" in output.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(RENDER_OUTPUTS))
def test_render_to_a_path_under_a_file_exits_2(db: Path, tmp_path: Path, command: str) -> None:
    target = _under_a_file(tmp_path, RENDER_OUTPUTS[command])
    before = _hashes(tmp_path)
    result = _dlg(db, command, "-o", str(target), *RENDER_ARGS[command])
    _refused(result, 2, f"error: {target}: cannot create its folder: a file is in the way")
    assert "wrote" not in result.stdout
    assert _hashes(tmp_path) == before


def test_handout_writes_a_pdf(db: Path, tmp_path: Path) -> None:
    output = tmp_path / "h.pdf"
    result = _dlg(db, "handout", "--session", "2021-11-12", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {output}\n"
    assert output.read_bytes().startswith(b"%PDF")


def test_index_on_a_full_disk_exits_2(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "index", "-o", "/dev/full")
    _refused(result, 2, "error: /dev/full: cannot write file: No space left on device")
    assert [line for line in result.stderr.splitlines() if ": warning: " not in line] == [
        "error: /dev/full: cannot write file: No space left on device; nothing was written"
    ]
    assert _hashes(db) == before


def test_index_writes_json(db: Path, tmp_path: Path) -> None:
    result = _dlg(db, "index", "-o", str(tmp_path / "i.json"))
    assert result.returncode == 0, result.stderr
    keys = [r["id"] for r in json.loads((tmp_path / "i.json").read_text())["references"]]
    assert "vaswani2017attention" in keys


# ---- tag -------------------------------------------------------------------------------------


def test_tag_exits_0_and_changes_only_the_file_it_edits(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "tag", "Ref 1", "--session", "2021-11-12", "--role", "reading")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tagged cybenko1989approximation\n"
    after = _hashes(db)
    assert after["group.toml"] == before["group.toml"]
    assert after["references.bib"] != before["references.bib"]


def test_tag_unknown_key_exits_1_and_points_to_keys(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "tag", "nosuchkey", "--topic", "uat")
    _refused(result, 1, "error: unknown key(s): nosuchkey")
    assert "`dlg-bib keys`" in result.stderr
    assert _hashes(db) == before


def test_enrich_unknown_key_exits_1_and_points_to_keys(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "enrich", "--offline", "nosuchkey")
    _refused(result, 1, "error: unknown key: nosuchkey")
    assert "`dlg-bib keys`" in result.stderr
    assert _hashes(db) == before


def test_unknown_session_or_term_is_a_usage_error(db: Path) -> None:
    # Keys are data a member expects to find (a finding, exit 1); a session or term is an
    # option value that names nothing (a usage error, exit 2), in every command.
    for args, message in (
        (("handout", "--session", "2099-01-01"), "no session on 2099-01-01"),
        (("export", "--session", "2099-01-01"), "unknown session '2099-01-01'"),
        (("calendar", "-o", "-", "--term", "1999-fall"), "no term '1999-fall'"),
    ):
        _refused(_dlg(db, *args), 2, message)


def test_tag_unknown_role_is_a_usage_error(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "tag", "Ref 1", "--session", "2021-11-12", "--role", "keynote")
    _refused(result, 2, "Invalid value for '--role'")
    assert _hashes(db) == before


def test_tag_unknown_session_says_how_to_add_it(db: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "tag", "Ref 1", "--session", "2021-12-24", "--role", "main")
    _refused(result, 2, "error: no session '2021-12-24' in group.toml")
    assert "[[sessions]]\n      date = 2021-12-24\n" in result.stderr
    assert _hashes(db) == before


def test_tag_write_error_exits_2_and_reports_no_tagging(db: Path) -> None:
    before = _hashes(db)
    result = _run_with_file_size_limit(
        db, "tag", "Ref 1", "--session", "2021-11-12", "--role", "reading"
    )
    _refused(result, 2, f"error: {db / 'references.bib'}: cannot write file: File too large")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert _hashes(db) == before  # the temporary file is gone too


def test_tag_on_a_file_with_a_syntax_error_names_the_error(db: Path) -> None:
    shutil.copy2(BROKEN / "syntax_error.bib", db)
    before = _hashes(db)
    result = _dlg(db, "tag", "hornik1989multilayer", "--topic", "uat")
    _refused(result, 2, f"error: {db / 'syntax_error.bib'}:2: refusing to write")
    assert _hashes(db) == before


# ---- import ----------------------------------------------------------------------------------


def test_import_exits_0(db: Path) -> None:
    result = _dlg(db, "import", str(PROCESS / "incoming.bib"))
    assert result.returncode == 0, result.stderr
    assert "add hornik1989multilayer" in result.stdout
    assert "@article{hornik1989multilayer," in (db / "references.bib").read_text()


def test_import_of_a_missing_file_exits_2(db: Path, tmp_path: Path) -> None:
    before = _hashes(db)
    result = _dlg(db, "import", str(tmp_path / "nothing.bib"))
    _refused(result, 2, "does not exist")
    assert _hashes(db) == before


def test_import_write_error_exits_2_and_reports_nothing_added(db: Path) -> None:
    before = _hashes(db)
    result = _run_with_file_size_limit(db, "import", str(PROCESS / "incoming.bib"))
    _refused(result, 2, f"error: {db / 'references.bib'}: cannot write file: File too large")
    assert "add " not in result.stdout
    assert _hashes(db) == before


# ---- export and cite -------------------------------------------------------------------------


def test_export_exits_0(db: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.bib"
    result = _dlg(db, "export", "--keys", "Ref 14", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert output.read_text().startswith("@inproceedings{vaswani2017attention,")


def test_export_unknown_key_exits_1_and_points_to_keys(db: Path) -> None:
    result = _dlg(db, "export", "--keys", "nosuchkey")
    _refused(result, 1, "  nosuchkey\n")
    assert "`dlg-bib keys`" in result.stderr


@pytest.mark.parametrize("where", ["missing-folder/out.bib", "/dev/full"])
def test_export_write_error_exits_2(db: Path, tmp_path: Path, where: str) -> None:
    target = tmp_path / where
    before = _hashes(tmp_path)
    result = _dlg(db, "export", "-o", str(target))
    _refused(result, 2, f"error: {target}: cannot write file: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _hashes(tmp_path) == before


def test_export_aux_citing_a_legacy_label_warns_with_the_key_to_use(
    db: Path, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    shutil.copy2(PROCESS / "paper.aux", aux)
    result = _dlg(db, "export", "--aux", str(aux))
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {aux}:3: \\cite{{Ref 14}} is the legacy label of vaswani2017attention, "
        "but BibTeX cannot read it as a key: write \\cite{vaswani2017attention}"
    ) in result.stderr
    assert "@inproceedings{vaswani2017attention," in result.stdout


def test_cite_exits_0(db: Path) -> None:
    result = _dlg(db, "cite", "Ref 14", "--format", "bibtex")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("@inproceedings{vaswani2017attention,")


def test_cite_unknown_key_exits_1_and_points_to_keys(db: Path) -> None:
    result = _dlg(db, "cite", "nosuchkey", "--format", "bibtex")
    _refused(result, 1, "unknown keys (not in the database): nosuchkey")
    assert "`dlg-bib keys`" in result.stderr


def test_cite_unknown_style_exits_2(db: Path) -> None:
    result = _dlg(db, "cite", "Ref 1", "--style", "nosuchstyle")
    _refused(result, 2, "error: unknown citation style 'nosuchstyle'")


# ---- keys ------------------------------------------------------------------------------------


def test_keys_lists_key_legacy_label_aliases_and_title(db: Path) -> None:
    result = _dlg(db, "keys")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["KEY", "LEGACY", "ALIASES", "TITLE"]
    vaswani = next(r for r in rows if r[0] == "vaswani2017attention")
    assert vaswani[1:4] == ["Ref", "14", "vaswani2017transformer"]


def test_keys_json(db: Path) -> None:
    result = _dlg(db, "keys", "--format", "json")
    assert result.returncode == 0, result.stderr
    by_key = {item["key"]: item for item in json.loads(result.stdout)}
    assert by_key["vaswani2017attention"]["legacy"] == ["Ref 14"]
    assert by_key["vaswani2017attention"]["aliases"] == ["vaswani2017transformer"]
    assert by_key["cybenko1989approximation"]["title"].startswith("Approximation by")
    assert by_key["unknown2021ref5"]["file"] == str(db / "references.bib")


def test_keys_of_a_missing_database_exits_2(tmp_path: Path) -> None:
    result = _dlg(tmp_path / "missing", "keys")
    _refused(result, 2, "no such database")
