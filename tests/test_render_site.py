"""The static site (`dlg-bib site`): links, HTML5, escaping, determinism, terms, exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import pytest

from dlg_bib.export import Criteria, export
from dlg_bib.library.database import open_workspace
from dlg_bib.library.model import Term
from dlg_bib.render import markdown, site
from tests.conftest import FIXTURES, REPO, run_cli

NS = "{http://www.w3.org/1999/xhtml}"
SHIPPED_DAY = dt.date(2021, 11, 10)


def build(bib: Path, out: Path, today: dt.date, **options: bool) -> site.Built:
    return site.build_site(open_workspace(bib).db, bib, today, out, **options)


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shipped")
    shutil.copytree(REPO / "bib", root / "bib")
    build(root / "bib", root / "site", SHIPPED_DAY)
    return root / "site"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(FIXTURES / "site" / "hostile", root / "bib")
    build(root / "bib", root / "site", dt.date(2030, 1, 1), handouts=False)
    return root / "site"


def pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if "pagefind" not in p.parts)


def parse(path: Path) -> object:
    return html5lib.parse(path.read_bytes(), treebuilder="etree")


def ids_of(path: Path) -> set[str]:
    return {e.get("id") for e in parse(path).iter() if e.get("id")}  # type: ignore[attr-defined]


@pytest.mark.parametrize("which", ["shipped_site", "hostile_site"])
def test_every_internal_link_resolves(which: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(which)
    checked = 0
    for page in pages(folder):
        for element in parse(page).iter():  # type: ignore[attr-defined]
            for attr in ("href", "src"):
                target = element.get(attr)
                if target is None:
                    continue
                parts = urlsplit(target)
                if parts.scheme or parts.netloc:
                    assert parts.scheme in ("http", "https"), (page, target)
                    continue
                path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
                assert path.is_file(), f"{page.relative_to(folder)}: {target}"
                assert folder.resolve() in path.parents, (page, target)
                if parts.fragment and path.suffix == ".html":
                    assert parts.fragment in ids_of(path), f"{page}: {target}"
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("which", ["shipped_site", "hostile_site"])
def test_every_page_is_valid_html5(which: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(which)
    parser = html5lib.HTMLParser(strict=True)
    for page in pages(folder):
        parser.parse(page.read_bytes())  # raises on the first parse error
        root = parse(page)
        html = root.find(f"{NS}html") if root.tag != f"{NS}html" else root  # type: ignore[attr-defined]
        assert html is not None and html.get("lang") == "en"
        for landmark in ("header", "nav", "main", "footer"):
            assert root.find(f".//{NS}{landmark}") is not None, (page, landmark)  # type: ignore[attr-defined]
        assert root.find(f".//{NS}meta[@name='viewport']") is not None  # type: ignore[attr-defined]


def test_link_texts_name_their_target(shipped_site: Path) -> None:
    for page in pages(shipped_site):
        for a in parse(page).iter(f"{NS}a"):  # type: ignore[attr-defined]
            text = " ".join("".join(a.itertext()).split()).casefold()
            assert text not in ("", "link", "here", "click here", "this"), (page, text)


def test_hostile_metadata_never_becomes_markup(hostile_site: Path) -> None:
    page = hostile_site / "refs" / "quote2022attr.html"
    root = parse(page)
    for element in root.iter():  # type: ignore[attr-defined]
        assert element.tag != f"{NS}script", page
        assert element.tag != f"{NS}img", page
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            if name in ("href", "src"):
                assert not value.lower().startswith("javascript"), value
    text = "".join(root.itertext())  # type: ignore[attr-defined]
    assert 'Breaking out" onmouseover="alert(1)" x=" of attributes' in text
    assert "</p><script>alert(2)</script>" in text
    # Every other page too: no script but the search page's own, no javascript: links.
    for other in pages(hostile_site):
        scripts = list(parse(other).iter(f"{NS}script"))  # type: ignore[attr-defined]
        assert len(scripts) == (2 if other.name == "search.html" else 0), other
        for e in parse(other).iter():  # type: ignore[attr-defined]
            assert not str(e.get("href", "")).lower().startswith("javascript:"), other


def test_the_vaswani_page_has_the_full_record(shipped_site: Path) -> None:
    page = shipped_site / "refs" / "vaswani2017attention.html"
    text = " ".join("".join(parse(page).itertext()).split())  # type: ignore[attr-defined]
    assert "Nov 12, 2021: Attention Is All You Need" in text
    assert "as Main" in text
    assert "condensed and visual descriptions of Transformers" in text  # the session's notes
    assert "Vaswani, A., Shazeer, N." in text  # APA, from pandoc's citeproc
    assert "A. Vaswani et al., “Attention is all you need,”" in text  # IEEE
    expected = export(open_workspace(REPO / "bib").db, Criteria(keys=["vaswani2017attention"]))
    assert expected.text.strip() in text.replace("\u00a0", " ") or all(
        line.strip() in text for line in expected.text.splitlines()
    )
    links = {a.get("class"): a.get("href") for a in parse(page).iter(f"{NS}a")}  # type: ignore[attr-defined]
    assert links["free-copy"].startswith("https://proceedings.neurips.cc/")


def test_bibtex_of_each_reference_is_what_export_writes() -> None:
    db = open_workspace(REPO / "bib").db
    records = site.bibtex_records(db)
    assert records
    for entry in db.entries:
        if entry.is_placeholder:
            assert entry.key.lower() not in records
            continue
        assert records[entry.key.lower()] == export(db, Criteria(keys=[entry.key])).text


def test_parse_bibliography_keeps_only_safe_markup() -> None:
    html = (
        '<div id="refs" class="references csl-bib-body">'
        '<div id="ref-a1" class="csl-entry"><div class="csl-left-margin">[1]</div>'
        '<div class="csl-right-inline">A &amp; B, <em>T</em> <script>x()</script>'
        '<a href="javascript:alert(1)">bad</a> <a href="https://doi.org/1">doi</a>'
        '<img src=x onerror="y()"></div></div></div>'
    )
    got = str(site.parse_bibliography(html)["a1"])
    assert got == 'A &amp; B, <em>T</em> bad <a href="https://doi.org/1">doi</a>'


def test_without_pandoc_the_site_is_written_without_citations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlg_bib.export import cite

    def missing(*_args: object) -> str:
        raise cite.ToolMissingError("pandoc is not installed")

    monkeypatch.setattr(cite, "format_references", missing)
    built = build(
        FIXTURES / "terms" / "multi",
        tmp_path / "s",
        dt.date(2022, 2, 1),
        search=False,
        handouts=False,
    )
    assert built.partial
    assert built.warnings == ["no formatted citations: pandoc is not installed"]
    page = (tmp_path / "s" / "refs" / "vaswani2017attention.html").read_text(encoding="utf-8")
    assert "<h3>APA</h3>" not in page and "@inproceedings{vaswani2017attention," in page


def test_a_site_template_is_overridden_file_by_file(tmp_path: Path) -> None:
    bib = tmp_path / "bib"
    shutil.copytree(FIXTURES / "terms" / "multi", bib)
    (tmp_path / "templates" / "site").mkdir(parents=True)
    (tmp_path / "templates" / "site" / "style.css.j2").write_text("/* the group's own */\n")
    build(bib, tmp_path / "s", dt.date(2022, 2, 1), search=False, handouts=False)
    assert (tmp_path / "s" / "style.css").read_text() == "/* the group's own */\n"
    assert "<main" in (tmp_path / "s" / "index.html").read_text(encoding="utf-8")  # package's


def test_rendering_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    bib = tmp_path / "bib"
    shutil.copytree(FIXTURES / "terms" / "multi", bib)
    day = dt.date(2022, 2, 1)
    build(bib, tmp_path / "a", day)
    build(bib, tmp_path / "b", day)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b and len(files_a) > 10
    for name in files_a:
        a, b = tmp_path / "a" / name, tmp_path / "b" / name
        assert a.is_dir() or a.read_bytes() == b.read_bytes(), name


def test_index_shows_the_current_term_and_links_earlier_ones(tmp_path: Path) -> None:
    bib = tmp_path / "bib"
    shutil.copytree(FIXTURES / "terms" / "multi", bib)
    build(bib, tmp_path / "site", dt.date(2022, 2, 1), search=False, handouts=False)
    root = parse(tmp_path / "site" / "index.html")
    headings = ["".join(h.itertext()) for h in root.iter(f"{NS}h2")]  # type: ignore[attr-defined]
    assert "Spring 2022" in headings and "Earlier terms" in headings
    earlier = root.find(f".//{NS}section[@aria-labelledby='earlier-heading']")  # type: ignore[attr-defined]
    assert [a.get("href") for a in earlier.iter(f"{NS}a")] == ["terms/2021-fall.html"]
    fall = "".join(parse(tmp_path / "site" / "terms" / "2021-fall.html").itertext())  # type: ignore[attr-defined]
    assert "Before the clocks change" in fall and "Spring opener" not in fall


def _readme(bib: Path, today: str) -> str:
    db = open_workspace(bib).db
    return markdown.build_readme(db, bib, dt.date.fromisoformat(today), None)


def test_readme_shows_the_current_term_and_links_earlier_terms_on_the_site() -> None:
    text = _readme(FIXTURES / "terms" / "multi", "2022-02-01")
    assert "(Spring 2022)" in text and "Thursdays, 15:00–16:00, SE2 101" in text
    assert "| Jan 20, 2022 | [Spring opener]" in text
    assert "Before the clocks change" not in text  # a Fall session: on Fall's page only
    assert "The term is over" not in text  # Spring runs until May 5
    site_page = "https://example.github.io/Reading-Group/terms/2021-fall.html"
    assert f"Earlier terms, on the group's site: [Fall 2021]({site_page})." in text


def test_readme_during_the_first_term_has_no_earlier_terms() -> None:
    text = _readme(FIXTURES / "terms" / "multi", "2021-10-20")
    assert "**Next session: Friday, October 29, 2021**" in text
    assert "Earlier terms" not in text and "Spring opener" not in text


def test_readme_of_a_single_term_is_unchanged_by_terms() -> None:
    bib = REPO / "bib"
    assert len(open_workspace(bib).db.terms) == 1
    text = _readme(bib, "2021-11-10")
    assert "Earlier terms" not in text
    assert "**Next session: Friday, November 12, 2021**" in text


@pytest.mark.parametrize(
    ("repository", "explicit", "expected"),
    [
        (
            "https://github.com/dr-aheydari/DeepLearningGroup",
            "",
            "https://dr-aheydari.github.io/DeepLearningGroup/",
        ),
        ("https://github.com/Owner/owner.github.io.git", "", "https://owner.github.io/"),
        ("https://gitlab.com/a/b", "", ""),
        ("https://github.com/a/b", "https://dlg.example.org", "https://dlg.example.org/"),
        ("https://github.com/a/b", "javascript:alert(1)", "https://a.github.io/b/"),
    ],
)
def test_site_url_is_explicit_else_github_pages(
    repository: str, explicit: str, expected: str
) -> None:
    db = open_workspace(FIXTURES / "terms" / "multi").db
    db.group.repository, db.group.site_url = repository, explicit
    assert site.site_url(db) == expected


def _term(tid: str, first: str, last: str) -> Term:
    return Term(tid, tid, dt.date.fromisoformat(first), dt.date.fromisoformat(last))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2021-11-01", "fall"),
        ("2022-03-01", "spring"),
        ("2021-12-20", "fall"),
        ("2020-01-01", "fall"),
        ("2023-01-01", "spring"),
    ],
)
def test_current_term_is_the_one_running_else_the_latest_begun(today: str, expected: str) -> None:
    terms = [_term("spring", "2022-01-20", "2022-05-05"), _term("fall", "2021-10-01", "2021-12-10")]
    found = site.current_term(terms, dt.date.fromisoformat(today))
    assert found is not None and found.id == expected


def test_relative_links_climb_out_of_folders() -> None:
    assert site.relative("index.html", "style.css") == "style.css"
    assert site.relative("refs/x.html", "terms/a.html") == "../terms/a.html"


# ---- the command, as a subprocess ------------------------------------------------------------


def test_site_command_writes_the_site(tmp_path: Path) -> None:
    bib = tmp_path / "bib"
    shutil.copytree(FIXTURES / "terms" / "multi", bib)
    out = tmp_path / "out"
    result = run_cli("--bib", str(bib), "site", "-o", str(out), "--today", "2022-02-01")
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file() and (out / "dlg.ics").is_file()
    assert (out / "index.json").is_file() and (out / "handouts" / "handout-term.pdf").is_file()
    assert (out / "pagefind" / "pagefind-ui.js").is_file()
    assert "Traceback" not in result.stderr


def test_site_command_exit_2_for_an_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("--bib", str(FIXTURES / "terms" / "multi"), "site", "-o", str(blocker / "s"))
    assert result.returncode == 2
    assert "cannot create the site folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_site_command_refuses_a_database_with_lint_errors(tmp_path: Path) -> None:
    shutil.copy2(FIXTURES / "store" / "db" / "group.toml", tmp_path / "group.toml")
    shutil.copy2(FIXTURES / "malformed" / "dangling_concatenation.bib", tmp_path / "a.bib")
    result = run_cli("--bib", str(tmp_path), "site", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "error: value of `title` is not valid BibTeX" in result.stderr
    assert not (tmp_path / "out").exists()


def test_citation_batches_never_split_works_of_one_author_and_year() -> None:
    items = [
        {
            "id": f"k{i}",
            "author": [{"family": f"F{i % 7}"}],
            "issued": {"date-parts": [[2000 + i % 3]]},
        }
        for i in range(100)
    ]
    found = site.batches(items, size=10)
    assert sorted(i["id"] for b in found for i in b) == sorted(i["id"] for i in items)
    where = {site._signature(i): n for n, b in enumerate(found) for i in b}
    for n, batch in enumerate(found):
        assert all(where[site._signature(i)] == n for i in batch)
        assert len(batch) <= 10 + 5  # a batch overflows only by one signature's works
    assert len(site.batches(items[:3], size=500)) == 1
