"""Report formats: exact JSON fields, escaping of remote text in Markdown and the terminal."""

from __future__ import annotations

import json
import re

import pytest

from dlg_bib.links.check import LinkResult
from dlg_bib.links.extract import Link
from dlg_bib.links.report import findings, md_url, render_json, render_markdown, render_table
from dlg_bib.links.suggest import Suggestion


def _rows() -> list:  # type: ignore[type-arg]
    links = [Link("https://a.example/ok", ["k1"]), Link("https://b.example/gone", ["k2", "k3"])]
    results = {
        "https://a.example/ok": LinkResult(
            "https://a.example/ok", "ok", 200, "https://a.example/ok"
        ),
        "https://b.example/gone": LinkResult(
            "https://b.example/gone", "dead", 404, "https://b.example/gone|x\x1b[31m", attempts=2
        ),
    }
    suggestions = {
        "https://b.example/gone": Suggestion("https://web.archive.org/web/1/x", "wayback")
    }
    return findings(links, results, suggestions)


def test_json_has_the_documented_fields_worst_first() -> None:
    data = json.loads(render_json(_rows()))
    assert [row["url"] for row in data] == ["https://b.example/gone", "https://a.example/ok"]
    assert list(data[0])[:8] == [
        "url",
        "verdict",
        "status",
        "final_url",
        "keys",
        "suggestion",
        "elapsed_ms",
        "attempts",
    ]
    assert data[0]["keys"] == ["k2", "k3"]
    assert data[0]["suggestion"] == "https://web.archive.org/web/1/x"
    assert data[0]["attempts"] == 2
    assert data[1]["suggestion"] is None


def test_markdown_escapes_remote_text_and_pipes() -> None:
    md = render_markdown(_rows())
    assert "| <https://b.example/gone> | 404 | k2, k3 |" in md
    assert "%7Cx" in md and "\x1b" not in md  # the pipe cannot split the table row
    assert md_url("https://x.example/a b<c>") == "<https://x.example/a%20b%3Cc%3E>"
    assert md_url("https://en.wikipedia.org/wiki/A_(b)") == "<https://en.wikipedia.org/wiki/A_(b)>"


def test_table_strips_control_characters() -> None:
    table = render_table(_rows())
    assert "\x1b" not in table
    assert "ends at: https://b.example/gone|x?[31m" in table
    assert table.rstrip().endswith("2 links: 1 dead, 1 ok")


def test_markdown_renders_as_intact_tables_on_github() -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    html = cmarkgfm.github_flavored_markdown_to_html(
        render_markdown(_rows()), options=Options.CMARK_OPT_UNSAFE
    )
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)
    # Two tables (dead, ok), each a header row and one link row of exactly five cells.
    assert len(rows) == 4
    assert all(row.count("<td") == 5 for row in rows if "<td" in row)
    assert '<a href="https://b.example/gone%7Cx%5B31m">' in html
    assert "<script" not in html
