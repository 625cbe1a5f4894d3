"""Comparing a remote record with an entry: titles, person names and years, all pure.

Shared by `published` (dblp candidates for a preprint) and `openaccess` (OpenAlex/Unpaywall
works for an entry). Remote names and titles are plain Unicode; entry values are LaTeX, so
both sides go through the same folding: LaTeX -> text, accents dropped, case folded,
everything that is not a letter or a digit removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dlg_bib.names import parse_names
from dlg_bib.text import ascii_fold, latex_to_text

# dblp makes every name unique with a 4-digit number: "Jian Sun 0001".
_HOMONYM = re.compile(r"\s+\d{4}$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits, words separated by single spaces."""
    plain = ascii_fold(latex_to_text(text, keep_math=False)).lower()
    return " ".join(_NOT_ALNUM.sub(" ", plain).split())


def title_key(title: str) -> str:
    """`{BERT}: Pre-training of …` and `BERT: Pre-Training of ….` give the same key."""
    return fold(title).replace(" ", "")


def strip_homonym(name: str) -> str:
    """`Xiaopeng Zhang 0009` -> `Xiaopeng Zhang`."""
    return _HOMONYM.sub("", name.strip())


@dataclass(frozen=True)
class Person:
    """An entry author reduced to what a comparison needs: folded family and given words."""

    family: tuple[str, ...]
    given: tuple[str, ...] = ()

    @property
    def initial(self) -> str:
        return self.given[0][:1] if self.given else ""


def entry_people(author_field: str) -> list[Person]:
    """The authors of a BibTeX `author` value (LaTeX), in order; organisations are skipped."""
    people = []
    for name in parse_names(author_field):
        if name.literal:
            continue
        family = " ".join(part for part in (name.particle, name.family) if part)
        people.append(Person(tuple(fold(family).split()), tuple(fold(name.given).split())))
    return [p for p in people if p.family]


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return any(tuple(haystack[i : i + n]) == tuple(needle) for i in range(len(haystack) - n + 1))


def same_person(person: Person, remote_name: str) -> bool:
    """Does a remote display name (`Given Family`, `Family, Given`, homonym suffix allowed)
    name this entry author? The family words must appear in order; when both sides give a
    first name, its initial must start one of the remaining words."""
    words = fold(strip_homonym(remote_name)).split()
    family = list(person.family)
    if not family or not _contains(words, family):
        # "Allen-Zhu" folds to two words on one side and may be written joined on the other.
        joined = "".join(family)
        if joined not in words:
            return False
        family = [joined]
    if not person.initial:
        return True
    rest = list(words)
    for word in family:
        rest.remove(word)
    return not rest or any(word.startswith(person.initial) for word in rest)


def shares_author(people: Sequence[Person], remote_names: Sequence[str]) -> bool:
    """At least one entry author appears among the remote names."""
    return any(same_person(p, name) for p in people for name in remote_names)


def year_of(text: str) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text)
    return int(match.group(1)) if match else None
