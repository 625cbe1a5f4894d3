"""What BibTeX and biblatex exports share: the facts read from an entry (arXiv id, date,
DOI, kind of work), the output record, field order and deterministic serialisation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote

from dlg_bib.bibtex import latex, values
from dlg_bib.bibtex.datamodel import reaches_bbl
from dlg_bib.bibtex.values import MONTH_MACROS
from dlg_bib.library import ids
from dlg_bib.library.model import Entry

MONTHS = tuple(MONTH_MACROS)  # jan … dec, index + 1 is the month number
_MONTH_MACRO_NAMES = frozenset(MONTHS)
_MONTH_BY_NAME = {name: i + 1 for i, name in enumerate(MONTHS)} | {
    full.lower(): i + 1 for i, full in enumerate(MONTH_MACROS.values())
}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
# One date as biblatex writes it: `1994`, `1994-01`, `1994-01-31` (no range, no time).
_SINGLE_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_PAGE_RANGE = re.compile(r"^\s*([\w.]+)\s*(?:-+|\u2013|\u2014)\s*([\w.]+)\s*$")
_ARXIV_JOURNAL = re.compile(r"arxiv", re.IGNORECASE)

# Fields copied verbatim: identifiers and URLs (biblatex reads them verbatim; LaTeX-escaping
# them would corrupt links).
VERBATIM = frozenset(
    {"url", "doi", "eprint", "urldate", "crossref", "ids", "isbn", "issn", "file", "pdf"}
)
NAME_FIELDS = frozenset({"author", "editor", "bookauthor", "translator"})
TITLE_FIELDS = frozenset({"title"})

# The order fields are written in; others follow alphabetically.
FIELD_ORDER = (
    "author editor key title subtitle booktitle journal journaltitle chapter edition series "
    "volume number pages publisher institution organization school address location "
    "howpublished type year month date note isbn issn doi eprint archiveprefix primaryclass "
    "eprinttype eprintclass url urldate crossref ids"
).split()
_RANK = {name: i for i, name in enumerate(FIELD_ORDER)}


@dataclass
class Record:
    """One exported entry: type, key and final field values (LaTeX, without outer braces).

    `bare` names fields written without braces (BibTeX month macros such as `jun`)."""

    entry_type: str
    key: str
    fields: dict[str, str]
    bare: set[str] = field(default_factory=set)

    def render(self) -> str:
        fields = self.fields
        bare = self.bare
        lines = [f"@{self.entry_type}{{{self.key},"]
        for name in field_order(tuple(fields)):
            if name in bare:
                lines.append(f"  {name} = {fields[name]},")
            else:
                lines.append(f"  {name} = {{{fields[name]}}},")
        lines.append("}")
        return "\n".join(lines)


@lru_cache(maxsize=1024)  # records of one kind share their field names
def field_order(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` in writing order: `FIELD_ORDER`, then the others alphabetically."""
    return tuple(sorted(names, key=lambda n: (_RANK.get(n, len(_RANK)), n)))


def render_all(records: list[Record]) -> str:
    """The whole file: entries separated by one blank line, ending in a newline."""
    return "\n\n".join([r.render() for r in records]) + ("\n" if records else "")


# ---- facts read from an entry ------------------------------------------------------------


class FieldSource(Protocol):
    """What the mapping reads: an `Entry`, or a `Resolved` view of one."""

    key: str
    entry_type: str

    @property
    def fields(self) -> Mapping[str, str]: ...

    def get(self, name: str, default: str = "") -> str: ...

    def has(self, name: str) -> bool: ...


class Resolved:
    """An entry with every field's text resolved once: the writers read some fields several
    times, and resolving (`@string` macros, enclosing) is the costly part on big exports."""

    __slots__ = ("entry_type", "fields", "key", "texts")

    def __init__(self, entry: Entry) -> None:
        self.key = entry.key
        self.entry_type = entry.entry_type
        self.fields: Mapping[str, str] = entry.fields
        self.texts = resolved_texts(entry)

    def get(self, name: str, default: str = "") -> str:
        return self.texts.get(name, default)

    def has(self, name: str) -> bool:
        return bool(self.texts.get(name, "").strip())


