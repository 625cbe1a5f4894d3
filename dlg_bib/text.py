"""LaTeX field text to Unicode, decoded only when needed and cached."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text

_LATEX_MARKERS = re.compile(r"[\\{}$~]|--|``|''")


@lru_cache(maxsize=2)
def _converter(keep_math: bool) -> LatexNodes2Text:
    # Imported on first use: most runs decode every value without pylatexenc (see
    # render/latex.py), and importing it costs more than many of those runs spend decoding.
    from pylatexenc.latex2text import LatexNodes2Text

    if keep_math:
        return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)
    return LatexNodes2Text(strict_latex_spaces=True)


@lru_cache(maxsize=65536)
def latex_to_text(value: str, *, keep_math: bool = True) -> str:
    """Unicode for a LaTeX field value: `L{\\'a}szl{\\'o}` -> `László`, `--` -> `–`.

    Plain values (most of them) are returned untouched without running the LaTeX parser.
    With `keep_math`, `$\\ell_1$` stays as written (GitHub renders it); otherwise it becomes
    Unicode text (for Typst and plain-text outputs).
    """
    if not _LATEX_MARKERS.search(value):
        return " ".join(value.split())
    converter = _converter(keep_math)
    value = _prepare(value)
    try:
        text = converter.latex_to_text(value)
    except Exception:  # pylatexenc raises bare Exceptions on odd input; never fail a render
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split())


# Macros pylatexenc does not know (it raises on `\href`, prints `\LaTeX` as nothing):
# rewritten to what a reader should see before decoding.
_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_LOGOS = re.compile(r"\\(LaTeX|TeX|BibTeX)\b(?:\{\})?")


def _prepare(value: str) -> str:
    if "\\" not in value:
        return value
    value = _HREF.sub(lambda m: m.group(2), value)
    return _LOGOS.sub(lambda m: m.group(1), value)


def ascii_fold(text: str) -> str:
    """`Pękalska` -> `Pekalska`: for citation keys, which must be ASCII for BibTeX."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    replacements = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d"}
    return "".join(replacements.get(c, c) for c in folded)
