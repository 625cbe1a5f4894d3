"""BibTeX name lists: `Last, First and First von Last and {Corporate Name}`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",\s*")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Name:
    """A person (given, family, particle, suffix) or an organisation (`literal`), as LaTeX."""

    family: str = ""
    given: str = ""
    particle: str = ""
    suffix: str = ""
    literal: str = ""


def split_top_level(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split on `pattern` only outside braces (the separators never contain braces)."""
    pieces = pattern.split(text)
    # A separator inside braces leaves the piece before it (which starts at depth 0 when
    # every earlier separator was top level) with more `{` than `}`. So when every piece
    # balances, every separator was top level: the common case, without scanning.
    if "{" not in text or all(p.count("{") == p.count("}") for p in pieces):
        return [s for s in (p.strip() for p in pieces) if s]
    parts: list[str] = []
    depth = 0
    start = 0
    scanned = 0
    for match in pattern.finditer(text):
        between = text[scanned : match.start()]
        depth += between.count("{") - between.count("}")
        scanned = match.start()
        if depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def split_names(text: str) -> list[str]:
    """The names of a name list as written (`A and B` -> [`A`, `B`]), top-level `and` only."""
    pieces = text.split(" and ")
    # When every `and` (any case) sits in a plain ` and ` and there is a name between any
    # two of them, those are the separators `_AND` finds (up to the spaces around them,
    # which are stripped anyway), and a plain split is cheaper (bench/NOTES.md). Otherwise
    # (`Anderson`, `AND`, ` and  and `) or with braces that do not balance, the regular
    # expression decides.
    stripped = [p.strip() for p in pieces]
    if (
        len(pieces) - 1 != text.lower().count("and")
        or not all(stripped[1:-1])
        or ("{" in text and not all(p.count("{") == p.count("}") for p in pieces))
    ):
        return split_top_level(text, _AND)
    return [s for s in stripped if s]


def _words(text: str) -> list[str]:
    return split_top_level(text, _SPACE)


def _is_lower_word(word: str) -> bool:
    stripped = word.lstrip("{\\")
    return bool(stripped) and stripped[0].islower()


# Cached: the same people appear in many entries, and a Name is immutable.
@lru_cache(maxsize=1 << 16)
def parse_name(text: str) -> Name:
    """One name in BibTeX's three forms: `First von Last`, `von Last, First`,
    `von Last, Jr, First`. A fully braced name is an organisation."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}") and _balanced_inner(text):
        return Name(literal=text[1:-1])
    parts = split_top_level(text, _COMMA)
    if not parts:  # "," or "" : nothing to name
        return Name()
    if len(parts) == 1:
        words = _words(parts[0])
        if len(words) == 1:
            return Name(family=words[0])
        # von part: lowercase words before the last word, after the first capitalised run.
        first: list[str] = []
        i = 0
        while i < len(words) - 1 and not _is_lower_word(words[i]):
            first.append(words[i])
            i += 1
        von: list[str] = []
        while i < len(words) - 1 and _is_lower_word(words[i]):
            von.append(words[i])
            i += 1
        last = words[i:]
        return Name(family=" ".join(last), given=" ".join(first), particle=" ".join(von))
    family_words = _words(parts[0])
    von = []
    while len(family_words) > 1 and _is_lower_word(family_words[0]):
        von.append(family_words.pop(0))
    if len(parts) == 2:
        return Name(family=" ".join(family_words), given=parts[1], particle=" ".join(von))
    return Name(
        family=" ".join(family_words),
        given=", ".join(parts[2:]),
        particle=" ".join(von),
        suffix=parts[1],
    )


def _balanced_inner(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def parse_names(text: str) -> list[Name]:
    return [parse_name(part) for part in split_names(text)]


def csl_name(name: Name, decode: Callable[[str], str]) -> dict[str, str]:
    """The CSL-JSON name object of `name`; `decode` turns each LaTeX part into output text."""
    if name.literal:
        return {"literal": decode(name.literal)}
    parts = (
        ("family", name.family),
        ("given", name.given),
        ("non-dropping-particle", name.particle),
        ("suffix", name.suffix),
    )
    decoded = {key: decode(value) for key, value in parts if value}
    return {key: value for key, value in decoded.items() if value}
