"""The house rule for citation keys.

    key = <first author's family name><year><first significant title word>

all lower-case ASCII letters and digits (accents folded, particles dropped: `Pękalska` ->
`pekalska`). Without an author the first editor counts, then the organisation
(`organization`, `institution`, `howpublished`, `publisher`); without a year, `nd`. Articles,
prepositions and conjunctions are skipped in the title. When two entries would get the same
key, the later one gets `a`, `b`, … appended. Placeholders for references whose identity is
unknown are keyed `unknown<year><legacy label>` (`unknown2021ref5`).

Keys are never changed automatically once an entry exists: members cite them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from dlg_bib.bibtex.latex import ascii_fold, to_text
from dlg_bib.bibtex.names import parse_names
from dlg_bib.bibtex.values import ValueSyntaxError
from dlg_bib.library.model import Database, Entry

STOPWORDS = frozenset(
    "a an the on of in for and to with by from at is are as via into its or".split()
)
# Keys dlg-bib makes: the house alphabet, safe everywhere a key travels (URLs, file names).
HOUSE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.+/-]*$")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(to_text(text)).lower())


def _name_part(entry: Entry) -> str:
    for fieldname in ("author", "editor"):
        if entry.has(fieldname):
            names = parse_names(entry.get(fieldname))
            if names:
                first = names[0]
                return _slug(first.literal.split()[0] if first.literal else first.family)
    for fieldname in ("organization", "institution", "howpublished", "publisher"):
        if entry.has(fieldname):
            words = to_text(entry.get(fieldname)).split()
            if words:
                return _slug(words[0])
    return "anon"


def _title_word(entry: Entry) -> str:
    title = to_text(entry.get("title"))
    for word in re.split(r"[\s\-–—:/]+", title):
        slug = _slug(word)
        if slug and slug not in STOPWORDS:
            return slug
    return ""


def _year(entry: Entry) -> str:
    match = re.search(r"\d{4}", entry.get("year") or entry.get("date"))
    return match.group(0) if match else "nd"


def base_key(entry: Entry) -> str:
    """The key the house rule gives, before any clash suffix."""
    if entry.is_placeholder and entry.legacy_labels:
        return "unknown" + _year(entry) + _slug(entry.legacy_labels[0])
    return _name_part(entry) + _year(entry) + _title_word(entry)


def unique_key(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base` + a, b, … when (case-insensitively) taken."""
    used = {k.lower() for k in taken}
    if base.lower() not in used:
        return base
    for suffix in _suffixes():
        candidate = base + suffix
        if candidate.lower() not in used:
            return candidate
    raise AssertionError("unreachable")


def _suffixes() -> Iterable[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters
    for a in letters:
        for b in letters:
            yield a + b


def is_house_key(key: str) -> bool:
    """In the house alphabet that keys made by dlg-bib use (a foreign key need not be)."""
    return bool(HOUSE_KEY.match(key))


@dataclass(frozen=True)
class KeyListing:
    """What a member can cite an entry by: its key, legacy labels and aliases (`ids`)."""

    key: str
    legacy: list[str]
    aliases: list[str]
    title: str
    file: str
    line: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def key_listing(db: Database) -> list[KeyListing]:
    """Every entry's names, in database order."""
    return [
        KeyListing(e.key, e.legacy_labels, e.aliases, _title_text(e), str(e.file or ""), e.line)
        for e in db.entries
    ]


def _title_text(entry: Entry) -> str:
    try:
        return to_text(entry.get("title"))
    except ValueSyntaxError:  # a listing still helps while lint reports the broken value
        return entry.fields.get("title", "")
