"""BibTeX name lists: `Last, First and First von Last and {Corporate Name}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


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
    if "{" not in text:  # fast path (most names): no braces, so every match is top level
        return [p.strip() for p in pattern.split(text) if p.strip()]
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


def _words(text: str) -> list[str]:
    return split_top_level(text, re.compile(r"\s+"))


def _is_lower_word(word: str) -> bool:
    stripped = word.lstrip("{\\")
    return bool(stripped) and stripped[0].islower()


def parse_name(text: str) -> Name:
    """One name in BibTeX's three forms: `First von Last`, `von Last, First`,
    `von Last, Jr, First`. A fully braced name is an organisation."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}") and _balanced_inner(text):
        return Name(literal=text[1:-1])
    parts = split_top_level(text, re.compile(r",\s*"))
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
    return [parse_name(part) for part in split_top_level(text, _AND)]
