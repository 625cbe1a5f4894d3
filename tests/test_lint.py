"""Lint: every rule, the legacy records, the malformed corpus, output formats and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dlg_bib.library.database import open_workspace
from dlg_bib.ops.lint import ERROR, WARNING, Finding, LintErrors, lint_workspace, require_clean
from tests.conftest import FIXTURES, run_cli

MALFORMED = sorted((FIXTURES / "malformed").glob("*.bib"))
EXPECTED_RULE_AND_LINE = {
    "dangling_concatenation.bib": ("malformed-value", 3),
    "duplicate_key_case.bib": ("duplicate-key", 8),
    "duplicated_field.bib": ("duplicate-field", 1),
    "key_with_space.bib": ("invalid-key", 1),
    "missing_comma_after_key.bib": ("missing-comma-after-key", 1),
    "missing_comma_between_fields.bib": ("missing-comma", 4),
    "missing_entry_type.bib": ("missing-entry-type", 1),
    "stray_brace.bib": ("stray-brace", 6),
    "unbalanced_braces.bib": ("unbalanced-braces", 3),
    "unterminated_entry.bib": ("unterminated-entry", 1),
}


def _lint(path: Path) -> list[Finding]:
    return lint_workspace(open_workspace(path))


def test_legacy_records_report_every_known_defect() -> None:
    findings = _lint(FIXTURES / "legacy" / "records.bib")
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    # Keys with spaces: every record but Ref11.
    assert {f.key for f in by_rule["invalid-key"]} >= {"Ref 1", "ref 8", "Ref i-Ref ii", "Ref iv"}
    # Stray closing braces after Ref 3, Ref 4 and Ref 5.
    assert [f.line for f in by_rule["stray-brace"]] == [44, 53, 62]
    # DOIs written as URLs (Ref 1 and Ref 2).
    assert {f.key for f in by_rule["doi-url"]} == {"Ref 1", "Ref 2"}
    # Aliprantis and Border glued into one author.
    assert [f.key for f in by_rule["glued-names"]] == ["Ref iv"]
    # Ref 5 is a copy of Ref 4.
    (dup,) = by_rule["duplicate-work"]
    assert dup.key == "Ref 5" and "'Ref 4'" in dup.message
    assert all(f.file.endswith("records.bib") and f.line > 0 for f in findings)


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_corpus_gives_file_line_and_exit_code(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name
    shutil.copy2(path, copy)
    before = copy.read_bytes()
    result = run_cli("--bib", str(copy), "lint")
    assert "Traceback" not in result.stderr + result.stdout
    if path.name == "not_utf8.bib":
        assert result.returncode == 2
        assert f"{copy}:2: file is not valid UTF-8" in result.stderr
    else:
        rule, line = EXPECTED_RULE_AND_LINE[path.name]
        assert result.returncode == 1
        assert f"{copy}:{line}: error:" in result.stdout
        assert f"[{rule}]" in result.stdout
        assert "hint:" in result.stdout
    assert copy.read_bytes() == before


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_edits_on_malformed_files_write_nothing(path: Path, tmp_path: Path) -> None:
    shutil.copy2(FIXTURES / "store" / "db" / "group.toml", tmp_path / "group.toml")
    copy = tmp_path / path.name
    shutil.copy2(path, copy)
    before = copy.read_bytes()
    key = "Ref 1" if "space" in path.name else "doe2020one"
    result = run_cli("--bib", str(tmp_path), "tag", key, "--topic", "uat")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert copy.read_bytes() == before


def test_shipped_style_fixture_is_clean() -> None:
    assert [f for f in _lint(FIXTURES / "store" / "db") if f.severity == ERROR] == []


def test_rules_on_a_crafted_database(tmp_path: Path) -> None:
    shutil.copy2(FIXTURES / "store" / "db" / "group.toml", tmp_path / "group.toml")
    shutil.copy2(FIXTURES / "lint" / "rules.bib", tmp_path / "rules.bib")
    found = {(f.key, f.rule, f.severity) for f in _lint(tmp_path)}
    assert ("bad2020doi", "malformed-doi", ERROR) in found
    assert ("bad2020arxiv", "malformed-arxiv", ERROR) in found
    assert ("bad2020month", "unknown-month", WARNING) in found
    assert ("bad2020tags", "unknown-session", ERROR) in found
    assert ("bad2020tags", "unknown-topic", ERROR) in found
    assert ("bad2020tags", "unknown-role", ERROR) in found
    assert ("bad2020required", "missing-field", ERROR) in found
    assert ("bad2020macro", "undefined-string", ERROR) in found
    assert ("bad2020type", "unknown-type", WARNING) in found
    assert ("bad2020share", "expiring-link", WARNING) in found
    assert ("unknown2021ref5", "placeholder", WARNING) in found
    assert ("twin2020doi", "duplicate-work", ERROR) in found
    assert ("twin2020title", "duplicate-work", ERROR) in found
    # A placeholder is incomplete by design: no missing-field error on top of the warning.
    assert ("unknown2021ref5", "missing-field", ERROR) not in found
    # Two chapters of one book are not duplicates of each other or of the book.
    assert not any(k.startswith("goodfellow") and r == "duplicate-work" for k, r, _ in found)


def test_json_format_and_strict(tmp_path: Path) -> None:
    shutil.copy2(FIXTURES / "store" / "db" / "group.toml", tmp_path / "group.toml")
    (tmp_path / "one.bib").write_text(
        "@misc{unknown2021ref5,\n  title = {Unknown},\n  year = {2021},\n"
        "  dlg-legacy = {Ref 5},\n  dlg-placeholder = {identity unknown},\n}\n"
    )
    result = run_cli("--bib", str(tmp_path), "lint", "--format", "json")
    assert result.returncode == 0  # warnings alone pass
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"errors": 0, "warnings": 1}
    (finding,) = doc["findings"]
    assert set(finding) == {"file", "line", "key", "severity", "rule", "message", "hint"}
    assert finding["line"] == 1 and finding["rule"] == "placeholder"
    assert run_cli("--bib", str(tmp_path), "lint", "--strict").returncode == 1


def test_require_clean_returns_warnings_and_raises_on_errors(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "process" / "db", tmp_path / "db")
    assert [f.rule for f in require_clean(open_workspace(tmp_path / "db"))] == ["placeholder"]
    shutil.copy2(
        FIXTURES / "process" / "broken" / "unknown_topic.toml", tmp_path / "db" / "group.toml"
    )
    with pytest.raises(LintErrors) as caught:
        require_clean(open_workspace(tmp_path / "db"))
    assert [(f.rule, f.line) for f in caught.value.errors] == [("unknown-session-topic", 27)]
    assert caught.value.exit_code == 2
    assert str(caught.value).splitlines()[1] == caught.value.errors[0].as_text().splitlines()[0]


def test_foreign_keys_and_types_are_not_errors_and_writes_go_through(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db = fixture_copy("foreign/db")
    findings = _lint(db)
    assert not [f for f in findings if f.severity == ERROR]
    assert not [f for f in findings if f.rule == "invalid-key"]
    result = run_cli("--bib", str(db), "tag", "1982A&A...114..278B", "--topic", "uat")
    assert result.returncode == 0, result.stderr
    incoming = FIXTURES / "import" / "with_strings.bib"
    result = run_cli("--bib", str(db), "import", str(incoming))
    assert result.returncode == 0, result.stderr
    assert open_workspace(db).db.find("IJCAI01*425") is not None


def test_required_fields_accept_biblatex_names_and_inheritance() -> None:
    findings = _lint(FIXTURES / "lint" / "biblatex_fields.bib")
    missing = {(f.key, f.severity, f.message) for f in findings if f.rule == "missing-field"}
    # journaltitle/date, institution, crossref (title -> booktitle), nested xdata: satisfied.
    # A biblatex type is checked against biblatex's requirements, as a warning: BibTeX's
    # styles print it as @misc.
    assert missing == {
        ("orphan2020child", ERROR, "@article needs `journal`"),
        ("ctan2024", WARNING, "@online needs `doi or eprint or url` (biblatex)"),
    }
    assert not [f for f in findings if f.rule == "unknown-type"]  # @xdata lends fields


def test_glued_names_spares_camel_case_family_names() -> None:
    findings = _lint(FIXTURES / "lint" / "names.bib")
    glued = {(f.key, f.message.split(" looks")[0]) for f in findings if f.rule == "glued-names"}
    assert glued == {
        ("aliprantis2006glued", "author 'AliprantisKim'"),
        ("tikk2003glued", "editor " + repr("K{\\'o}czyTam{\\'a}s")),
    }


def test_duplicate_work_needs_nothing_to_contradict_the_title_match() -> None:
    findings = _lint(FIXTURES / "lint" / "recurring.bib")
    duplicates = {(f.key, f.message.split(" (")[0]) for f in findings if f.rule == "duplicate-work"}
    assert duplicates == {
        ("smith2019greetingscopy", "same title and first author as 'smith2019greetingsa'"),
        ("jones2021renamed", "same DOI as 'jones2021columna'"),
    }


def test_what_bibtex_or_biber_choke_on_is_reported_with_line_and_tool() -> None:
    findings = _lint(FIXTURES / "lint" / "toolchain.bib")
    found = {(f.rule, f.line, f.severity): f.message for f in findings}
    expected = {
        ("comment-text", 2, ERROR): "biber",
        ("comment-in-entry", 6, ERROR): "BibTeX",
        ("year-not-number", 12, WARNING): "biber",
        ("unescaped-percent", 25, ERROR): "biblatex",
        ("alias-is-key", 29, ERROR): "biber",
        ("author-and-editor", 36, WARNING): "BibTeX",
        ("two-venues", 44, WARNING): "BibTeX",
    }
    for where, tool in expected.items():
        assert tool in found[where], where
    # `\%` is escaped; `%20` in a URL is verbatim to biber; @inproceedings prints both
    # author and editor.
    assert [f.line for f in findings if f.rule == "unescaped-percent"] == [25]
    assert [f.line for f in findings if f.rule == "comment-in-entry"] == [6, 55]  # `@misc(…)`
    assert [f.key for f in findings if f.rule == "author-and-editor"] == ["doe2020editor"]
    assert all(f.file.endswith("toolchain.bib") for f in findings)


def test_percent_in_a_field_no_style_prints_is_no_hazard() -> None:
    # biber drops fields outside its data model and BibTeX styles read only theirs: a `%`
    # in ADS's `adsurl` or BibDesk's `Bdsk-Url-1` never reaches the .bbl; in `note` it does.
    findings = _lint(FIXTURES / "lint" / "percent_unprinted.bib")
    percent = [(f.line, f.message) for f in findings if f.rule == "unescaped-percent"]
    assert len(percent) == 1 and percent[0][0] == 10 and "`note`" in percent[0][1]


def test_bare_ampersand_in_a_printed_field_is_a_latex_error() -> None:
    # The standard styles typeset `publisher` and `series`, where a bare `&` is an alignment
    # tab; `url`, `\url{…}`, `ids`, the stored-only `abstract` and `sorttitle`, and `adsurl`
    # never give it to LaTeX to set.
    findings = _lint(FIXTURES / "lint" / "ampersand.bib")
    found = [(f.key, f.line, f.severity) for f in findings if f.rule == "unescaped-ampersand"]
    assert found == [("dillinger2003", 7, ERROR), ("hippke2019", 16, ERROR)]


def test_nul_byte_is_reported_with_its_line() -> None:
    (finding,) = [f for f in _lint(FIXTURES / "lint" / "nul_byte.bib") if f.rule == "nul-byte"]
    assert (finding.line, finding.severity) == (2, ERROR)
    assert "biber" in finding.message


def test_tool_hazards_do_not_block_writes(fixture_copy) -> None:  # type: ignore[no-untyped-def]
    db = fixture_copy("store/db")
    shutil.copy2(FIXTURES / "lint" / "toolchain.bib", db / "toolchain.bib")
    result = run_cli("--bib", str(db), "tag", "doe2020percent", "--topic", "uat")
    assert result.returncode == 0, result.stderr
