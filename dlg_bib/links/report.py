"""The three outputs: a table for people, JSON for scripts, Markdown for issue reports.

Final URLs, details and suggestions come from remote servers: control characters are
removed for the terminal and Markdown-significant characters escaped for Markdown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dlg_bib.links.check import LinkResult
from dlg_bib.links.extract import Link
from dlg_bib.links.policy import VERDICTS
from dlg_bib.links.suggest import Suggestion

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
_TITLES = {
    "dead": "Dead",
    "redirected": "Moved permanently (update the stored link)",
    "blocked": "Blocked (server alive, refuses robots)",
    "timeout": "Timed out (transient)",
    "error": "Errors (transient)",
    "ok": "OK",
}


@dataclass(frozen=True)
class Finding:
    link: Link
    result: LinkResult
    suggestion: Suggestion | None

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "url": self.link.url,
            "verdict": r.verdict,
            "status": r.status,
            "final_url": r.final_url,
            "keys": list(self.link.keys),
            "suggestion": self.suggestion.url if self.suggestion else None,
            "elapsed_ms": r.elapsed_ms,
            "attempts": r.attempts,
            "suggestion_source": self.suggestion.source if self.suggestion else None,
            "redirect_to": r.redirect_to,
            "share_link": r.share_link,
            "detail": r.detail,
            "sources": list(self.link.sources),
            "requests": r.requests,
            "cached": r.cached,
        }


def findings(
    links: list[Link], results: Mapping[str, LinkResult], suggestions: Mapping[str, Suggestion]
) -> list[Finding]:
    """One finding per checked link, grouped by verdict (worst first), then by URL."""
    order = {v: i for i, v in enumerate(VERDICTS)}
    rows = [Finding(lk, results[lk.url], suggestions.get(lk.url)) for lk in links]
    return sorted(rows, key=lambda f: (order[f.result.verdict], f.link.url))


def counts(rows: list[Finding]) -> dict[str, int]:
    return {v: n for v in VERDICTS if (n := sum(f.result.verdict == v for f in rows))}


def summary_line(rows: list[Finding]) -> str:
    parts = [f"{n} {v}" for v, n in counts(rows).items()]
    shares = sum(bool(f.result.share_link) for f in rows)
    text = f"{len(rows)} links: " + (", ".join(parts) if parts else "none")
    if shares:
        text += f"; {shares} expiring share link{'s' if shares > 1 else ''}"
    return text


# ---- JSON --------------------------------------------------------------------------------


def render_json(rows: list[Finding]) -> str:
    """A JSON array with one object per line: easy to read and to grep, and written by the
    C encoder (an indented dump runs the pure-Python one, ~10x slower)."""
    if not rows:
        return "[]\n"
    lines = ",\n".join(json.dumps(f.to_json(), ensure_ascii=False) for f in rows)
    return f"[\n{lines}\n]\n"


# ---- table -------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return _CONTROL.sub("?", text)


def _users(link: Link) -> str:
    return ", ".join(link.keys) if link.keys else ", ".join(link.sources)


def render_table(rows: list[Finding]) -> str:
    lines: list[str] = []
    for verdict in VERDICTS:
        group = [f for f in rows if f.result.verdict == verdict]
        if not group:
            continue
        lines.append(f"{_TITLES[verdict]} ({len(group)})")
        for f in group:
            lines.extend(_table_rows(f))
        lines.append("")
    lines.append(summary_line(rows))
    return "\n".join(lines) + "\n"


def _table_rows(f: Finding) -> list[str]:
    r = f.result
    status = str(r.status) if r.status is not None else "-"
    rows = [f"  {status:>4}  {_plain(f.link.url)}"]
    pad = " " * 8
    rows.append(f"{pad}used by: {_plain(_users(f.link))}")
    if r.final_url != f.link.url and r.verdict != "redirected":
        rows.append(f"{pad}ends at: {_plain(r.final_url)}")
    if r.detail:
        rows.append(f"{pad}{_plain(r.detail)}")
    if r.share_link:
        rows.append(f"{pad}warning: {_plain(r.share_link)}")
    if f.suggestion:
        label = "new URL" if f.suggestion.source == "redirect" else "suggest"
        rows.append(f"{pad}{label}: {_plain(f.suggestion.url)} ({f.suggestion.source})")
    return rows


# ---- Markdown ----------------------------------------------------------------------------


def md_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def md_url(url: str) -> str:
    """An autolink; characters that would end or split it are percent-encoded."""
    safe = quote(_CONTROL.sub("", url), safe="/:?=&%#@!$'()*+,;~-._[]")
    return f"<{safe}>"


def render_markdown(rows: list[Finding]) -> str:
    lines = ["## Link check", "", md_text(summary_line(rows)), ""]
    for verdict in VERDICTS:
        group = [f for f in rows if f.result.verdict == verdict]
        if not group:
            continue
        if verdict == "ok":
            lines += ["<details><summary>OK links</summary>", ""]
        lines += [f"### {_TITLES[verdict]} ({len(group)})", ""]
        lines += ["| Link | Status | Used by | Note | Suggestion |", "|---|---|---|---|---|"]
        lines += [_md_row(f) for f in group]
        lines.append("")
        if verdict == "ok":
            lines += ["</details>", ""]
    return "\n".join(lines)


def _md_row(f: Finding) -> str:
    r = f.result
    users = ", ".join(md_text(k) for k in f.link.keys) or ", ".join(
        md_text(s) for s in f.link.sources
    )
    notes = [md_text(r.detail)] if r.detail else []
    if r.final_url != f.link.url and r.verdict != "redirected":
        notes.append("ends at " + md_url(r.final_url))
    if r.share_link:
        notes.append("⚠ " + md_text(r.share_link))
    suggestion = f"{md_url(f.suggestion.url)} ({f.suggestion.source})" if f.suggestion else ""
    status = str(r.status) if r.status is not None else "–"
    cells = [md_url(f.link.url), status, users, "; ".join(notes), suggestion]
    return "| " + " | ".join(cells) + " |"