class ResolvedOnUse:
    """An entry whose fields' texts are resolved on first use and then kept: for writers
    that read some fields several times and others never (CSL), so a field it never
    reads cannot fail it. `texts`: field texts already resolved (as `Entry.get` gives
    them), when the caller has them."""

    __slots__ = ("_arxiv", "_entry", "_preprint", "_texts", "entry_type", "fields", "key")

    def __init__(self, entry: Entry, texts: dict[str, str] | None = None) -> None:
        self._entry = entry
        self._texts: dict[str, str] = {} if texts is None else texts
        self.key = entry.key
        self.entry_type = entry.entry_type
        self.fields: Mapping[str, str] = entry.fields
        self._arxiv: tuple[str | None] | None = None  # (id,) once worked out
        self._preprint: bool | None = None

    @property
    def arxiv_id(self) -> str | None:
        """`arxiv_id(self)`, worked out once."""
        if self._arxiv is None:
            fields = self.fields
            has_id = "eprint" in fields or "url" in fields  # where `arxiv_id` looks
            self._arxiv = (arxiv_id(self) if has_id else None,)
        return self._arxiv[0]

    @property
    def is_preprint(self) -> bool:
        """`is_preprint(self)`, worked out once."""
        if self._preprint is None:
            self._preprint = self.arxiv_id is not None and is_preprint(self, self.arxiv_id)
        return self._preprint

    def get(self, name: str, default: str = "") -> str:
        text = self._texts.get(name)
        if text is None:
            raw = self.fields.get(name)
            if raw is None:
                return default
            if raw[:1] == "{" and raw[-1:] == "}" and "#" not in raw:
                text = raw[1:-1]  # what `Entry.get` returns for it, without two calls
            elif raw.isdigit():
                text = raw  # `year = 2020`
            elif raw.isalpha() and raw.isascii():  # one macro, `jul`: as `values.resolve`
                name = raw.lower()
                strings = self._entry.strings
                text = strings[name] if name in strings else MONTH_MACROS.get(name, raw)
            else:
                text = self._entry.get(name)
            self._texts[name] = text
        return text

    def has(self, name: str) -> bool:
        return bool(self.get(name).strip())


def resolved_texts(entry: Entry) -> dict[str, str]:
    """Every field's text (`Entry.get`), with the common `{…}` case inlined: this runs for
    every field of every exported entry."""
    texts: dict[str, str] = {}
    for name, raw in entry.fields.items():
        if raw[:1] == "{" and raw[-1:] == "}" and "#" not in raw:
            texts[name] = raw[1:-1]  # what `values.resolve` returns for it
        else:
            texts[name] = entry.get(name)
    return texts


def arxiv_id(entry: FieldSource) -> str | None:
    """The arXiv id of an entry, from `eprint` (arXiv prefix or type) or an arxiv.org URL."""
    prefix = (entry.get("archiveprefix") or entry.get("eprinttype")).strip().lower()
    eprint = entry.get("eprint").strip()
    if eprint and prefix in ("", "arxiv"):
        parsed = ids.parse_arxiv_id(eprint)
        if parsed:
            return parsed[0]
    url = entry.get("url")
    if "arxiv.org/" in url:
        parsed = ids.parse_arxiv_id(url)
        if parsed:
            return parsed[0]
    return None


def arxiv_class(entry: FieldSource, arxiv: str) -> str:
    """The primary class (`cs.LG`), from the entry or an old-style id (`math/0211159`)."""
    return (
        entry.get("primaryclass").strip()
        or entry.get("eprintclass").strip()
        or ids.arxiv_category_of(arxiv)
        or ""
    )


def is_preprint(entry: FieldSource, arxiv: str | None = None) -> bool:
    """An arXiv preprint with no published venue (the form to cite as "arXiv preprint …").
    `arxiv`: the entry's `arxiv_id`, when the caller has it already."""
    if (arxiv or arxiv_id(entry)) is None:
        return False
    if entry.entry_type in ("misc", "online", "unpublished", "electronic"):
        return True
    journal = entry.get("journal") or entry.get("journaltitle")
    return entry.entry_type == "article" and (not journal or bool(_ARXIV_JOURNAL.search(journal)))


def doi_of(entry: FieldSource) -> str | None:
    value = entry.get("doi")
    return ids.normalize_doi(value) if value else None


