"""Collecting links from the database and from a rendered README."""

from __future__ import annotations

from pathlib import Path

from dlg_bib.library.database import open_database
from dlg_bib.links.extract import collect_links, urls_in_field
from dlg_bib.links.mdlinks import markdown_links

FIXTURES = Path(__file__).parent / "fixtures" / "links"


def test_database_links_cover_every_url_field_once() -> None:
    db = open_database(FIXTURES / "extract.bib")
    links = {link.url: link for link in collect_links(db)}
    assert set(links) == {
        "https://example.org/smith_2020?a=1&b=2",  # LaTeX escapes undone
        "https://example.org/smith.pdf",
        "https://doi.org/10.1000/ABC.123",  # doi field through the resolver
        "https://arxiv.org/abs/2001.01234v2",  # built from eprint
        "https://blog.example.com/post",  # \url{} in howpublished, fragment dropped
        "https://slides.example.com/talk",  # \href{} in note
        "https://mirror.example.net/post",  # bare URL in note, final period dropped
        "https://library.example.edu/record/42",  # dlg-note
        "https://arxiv.org/abs/math/9901001",  # old-style arXiv id
    }
    # One URL, two entries (pdf of one, slides-url of another): checked once, both named.
    shared = links["https://example.org/smith.pdf"]
    assert shared.keys == ["smith2020deep", "old1999book"]
    assert shared.sources == ["smith2020deep:pdf", "old1999book:slides-url"]


def test_abstract_urls_and_non_arxiv_eprints_are_not_links() -> None:
    db = open_database(FIXTURES / "extract.bib")
    urls = {link.url for link in collect_links(db)}
    assert "https://github.com/example/not-a-reading-list-link" not in urls
    assert not any("12345" in url for url in urls)
    assert not any(url.startswith("ftp:") for url in urls)


def test_readme_links_of_every_markdown_form() -> None:
    text = (FIXTURES / "README.md").read_text(encoding="utf-8")
    urls = [link.url for link in markdown_links(text)]
    assert urls == [
        "https://arxiv.org/abs/1706.03762",
        "https://doi.org/10.5555/3295222.3295349",
        "https://example.org/a b.pdf",
        "https://en.wikipedia.org/wiki/Convolution_(mathematics)",
        "https://img.example.com/badge.svg",
        "https://autolink.example.com/page",
        "https://bare.example.com/path/(x)",
        "http://www.example.com/www-link",
        "https://html.example.com/?a=1&b=2",
        "https://reference.example.com/def",
        "https://escaped.example.com/a_b",
        "https://arxiv.org/abs/1706.03762#comments",
    ]


def test_readme_links_are_merged_with_database_links_and_keep_their_lines(
    tmp_path: Path,
) -> None:
    db = open_database(FIXTURES / "extract.bib")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[paper](https://example.org/smith.pdf)\n\nhttps://new.example.org/x\n", encoding="utf-8"
    )
    links = {link.url: link for link in collect_links(db, readme)}
    assert links["https://example.org/smith.pdf"].keys == ["smith2020deep", "old1999book"]
    assert "README.md:1" in links["https://example.org/smith.pdf"].sources
    assert links["https://new.example.org/x"].keys == []
    assert links["https://new.example.org/x"].sources == ["README.md:3"]


def test_urls_in_latex_values() -> None:
    assert urls_in_field(r"see \url{https://a.example/x\_y\%20z} and http://b.example/.") == [
        "https://a.example/x_y%20z",
        "http://b.example/",
    ]
    assert urls_in_field("no links here") == []
