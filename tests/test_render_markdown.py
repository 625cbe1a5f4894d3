"""The README: golden file, one well-formed table (cmark-gfm), markers, --check, templates."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
from pathlib import Path

import cmarkgfm
import pytest
from click.testing import CliRunner

from dlg_bib.cli import cli
from dlg_bib.database import open_database
from dlg_bib.errors import DlgBibError, TemplateError
from dlg_bib.render import markdown
from dlg_bib.render.environment import package_templates

FIXTURES = Path(__file__).parent / "fixtures" / "render"
DB = FIXTURES / "db"
GOLDEN = FIXTURES / "golden" / "README.md"
REPO = Path(__file__).parent.parent
TODAY = dt.date(2030, 1, 20)
HOSTILE_TITLES = [
    '#import "/etc/passwd"',
    r"\input{/etc/passwd}",
    "<script>alert(1)</script>",
    "a | b",
    "[x](javascript:alert(1))",
    "ℓ_1",
]


def _readme(existing: str | None = None, today: dt.date = TODAY) -> str:
    return markdown.build_readme(open_database(DB), DB, today, existing)


def _html(text: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(text)


def test_golden_readme() -> None:
    text = _readme()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_rendering_twice_gives_identical_bytes() -> None:
    assert _readme().encode() == _readme().encode()


def test_schedule_is_one_well_formed_table() -> None:
    page = _html(_readme())
    assert page.count("<table>") == 1
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert len(rows) == 4  # one per session
    for row in rows:
        assert len(re.findall(r"<td>", row)) == 5, row
    notes = [re.findall(r"<td>(.*?)</td>", row, flags=re.S)[4] for row in rows]
    assert html.unescape(notes[0]) == "Bring the *proof* | and a pen second line"


def test_next_session_is_highlighted() -> None:
    page = _html(_readme())
    assert "<strong>Jan 24, 2030 (next)</strong>" in page
    assert "<strong>Next session: Thursday, January 24, 2030</strong>" in page
    over = _html(_readme(today=dt.date(2031, 1, 1)))
    assert "(next)" not in over and "The term is over" in over


def test_hostile_strings_appear_literally() -> None:
    page = _html(_readme())
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for title in HOSTILE_TITLES:
        assert title in text, title
    assert "<script>" not in page and "<i>" not in page and "<b>" not in page
    assert "A group that reads papers. *Not emphasis*, `not code`, $not math$" in text
    assert "Ada [Lovelace](javascript:alert(1))" in text


def test_only_http_links_and_anchors() -> None:
    page = _html(_readme())
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs
    for href in hrefs:
        assert href.startswith(("https://", "http://", "#ref-")), href
    anchors = set(re.findall(r'<a id="(ref-[a-z0-9-]+)"></a>', _readme()))
    for href in hrefs:
        if href.startswith("#"):
            assert href[1:] in anchors


def test_usage_section_starts_with_the_two_setup_commands() -> None:
    text = _readme()
    usage = text[text.index("## Using this repository") :]
    commands = re.findall(r"^make [a-z-]+", usage, flags=re.M)
    assert commands[:2] == ["make readme", "make test"]
    assert "make handout" in commands and "make lint" in commands


def test_usage_section_is_not_repeated_when_the_prose_has_it() -> None:
    prose = "# T\n\n```sh\nmake readme\nmake test\n```\n\n"
    new = _readme(prose + markdown.BEGIN + "\n" + markdown.END + "\n")
    assert "## Using this repository" not in new
    assert "## Using this repository" in _readme("# T\n\nNo commands here.\n")


def test_prose_outside_the_markers_is_kept() -> None:
    block = markdown.BEGIN + "\nold\n" + markdown.END
    existing = f"# Title\n\nMy prose.\n\n{block}\n\n## After\n\nMore prose.\n"
    new = _readme(existing)
    assert new.startswith("# Title\n\nMy prose.\n\n" + markdown.BEGIN)
    assert new.endswith(markdown.END + "\n\n## After\n\nMore prose.\n")
    assert "\nold\n" not in new
    assert _readme(new) == new  # idempotent


def test_readme_without_markers_gets_the_block_appended() -> None:
    new = _readme("# Mine\n\nKeep me.\n")
    assert new.startswith("# Mine\n\nKeep me.\n\n" + markdown.BEGIN)


def test_new_readme_has_a_title() -> None:
    assert _readme(None).startswith("# Test Reading Group \\| &lt;b&gt;DLG&lt;/b&gt;\n\n")


@pytest.mark.parametrize(
    "existing",
    [
        f"{markdown.BEGIN}\nno end\n",
        f"{markdown.END}\n{markdown.BEGIN}\n",
        f"{markdown.BEGIN}\n{markdown.END}\n{markdown.BEGIN}\n{markdown.END}\n",
    ],
)
def test_broken_markers_are_refused(existing: str) -> None:
    with pytest.raises(DlgBibError, match="markers are broken"):
        _readme(existing)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(DB, tmp_path / "bib")
    return tmp_path


def _run(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--bib", str(project / "bib"), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_cli_check_write_check(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text("# Group\n\nProse.\n", encoding="utf-8")
    code, out = _run(project, "readme", "--check", "--today", "2030-01-20")
    assert code == 1 and "README.md is stale" in out and "+| Date |" in out
    assert readme.read_text(encoding="utf-8") == "# Group\n\nProse.\n"  # --check writes nothing
    code, out = _run(project, "readme", "--today", "2030-01-20")
    assert code == 0 and "wrote" in out
    code, out = _run(project, "readme", "--check", "--today", "2030-01-20")
    assert code == 0 and "up to date" in out
    assert readme.read_text(encoding="utf-8").startswith("# Group\n\nProse.\n\n")


def test_cli_output_option(project: Path) -> None:
    target = project / "out" / "R.md"
    code, _ = _run(project, "readme", "-o", str(target), "--today", "2030-01-20")
    assert code == 0 and target.read_text(encoding="utf-8") == _readme()


def test_template_folder_override(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = project / "mine"
    custom.mkdir()
    (custom / "README.md.j2").write_text("Hello {{ group.name }} {{ sessions | length }}\n")
    code, _ = _run(project, "readme", "--templates", str(custom), "--today", "2030-01-20")
    text = (project / "README.md").read_text(encoding="utf-8")
    assert code == 0 and "Hello Test Reading Group \\| &lt;b&gt;DLG&lt;/b&gt; 4" in text
    monkeypatch.setenv("DLG_BIB_TEMPLATES", str(custom))
    (custom / "README.md.j2").write_text("Env {{ today }}\n")
    _run(project, "readme", "--today", "2030-01-20")
    assert "Env 2030-01-20" in (project / "README.md").read_text(encoding="utf-8")


def test_project_templates_win_over_the_package(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "README.md.j2").write_text("Project template\n")
    _run(project, "readme", "--today", "2030-01-20")
    assert "Project template" in (project / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("ok\n\n{% for x in sessions %}\n{{ x.date }\n", 4, "syntax error"),
        ("a\nb\n{{ no_such_variable.title }}\n", 3, "no_such_variable"),
        ("{% include 'missing.j2' %}\n", None, "missing.j2"),
    ],
)
def test_broken_template_says_file_and_line(
    tmp_path: Path, source: str, line: int | None, message: str
) -> None:
    (tmp_path / "README.md.j2").write_text(source)
    with pytest.raises(TemplateError, match=message) as info:
        markdown.render_block(
            markdown.build_context(open_database(DB), TODAY), [tmp_path, package_templates()]
        )
    if line is not None:
        assert info.value.where == f"{tmp_path / 'README.md.j2'}:{line}"


def test_shipped_templates_match_the_project_templates() -> None:
    for name in ("README.md.j2", "usage.md.j2", "handout.typ.j2"):
        project = (REPO / "templates" / name).read_bytes()
        assert (package_templates() / name).read_bytes() == project, name


def test_committed_readme_is_up_to_date() -> None:
    """`dlg-bib readme --check` on the repository itself (run `make readme` to fix): rendered
    again for the day it records, so the calendar moving on never fails this test."""
    readme = REPO / "README.md"
    if not (REPO / "bib").is_dir() or not readme.exists():
        pytest.skip("no shipped database or README")
    existing = readme.read_text(encoding="utf-8")
    day = markdown.recorded_day(existing)
    assert day is not None, "README.md records no rendering day: run make readme"
    fresh = markdown.build_readme(open_database(REPO / "bib"), REPO / "bib", day, existing)
    assert fresh == existing, markdown.diff_summary(existing, fresh, "README.md")
