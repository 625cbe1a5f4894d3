"""Every http(s) link in a Markdown file, with its line: inline links and images, reference
definitions, autolinks, HTML href/src attributes and bare URLs (GitHub's autolinking).

A small scanner rather than a full CommonMark parser: code blocks and code spans are skipped,
link destinations may hold balanced parentheses (Wikipedia URLs) and `<…>`, trailing
punctuation of bare URLs is dropped as GitHub does.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]*)>", re.IGNORECASE)
_HTML_ATTR = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_BARE = re.compile(r"(?<![\w/.])(?:https?://|www\.)[^\s<>]*", re.IGNORECASE)
_TRAILING = ".,:;!?\"'*_~"
_ENTITY_END = re.compile(r"&[a-z0-9]+;$", re.IGNORECASE)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


@dataclass(frozen=True)
class MarkdownLink:
    url: str
    line: int


def markdown_links(text: str) -> list[MarkdownLink]:
    """Links in document order; the same URL may appear several times."""
    found: list[MarkdownLink] = []
    for number, line in _prose_lines(text):
        found.extend(MarkdownLink(url, number) for url in _line_links(line))
    return [link for link in found if link.url.lower().startswith(("http://", "https://"))]


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """Lines outside fenced code blocks, with code spans blanked out."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            continue
        if match:
            fence = match.group(1)
            continue
        lines.append((number, _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)))
    return lines


def _line_links(line: str) -> list[str]:
    urls: list[str] = []
    masked = list(line)

    def take(start: int, end: int, url: str) -> None:
        urls.append(url)
        masked[start:end] = " " * (end - start)

    ref = _REF_DEF.match(line)
    if ref:
        take(ref.start(1), ref.end(1), _unescape(ref.group(1).strip("<>")))
    for start, end, url in _inline_destinations(line):
        take(start, end, url)
    text = "".join(masked)
    for match in _AUTOLINK.finditer(text):
        take(match.start(), match.end(), match.group(1))
    text = "".join(masked)
    for match in _HTML_ATTR.finditer(text):
        take(match.start(), match.end(), html.unescape(match.group(1) or match.group(2) or ""))
    text = "".join(masked)
    for match in _BARE.finditer(text):
        url = _trim_bare(match.group(0))
        urls.append(url if "://" in url else "http://" + url)
    return urls


def _inline_destinations(line: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of each `](destination)` in the line."""
    found = []
    index = line.find("](")
    while index >= 0:
        start = index + 2
        end, url = _destination(line, start)
        if url is not None:
            found.append((start, end, url))
        index = line.find("](", max(end, start))
    return found


def _destination(line: str, start: int) -> tuple[int, str | None]:
    i = start
    while i < len(line) and line[i] == " ":
        i += 1
    if i < len(line) and line[i] == "<":
        close = line.find(">", i)
        if close < 0:
            return start, None
        return close + 1, _unescape(line[i + 1 : close])
    depth = 0
    j = i
    while j < len(line):
        char = line[j]
        if char == "\\" and j + 1 < len(line):
            j += 2
            continue
        if char.isspace():
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        j += 1
    if j == i:
        return start, None
    return j, _unescape(line[i:j])


def _trim_bare(url: str) -> str:
    """GitHub's rule: drop trailing punctuation and unbalanced closing parentheses."""
    while url:
        entity = _ENTITY_END.search(url)
        if entity:
            url = url[: entity.start()]
        elif url[-1] in _TRAILING:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def _unescape(url: str) -> str:
    return html.unescape(_ESCAPED.sub(r"\1", url.strip()))