def year_month_day(entry: FieldSource) -> tuple[str, int | None, int | None]:
    """Year (as text), month and day numbers from `year`/`month`, or else `date`."""
    fields = entry.fields  # asked first: most entries lack some of the three
    year = entry.get("year").strip() if "year" in fields else ""
    month = month_number(entry.get("month")) if "month" in fields else None
    day = None
    date = entry.get("date").strip() if "date" in fields else ""
    match = _ISO_DATE.match(date) if date else None
    if match:
        year = year or match.group(1)
        if month is None and match.group(2):
            month = int(match.group(2))
            day = int(match.group(3)) if match.group(3) else None
    return year, month, day


def single_date(text: str) -> tuple[str, int | None, int | None] | None:
    """(year, month, day) of a `date` that is one plain date (`1994-01`); None for ranges
    (`1994-01/1994-02`), open ends, times or anything else a rewrite would lose."""
    match = _SINGLE_DATE.fullmatch(text.strip())
    if not match:
        return None
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    return match.group(1), month, day


def month_number(text: str) -> int | None:
    """The month a value names as a whole (`jun`, `June`, `6`, `Jun.`), else None:
    `Summer`, `10~January` and `January / February` name no single month."""
    text = text.strip().rstrip(".").lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTH_BY_NAME.get(text) or (9 if text == "sept" else None)


def month_as_written(entry: FieldSource) -> tuple[str, bool]:
    """A `month` that names no single month, carried through as written: (value, bare).
    Concatenations of month macros and strings (`"10~" # jan`) stay bare, since every
    style defines the month macros; other values become their LaTeX-safe text."""
    raw = entry.fields.get("month", "").strip()
    if "#" in raw or raw.lower() in _MONTH_MACRO_NAMES:
        names = values.macro_names(raw)
        if names and all(name.lower() in _MONTH_MACRO_NAMES for name in names):
            return raw, True
    return field_value("month", entry.get("month")), False


def pages(text: str) -> str:
    """`15-37` and `15–37` as `15--37` (the range dash every style expects)."""
    match = _PAGE_RANGE.match(text)
    return f"{match.group(1)}--{match.group(2)}" if match else text.strip()


def percent_encoded_url(url: str) -> str:
    """Percent-encode non-ASCII and spaces; ASCII URLs (with their `%`, `#`, `&`) stay."""
    url = url.strip()
    return url if url.isascii() and " " not in url else quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def field_value(name: str, text: str) -> str:
    """A field's LaTeX-safe value for the target file."""
    text = " ".join(text.split())
    if name in VERBATIM:
        return percent_encoded_url(text) if name == "url" else text
    if not reaches_bbl(name):
        # No style prints it (ADS's `adsurl`, dblp's `biburl`): LaTeX never reads it, and
        # escaping would only corrupt it (`2013A%26A` -> `2013A\%26A`).
        return text
    if name == "pages":
        return pages(text)
    if name in TITLE_FIELDS:
        return latex.safe_text(latex.protect_title(text))
    return latex.safe_text(text)


class FieldCopier:
    """The entry's fields for a target format: dlg-only and `dropped` fields left out,
    `renamed` ones under the target's name; where both twins exist (`journal` and
    `journaltitle`), the target's own field wins.

    Which fields to copy, and under which names, depends only on the entry's field names,
    which repeat across entries: that plan is worked out once per set of names."""

    def __init__(self, dropped: frozenset[str], renamed: dict[str, str]) -> None:
        self.dropped = dropped
        self.renamed = renamed
        self._plans: dict[tuple[str, ...], list[tuple[str, str, bool]]] = {}

    def __call__(self, entry: FieldSource) -> dict[str, str]:
        texts = entry.texts if isinstance(entry, Resolved) else _texts_of(entry)
        names = tuple(texts)
        plan = self._plans.get(names)
        if plan is None:
            plan = self._plans[names] = self._plan(names)
        fields: dict[str, str] = {}
        for name, target, is_renamed in plan:
            if is_renamed and target in fields:
                continue
            value = field_value(name, texts[name])
            if value:  # empty exactly when the text is blank
                fields[target] = value
        return fields

    def _plan(self, names: tuple[str, ...]) -> list[tuple[str, str, bool]]:
        """(field, target name, renamed?) for each field to copy, in the entry's order."""
        plan = []
        for name in names:
            if name in self.dropped or name.startswith("dlg-"):
                continue
            target = self.renamed.get(name, name)
            plan.append((name, target, target != name))
        return plan


def _texts_of(entry: FieldSource) -> dict[str, str]:
    return {name: entry.get(name) for name in entry.fields}
