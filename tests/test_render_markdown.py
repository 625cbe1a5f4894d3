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
from dlg_bib.errors import DlgBibError, TemplateError
from dlg_bib.library.database import open_database
from dlg_bib.library.model import Database, Session
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
        assert len(re.findall(r"<td>", row)) == 3, row  # date, title, main reading(s)
    # The notes moved to the session's own section, below the table.
    assert "<p>Bring the *proof* | and a pen second line</p>" in html.unescape(page)


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
        assert href.startswith(("https://", "http://", "#")), href
    anchors = set(re.findall(r'<a id="(ref-[a-z0-9-]+)"></a>', _readme())) | _heading_slugs(page)
    for href in hrefs:
        if href.startswith("#"):
            assert href[1:] in anchors, href


# ---- the shipped reading list, as GitHub shows it -------------------------------------------


def _heading_slugs(page: str) -> set[str]:
    """The anchors GitHub gives the page's headings (github-slugger: lower case, drop what is
    not a word character, space or hyphen, spaces to hyphens), from the rendered HTML."""
    texts = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", page, flags=re.S)
    plain = [html.unescape(re.sub(r"<[^>]+>", "", text)) for text in texts]
    return {re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-") for text in plain}


@pytest.fixture(scope="module")
def shipped() -> tuple[Database, str]:
    db = open_database(REPO / "bib")
    after_term = max(s.date for s in db.sessions) + dt.timedelta(days=1)
    return db, _html(markdown.build_readme(db, REPO / "bib", after_term, None))


def _labelled_readings(fragment: str) -> list[tuple[str, str]]:
    """(label, key) for each `<strong>Label:</strong> <a href="#ref-key">` in the HTML."""
    found = re.findall(r'<strong>(\w+):</strong> <a href="#(ref-[a-z0-9-]+)">', fragment)
    return [(label, anchor) for label, anchor in found]


def _session_of(text: str, db: Database) -> Session:
    day = dt.datetime.strptime(text.split(":")[0].strip(), "%b %d, %Y").date()
    session = db.session(day.isoformat())
    assert session is not None, text
    return session


def test_every_reading_is_labelled_by_its_own_role(shipped: tuple[Database, str]) -> None:
    db, page = shipped
    anchors = {e.key: f"ref-{e.key}" for e in db.entries}
    labels = {"main": "Main", "reading": "Also", "prerequisite": "Background"}
    labels["supplementary"] = "Supplementary"
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>(.*?)</tr>", page, flags=re.S)
    sections = re.findall(
        r"<h3>([A-Z][a-z]{2} \d{1,2}, \d{4}:.*?)</h3>(.*?)(?=<h[23]>)", page, flags=re.S
    )
    assert len(rows) == len(sections) == len(db.sessions)
    checked = 0
    for title, fragment in [*rows, *sections]:
        session = _session_of(html.unescape(title), db)
        expected = {(labels[r.role], anchors[r.key]) for r in session.readings}
        found = _labelled_readings(fragment)
        assert found and set(found) <= expected, (title, found)
        checked += len(found)
    # The sections list every reading; the table only the main ones (else the readings).
    assert checked >= sum(len(s.readings) for s in db.sessions)


def test_a_separator_precedes_every_legacy_label(shipped: tuple[Database, str]) -> None:
    db, page = shipped
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    labels = re.findall(r"(.{0,2})\[(Ref [0-9ivx]+)\]", text)
    assert len(labels) == sum(len(e.legacy_labels) for e in db.entries)
    for before, label in labels:
        assert before == "· ", (label, before)


def test_placeholders_have_no_author_year(shipped: tuple[Database, str]) -> None:
    db, page = shipped
    placeholders = [e for e in db.entries if e.is_placeholder]
    assert placeholders
    for e in placeholders:
        cited = re.findall(rf'<a href="#ref-{e.key}">(.*?)</a>', page)
        # The list item's anchor is raw HTML, which cmark-gfm's safe mode omits: read the
        # item from the Markdown.
        markdown_text = markdown.build_readme(db, REPO / "bib", dt.date(2030, 1, 1), None)
        listed = re.search(rf'<a id="ref-{e.key}"></a>(.*)', markdown_text)
        assert listed is not None
        head = listed.group(1).split(" Note: ")[0]  # a note may cite other works by year
        for text in [*cited, head]:
            assert not re.search(r"\(\d{4}\)", text), text
        for text in cited:
            assert text == f"unidentified (legacy {e.legacy_labels[0]})"


def test_every_session_section_is_reachable_from_the_table(shipped: tuple[Database, str]) -> None:
    db, page = shipped
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    targets = re.findall(r'<td><a href="#([^"]+)">', table)
    slugs = _heading_slugs(page)
    assert len(targets) == len(set(targets)) == len(db.sessions)
    assert set(targets) <= slugs


def test_past_tense_when_the_term_is_over(shipped: tuple[Database, str]) -> None:
    _, page = shipped
    assert "The group met Fridays" in page and "The group meets" not in page
    assert "from September 3, 2021" in page
    assert "Deep Dive into Topics of Applied Mathematics" in page


def test_heading_anchor_follows_github() -> None:
    assert markdown.heading_anchor("Sep 3, 2021: Universal Approximation (UAT)") == (
        "sep-3-2021-universal-approximation-uat"
    )
    assert markdown.heading_anchor("Łódź ✨ a_b-c") == "łódź--a_b-c"


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


def test_the_project_copies_no_template_it_does_not_change() -> None:
    # One copy of each template: templates/ holds only the group's overrides.
    for override in (REPO / "templates").glob("*.j2"):
        default = package_templates() / override.name
        assert not default.exists() or default.read_bytes() != override.read_bytes(), override


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
