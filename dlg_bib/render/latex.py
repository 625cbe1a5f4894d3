"""A fast path for the LaTeX that bibliographies actually contain, before pylatexenc.

pylatexenc decodes anything but costs about 1 ms per value; a 10,000-entry database with
LaTeX in a third of its titles spends seconds there. Accents (`{\\'a}`, `\\k{e}`), special
letters (`\\ss`, `\\o`), escapes (`\\&`), protective braces, dashes, quotes, simple math
(`$\\ell_1$`) and text-style macros (`\\emph{…}`) are decoded here with a few regular
expressions; anything else (or anything left over) returns None and the caller falls back
to pylatexenc. tests/test_render_latex.py checks that both agree on every value the fast
path accepts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Anything we do not handle: braces or backslashes escaped, comments, URLs, line breaks.
# (Two patterns: one that starts with a backslash is found much faster than one alternation.)
_UNSUPPORTED = re.compile(r"\\(?:[{}\\]|(?:url|href|verb|cite|ref)\b|[^A-Za-z&%$#_'`^\"~=.])")
_COMMENT = re.compile(r"(?<!\\)%")

_LETTERS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "i": "ı",
    "j": "ȷ",
    "l": "ł",
    "L": "Ł",
    "o": "ø",
    "O": "Ø",
}
_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|i|j|l|L|o|O)(?![A-Za-z])(?:\{\}|[ \t]*)")

_SYMBOL_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
}
_LETTER_ACCENTS = {
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_BASE = r"[A-Za-zıȷ]"
_SYMBOL_ACCENT = re.compile(rf"\\([`'^\"~=.])\s*(?:\{{({_BASE})\}}|({_BASE}))")
_LETTER_ACCENT = re.compile(rf"\\([uvHckrdb])(?:\s*\{{({_BASE})\}}|\s+({_BASE}))")
_STYLE = re.compile(
    r"\\(?:emph|textit|textbf|textsc|textrm|texttt|textsf|textup|textnormal|"
    r"mathrm|mathit|mathbf|mathsf|mathtt|text|mbox)\s*(?=\{)"
)
_ESCAPE = re.compile(r"\\([&%#_])")
_DOLLAR = "\x00"
_MATH = re.compile(r"\$([^$]*)\$")
_MACRO = re.compile(r"\\([A-Za-z]+)")
_SYMBOLS = {
    "ell": "ℓ",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "times": "×",
    "cdot": "⋅",
    "pm": "±",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "to": "→",
    "rightarrow": "→",
    "in": "∈",
    "ldots": "…",
    "dots": "…",
    "log": "log",
    "exp": "exp",
    "sin": "sin",
    "cos": "cos",
    "min": "min",
    "max": "max",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ϵ",
    "varepsilon": "ε",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "pi": "π",
    "phi": "ϕ",
    "varphi": "φ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Omega": "Ω",
}


def _accent(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        # An accent on a dotless i or j (`\\'{\\i}`) is an accent on i or j.
        base = (match.group(2) or match.group(3)).replace("ı", "i").replace("ȷ", "j")
        return base + table[match.group(1)]

    return replace


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


def _letter(match: re.Match[str]) -> str:
    return _LETTERS[match.group(1)]


_symbol_accent = _accent(_SYMBOL_ACCENTS)
_letter_accent = _accent(_LETTER_ACCENTS)


def _symbol(match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in _SYMBOLS:
        raise KeyError(name)
    return _SYMBOLS[name]


def fast_latex_to_text(value: str) -> str | None:
    """Unicode text of `value`, or None when it holds LaTeX this fast path does not know."""
    if _UNSUPPORTED.search(value) or ("%" in value and _COMMENT.search(value)):
        return None
    text = _LETTER.sub(_letter, value)
    text = _SYMBOL_ACCENT.sub(_symbol_accent, text)
    text = _LETTER_ACCENT.sub(_letter_accent, text)
    if "$" in text:
        text = _MATH.sub(_first_group, text.replace("\\$", _DOLLAR))
        if "$" in text:
            return None
    text = _ESCAPE.sub(_first_group, _STYLE.sub("", text))
    try:
        text = _MACRO.sub(_symbol, text)
    except KeyError:
        return None
    if "\\" in text:
        return None
    text = text.replace("{", "").replace("}", "").replace(_DOLLAR, "$")
    text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”")
    text = text.replace("~", " ")
    return " ".join(unicodedata.normalize("NFC", text).split())
