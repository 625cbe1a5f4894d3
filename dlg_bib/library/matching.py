"""Comparing a remote record with an entry: titles, person names and years, all pure.

Shared by `published` (dblp candidates for a preprint), `openaccess` (OpenAlex/Unpaywall
works for an entry), `lint` and `importer` (two entries of one work). Remote names and
titles are plain Unicode; entry values are LaTeX, so both sides go through the same folding:
LaTeX -> text, accents dropped, case folded, everything that is not a letter or a digit
removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from dlg_bib.bibtex.latex import to_text
from dlg_bib.bibtex.names import parse_names
from dlg_bib.library import ids
from dlg_bib.library.model import Entry

# dblp makes every name unique with a 4-digit number: "Jian Sun 0001".
_HOMONYM = re.compile(r"\s+\d{4}$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# Letters NFKD leaves whole, spelled as ascii_fold spells them.
_FOLD_LETTERS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "đ": "d"}
)


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits, words separated by single spaces."""
    plain = to_text(text)
    if not plain.isascii():
        plain = _ascii_letters(plain)
    return " ".join(_NOT_ALNUM.sub(" ", plain.lower()).split())


def _ascii_letters(text: str) -> str:
    """What ascii_fold gives, as far as letters and digits go (all that fold keeps),
    without a Python loop over every character."""
    decomposed = unicodedata.normalize("NFKD", text).translate(_FOLD_LETTERS)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def title_key(title: str) -> str:
    """`{BERT}: Pre-training of …` and `BERT: Pre-Training of ….` give the same key."""
    if "\\" in title:
        # The key keeps letters and digits only, so LaTeX needs no decoding to Unicode:
        # an accent command goes (`{\"U}ber` -> `Uber`, as Über folds), a macro leaves its
        # argument (`\emph{Deep}` -> `Deep`), a letter macro is its letters. Ten times
        # faster than decoding, and lint keys every title of the database.
        title = _KEY_MACRO.sub(_key_macro, title)
    plain = title if title.isascii() else _ascii_letters(title)
    return _NOT_ALNUM.sub("", plain.lower())


_KEY_MACRO = re.compile(r"\\([A-Za-z]+)|\\.")
# Macros that print letters (as ascii_fold spells them), and logos.
_KEY_LETTERS = {
    **dict.fromkeys(["ss", "ae", "AE", "oe", "OE", "o", "O", "l", "L", "i", "j"]),
    "aa": "a",
    "AA": "A",
    "ell": "l",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "BibTeX": "BibTeX",
}


def _key_macro(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is None or name not in _KEY_LETTERS:
        return ""
    return _KEY_LETTERS[name] or name


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


# ---- one work, two entries ---------------------------------------------------------------

# Words a venue's abbreviation drops: "J. Mach. Learn. Res." is the Journal *of* ….
_VENUE_STOPWORDS = frozenset("of the and on in for a an to at de".split())
_MIN_TITLE = 12  # shorter titles ("Editorial", "Preface") say nothing about the work


@dataclass(slots=True)
class WorkFacts:
    """What tells two entries' works apart, folded for comparison ("" when unknown).

    Identifiers and the title are read at once (the index needs them); the rest only when
    two titles meet, which is rare: folding every venue of a large database costs more
    than all of lint's other rules.
    """

    entry: Entry
    key: str
    doi: str
    arxiv: str
    title: str  # title_key; "" when too short to identify a work
    related: frozenset[str]  # keys of its crossref parent and biblatex `related` entries
    _details: WorkDetails | None = None

    @property
    def details(self) -> WorkDetails:
        if self._details is None:
            self._details = _details(self.entry)
        return self._details


@dataclass(frozen=True)
class WorkDetails:
    first_author: str
    year: str
    journal: tuple[str, ...]
    booktitle: tuple[str, ...]
    volume: str
    number: str
    first_page: str
    chapter: str


def work_facts(entry: Entry) -> WorkFacts:
    doi = ids.normalize_doi(entry.get("doi")) if "doi" in entry.fields else None
    arxiv = ids.parse_arxiv_id(entry.get("eprint")) if "eprint" in entry.fields else None
    title = title_key(entry.get("title"))
    return WorkFacts(
        entry=entry,
        key=entry.key.lower(),
        doi=doi.lower() if doi else "",
        arxiv=arxiv[0] if arxiv else "",
        title=title if len(title) >= _MIN_TITLE else "",
        related=_related_keys(entry) if _relates(entry.fields) else _NONE,
    )


def _details(entry: Entry) -> WorkDetails:
    year = year_of(entry.get("year") or entry.get("date"))
    page = re.search(r"\d+", entry.get("pages"))
    return WorkDetails(
        first_author=_first_author(entry),
        year=str(year) if year else "",
        journal=_venue_words(entry.get("journal") or entry.get("journaltitle")),
        booktitle=_venue_words(entry.get("booktitle")),
        volume=fold(entry.get("volume")),
        number=fold(entry.get("number") or entry.get("issue")),
        first_page=page.group(0).lstrip("0") if page else "",
        chapter=fold(entry.get("chapter")),
    )


def _first_author(entry: Entry) -> str:
    names = parse_names(entry.get("author") or entry.get("editor"))
    if not names:
        return ""
    return fold(names[0].family or names[0].literal).replace(" ", "")


def _venue_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in fold(text).split() if w not in _VENUE_STOPWORDS)


