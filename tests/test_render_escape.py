"""GFM escaping and the only-http(s)-links rule, checked against cmark-gfm (GitHub's parser)."""

from __future__ import annotations

import html
import random
import re

import cmarkgfm
import pytest

from dlg_bib.library.ids import safe_url
from dlg_bib.render.escape import gfm_cell, gfm_text, md_link, md_url

HOSTILE = [
    pytest.param('#import "/etc/passwd"', id="typst-import"),
    pytest.param(r"\input{/etc/passwd}", id="latex-input"),
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param("a | b", id="pipe"),
    pytest.param("[x](javascript:alert(1))", id="js-link"),
    pytest.param(r"$\ell_1$", id="math"),
    pytest.param("*not* _emph_ __strong__ `code` ~~strike~~ ~one~", id="inline-markup"),
    pytest.param("&amp; &copy; &#124; & <b> a<b and b>c", id="entities-html"),
    pytest.param("1. not a list", id="ordered"),
    pytest.param("- not a bullet", id="bullet"),
    pytest.param("# not a heading", id="heading"),
    pytest.param("> not a quote", id="quote"),
    pytest.param("see http://evil.example/x and www.evil.example", id="autolink"),
    pytest.param("back\\slash at end\\", id="backslash"),
    pytest.param("line\nbreak\n\nand blank line", id="newlines"),
    pytest.param("![img](http://x.org/i.png)", id="image"),
]


def _render(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown)


def _cells(page: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", page, flags=re.S)


@pytest.mark.parametrize("text", HOSTILE)
def test_cell_is_one_literal_cell(text: str) -> None:
    table = f"| a | b | c |\n|---|---|---|\n| x | {gfm_cell(text)} | z |\n"
    page = _render(table)
    cells = _cells(page)
    assert len(cells) == 3, page
    assert cells[0] == "x" and cells[2] == "z"
    assert html.unescape(cells[1]) == " ".join(text.split())
    assert "<a " not in page and "<em>" not in page and "<code>" not in page


@pytest.mark.parametrize("text", HOSTILE)
def test_text_is_one_literal_paragraph(text: str) -> None:
    page = _render(gfm_text(text))
    body = page.strip()
    assert body.startswith("<p>") and body.endswith("</p>"), body
    assert html.unescape(body[3:-4]) == " ".join(text.split())


def test_long_abstract_stays_in_its_cell() -> None:
    abstract = ("x | y <z> *w* " * 200)[:2000]
    page = _render(f"| a | b |\n|---|---|\n| {gfm_cell(abstract)} | end |\n")
    assert _cells(page)[1] == "end"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("http://example.org", "http://example.org"),
        ("  https://example.org/a b ", "https://example.org/a%20b"),
        ("javascript:alert(1)", ""),
        ("JAVASCRIPT:alert(1)", ""),
        ("ftp://example.org/f", ""),
        ("mailto:a@b.org", ""),
        ("data:text/html,<script>", ""),
        ("//example.org/x", ""),
        ("https://", ""),
        ("https://example.org/\nx", ""),
        ("", ""),
    ],
)
def test_safe_url(url: str, expected: str) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI3>3.0.CO;2-0",
        "https://example.org/a|b",
        "https://example.org/a)b",
        "https://example.org/a b",
        "https://example.org/?q=1&r=2#frag",
        "https://example.org/ü",
    ],
)
def test_link_survives_a_table_cell(url: str) -> None:
    page = _render(f"| a | b |\n|---|---|\n| {md_link('t|x', url)} | end |\n")
    cells = _cells(page)
    assert cells[1] == "end", page
    assert re.fullmatch(r'<a href="https://[^"]+">t\|x</a>', cells[0]), cells[0]


def test_query_separators_are_kept() -> None:
    page = _render(md_link("t", "https://example.org/?q=1&r=2"))
    assert 'href="https://example.org/?q=1&amp;r=2"' in page


def test_non_http_link_is_plain_text() -> None:
    assert md_link("x", "javascript:alert(1)") == "x"
    assert md_url("javascript:alert(1)") == ""
    assert "<a" not in _render(md_link("x", "javascript:alert(1)"))


def test_plain_urls_skip_parsing_and_encoding_with_the_same_result() -> None:
    """md_url's shortcut for plain http(s) URLs gives what safe_url + quote give."""
    from urllib.parse import quote

    from dlg_bib.render import escape

    rng = random.Random(3)
    pieces = ["https://", "HTTP://", "doi.org", "x.y", "/", "?", "&", "=", "#", "%20", ":", "@"]
    pieces += ["a", "Z", "0", "-", "_", "~", "(", ")", "[", " ", "|", "ü", "<", "'", "*", "$"]
    for _ in range(3000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        slow = escape.safe_url(url)
        slow = quote(slow, safe=escape._URL_SAFE).replace("&", "&amp;") if slow else ""
        assert md_url(url) == slow, url


def test_text_without_special_characters_is_kept() -> None:
    assert gfm_cell("Attention Is All You  Need") == "Attention Is All You Need"
    assert gfm_cell("see www.example.org or http://x.org") == (
        "see www\\.example.org or http\\://x.org"
    )
