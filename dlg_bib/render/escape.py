"""Escaping for GitHub-flavoured Markdown, and the only-http(s)-links rule for every output.

Verified against cmark-gfm (GitHub's renderer): after `gfm_text`, any string renders as the
same literal text, inside a table cell or a paragraph, and never opens a link, an HTML tag,
emphasis, code, math or a new table cell.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from dlg_bib.library.ids import safe_url

# Autolinks: cmark-gfm turns bare `http://`, `ftp://` and `www.` into links; an escaped
# `:` or `.` stops it without changing the visible text.
_SCHEME_SEPARATOR = re.compile(r"(?<=[A-Za-z0-9])://")
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)
# Line-start syntax, harmless inside a cell but not at the start of a paragraph or item.
_BLOCK_MARK = re.compile(r"^([#>+=-])")
_ORDERED_ITEM = re.compile(r"^(\d+)([.)])")

# Percent-encode everything in a link destination that Markdown or a table cell could read
# as syntax: space, `( ) | < > " \ [ ] { } ^` and backquote; keep URL delimiters as they are.
_URL_SAFE = "/:;@?&=#%+,~!$'*"


# Characters with inline meaning in GFM (`|` splits cells even inside code spans, `~` strikes
# through, `$` opens math on github.com) get a backslash; `<`, `>` and `&` become entities.
_CELL_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\|`*_[]~$"}}
)


_CELL_SPECIAL = re.compile(r"[&<>\\|`*_\[\]~$]")


def gfm_cell(text: str) -> str:
    """Text for one GFM table cell: one line, every special character escaped."""
    text = " ".join(text.split())
    if _CELL_SPECIAL.search(text):  # most text has none: skip the (slower) translate
        text = text.translate(_CELL_ESCAPES)
    if "://" in text:
        text = _SCHEME_SEPARATOR.sub(_escape_scheme_separator, text)
    if "www" in text.lower():
        text = _WWW.sub(_escape_www_dot, text)
    return text


# Callables, not `\\1` templates: re expands templates in Python, once per match.
def _escape_scheme_separator(match: re.Match[str]) -> str:
    return "\\://"


def _escape_www_dot(match: re.Match[str]) -> str:
    return match.group(1) + "\\."


def gfm_text(text: str) -> str:
    """Inline text anywhere in a GFM document (paragraph, list item, heading, cell)."""
    text = _BLOCK_MARK.sub(r"\\\1", gfm_cell(text))
    return _ORDERED_ITEM.sub(r"\1\\\2", text)


# An http(s) URL with a plain host and nothing `quote` would encode: safe_url and quote
# both leave it as it is (most DOI and arXiv links), so neither needs to run.
_PLAIN_HTTP_URL = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?:[/?#][A-Za-z0-9_.~/:;@?&=#%+,!$'*-]*)?"
)


def md_url(url: str) -> str:
    """A link destination: http(s) only (else ""), percent-encoded where Markdown needs it."""
    if _PLAIN_HTTP_URL.fullmatch(url):
        return url.replace("&", "&amp;")
    url = safe_url(url)
    if not url:
        return ""
    # `&` stays a query separator: cmark decodes `&amp;` in destinations back to `&`.
    return quote(url, safe=_URL_SAFE).replace("&", "&amp;")


def md_link(text: str, url: str) -> str:
    """`[text](url)` with both parts escaped; plain escaped text when the URL is not http(s)."""
    destination = md_url(url)
    label = gfm_cell(text)
    return f"[{label}]({destination})" if destination else label
