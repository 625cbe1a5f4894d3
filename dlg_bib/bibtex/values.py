"""BibTeX field values as written (`{…}`, `"…"`, numbers, macros, `#`) and their text."""

from __future__ import annotations

import re

from dlg_bib.errors import ParseError

MONTH_MACROS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}


_BARE_WORD = re.compile(r'[^{}"#\s]+')


class ValueSyntaxError(ParseError):
    """A field value that is not valid BibTeX (unbalanced braces, dangling `#`)."""


def _split_pieces(raw: str) -> list[str]:
    """Split a raw value on top-level `#` into its pieces, each stripped."""
    pieces: list[str] = []
    depth = 0
    in_quote = False
    start = 0
    for i, ch in enumerate(raw):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise ValueSyntaxError("unbalanced '}'")
        elif ch == '"' and depth == 0:
            in_quote = not in_quote
        elif ch == "#" and depth == 0 and not in_quote:
            pieces.append(raw[start:i].strip())
            start = i + 1
    if depth != 0:
        raise ValueSyntaxError("unbalanced '{'")
    if in_quote:
        raise ValueSyntaxError('unterminated "')
    pieces.append(raw[start:].strip())
    if any(not p for p in pieces):
        raise ValueSyntaxError("empty piece around '#'")
    return pieces


def resolve(raw: str, strings: dict[str, str] | None = None) -> str:
    """The text of a raw value: enclosing removed, macros expanded, pieces joined.

    The result is still LaTeX source (accents, braces inside the value are kept).
    Unknown macros resolve to their own name, as BibTeX would warn and print nothing;
    lint reports them.
    """
    raw = raw.strip()
    # Fast path: the overwhelmingly common `{…}` value with no concatenation.
    if raw.startswith("{") and raw.endswith("}") and "#" not in raw:
        return raw[1:-1]
    if raw.isdigit():
        return raw
    if raw and _BARE_WORD.fullmatch(raw):  # one macro (`jul`, `jmlr`): a single piece
        name = raw.lower()
        if strings is not None and name in strings:
            return strings[name]
        return MONTH_MACROS.get(name, raw)
    parts = []
    for piece in _split_pieces(raw):
        if piece.startswith("{") and piece.endswith("}"):
            parts.append(piece[1:-1])
        elif piece.startswith('"') and piece.endswith('"') and len(piece) >= 2:
            parts.append(piece[1:-1])
        elif piece.isdigit():
            parts.append(piece)
        else:
            name = piece.lower()
            if strings is not None and name in strings:
                parts.append(strings[name])
            elif name in MONTH_MACROS:
                parts.append(MONTH_MACROS[name])
            else:
                parts.append(piece)
    return "".join(parts)


def macro_names(raw: str) -> list[str]:
    """Names of the macros a raw value uses (for lint: undefined @string)."""
    try:
        pieces = _split_pieces(raw.strip())
    except ValueSyntaxError:
        return []
    return [p for p in pieces if not (p.startswith(("{", '"')) or p.isdigit())]


def braced(text: str) -> str:
    """A new value in the house style: `{text}`."""
    return "{" + text + "}"