def _abbreviates(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Each word of `short` starts a word of `long`, in order: "j mach learn res" and
    "journal machine learning research"; "neurips 2017" does not abbreviate "advances …"."""
    rest = iter(long)
    return all(any(word.startswith(s) for word in rest) for s in short)


def _same_venue(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if len(a) > len(b):
        a, b = b, a
    return _abbreviates(a, b)


def contradiction(a: WorkFacts, b: WorkFacts) -> str:
    """Why two entries with the same title and first author are different works ("" when
    nothing they both give disagrees): a recurring column ("Greetings from the Editor") has
    one title in every issue, but its year, volume, number or pages differ."""
    if a.doi and b.doi and a.doi != b.doi:
        return f"different DOIs ({a.doi}, {b.doi})"
    if a.arxiv and b.arxiv and a.arxiv != b.arxiv:
        return f"different arXiv ids ({a.arxiv}, {b.arxiv})"
    mine, theirs = a.details, b.details
    for name in ("year", "volume", "number", "first_page", "chapter"):
        one, other = getattr(mine, name), getattr(theirs, name)
        if one and other and one != other:
            return f"different {name.replace('_', ' ')} ({one}, {other})"
    for name in ("journal", "booktitle"):
        words, others = getattr(mine, name), getattr(theirs, name)
        if words and others and not _same_venue(words, others):
            return f"different {name} ({' '.join(words)}, {' '.join(others)})"
    return ""


def _related(a: WorkFacts, b: WorkFacts) -> bool:
    """A chapter and its book share title and authors through crossref, a reprint and its
    original through biblatex's `related`: two readings, each cited on its own."""
    return b.key in a.related or a.key in b.related


_NONE: frozenset[str] = frozenset()


def _relates(fields: dict[str, str]) -> bool:
    return "crossref" in fields or "related" in fields


def _related_keys(entry: Entry) -> frozenset[str]:
    keys = [entry.get("crossref"), *entry.get("related").split(",")]
    return frozenset(k.strip().lower() for k in keys if k.strip())


@dataclass(frozen=True)
class WorkMatch:
    """The entry holding the same work (`entry`, `why`: the identity that decided), or the
    entries that looked the same by title and first author but were not (`rejected`)."""

    entry: Entry | None = None
    why: str = ""
    rejected: tuple[tuple[Entry, str], ...] = ()


_NO_MATCH = WorkMatch()  # most entries: one shared answer


class WorkIndex:
    """Entries by what identifies their work: DOI and arXiv id decide when present; a title
    and first author match counts only when nothing else contradicts it."""

    def __init__(self) -> None:
        self._by_doi: dict[str, tuple[Entry, WorkFacts]] = {}
        self._by_arxiv: dict[str, tuple[Entry, WorkFacts]] = {}
        self._by_title: dict[str, list[tuple[Entry, WorkFacts]]] = {}

    def add(self, entry: Entry, facts: WorkFacts | None = None) -> None:
        facts = facts or work_facts(entry)
        if facts.doi:
            self._by_doi.setdefault(facts.doi, (entry, facts))
        if facts.arxiv:
            self._by_arxiv.setdefault(facts.arxiv, (entry, facts))
        if facts.title:
            self._by_title.setdefault(facts.title, []).append((entry, facts))

    def match(self, facts: WorkFacts) -> WorkMatch:
        for kind, index, value in (
            ("DOI", self._by_doi, facts.doi),
            ("arXiv id", self._by_arxiv, facts.arxiv),
        ):
            hit = index.get(value) if value else None
            if hit is None or _related(facts, hit[1]):
                continue
            # Same arXiv id but two different DOIs: two versions the authors published apart.
            if not (facts.doi and hit[1].doi and facts.doi != hit[1].doi):
                return WorkMatch(hit[0], kind)
        same_title = self._by_title.get(facts.title) if facts.title else None
        if not same_title:
            return _NO_MATCH
        rejected: list[tuple[Entry, str]] = []
        for entry, other in same_title:
            if _related(facts, other):
                continue
            if facts.details.first_author != other.details.first_author:
                continue
            reason = contradiction(facts, other)
            if not reason:
                return WorkMatch(entry, "title and first author", tuple(rejected))
            rejected.append((entry, reason))
        return WorkMatch(rejected=tuple(rejected))
