"""What BibTeX and biblatex exports share: the facts read from an entry (arXiv id, date,
DOI, kind of work), the output record, field order and deterministic serialisation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote

from dlg_bib import ids
from dlg_bib.export import latex
from dlg_bib.model import Entry
from dlg_bib.values import MONTH_MACROS

MONTHS = tuple(MONTH_MACROS)  # jan … dec, index + 1 is the month number
_MONTH_BY_NAME = {name: i + 1 for i, name in enumerate(MONTHS)} | {
    full.lower(): i + 1 for i, full in enumerate(MONTH_MACROS.values())
}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_PAGE_RANGE = re.compile(r"^\s*([\w.]+)\s*(?:-+|\u2013|\u2014)\s*([\w.]+)\s*$")
_ARXIV_JOURNAL = re.compile(r"arxiv", re.IGNORECASE)

# Fields copied verbatim: identifiers and URLs (biblatex reads them verbatim; LaTeX-escaping
# them would corrupt links).
VERBATIM = frozenset({"url", "doi", "eprint", "urldate", "crossref", "ids", "isbn", "issn"})
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
        lines = [f"@{self.entry_type}{{{self.key},"]
        for name in sorted(self.fields, key=lambda n: (_RANK.get(n, len(_RANK)), n)):
            value = self.fields[name]
            shown = value if name in self.bare else "{" + value + "}"
            lines.append(f"  {name} = {shown},")
        lines.append("}")
        return "\n".join(lines)


def render_all(records: list[Record]) -> str:
    """The whole file: entries separated by one blank line, ending in a newline."""
    return "\n\n".join(r.render() for r in records) + ("\n" if records else "")


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
        self.texts = {name: entry.get(name) for name in entry.fields}

    def get(self, name: str, default: str = "") -> str:
        return self.texts.get(name, default)

    def has(self, name: str) -> bool:
        return bool(self.texts.get(name, "").strip())


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
    year = entry.get("year").strip()
    month = month_number(entry.get("month"))
    day = None
    date = entry.get("date").strip()
    match = _ISO_DATE.match(date) if date else None
    if match:
        year = year or match.group(1)
        if month is None and match.group(2):
            month = int(match.group(2))
            day = int(match.group(3)) if match.group(3) else None
    return year, month, day


def month_number(text: str) -> int | None:
    text = text.strip().rstrip(".").lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTH_BY_NAME.get(text) or _MONTH_BY_NAME.get(text[:3])


def pages(text: str) -> str:
    """`15-37` and `15–37` as `15--37` (the range dash every style expects)."""
    match = _PAGE_RANGE.match(text)
    return f"{match.group(1)}--{match.group(2)}" if match else text.strip()


def safe_url(url: str) -> str:
    """Percent-encode non-ASCII and spaces; ASCII URLs (with their `%`, `#`, `&`) stay."""
    url = url.strip()
    return url if url.isascii() and " " not in url else quote(url, safe=":/?#[]@!$&'()*+,;=%~")


@lru_cache(maxsize=65536)  # journals, venues, publishers and years repeat across entries
def field_value(name: str, text: str) -> str:
    """A field's LaTeX-safe value for the target file."""
    text = " ".join(text.split())
    if name in VERBATIM:
        return safe_url(text) if name == "url" else text
    if name == "pages":
        return pages(text)
    if name in TITLE_FIELDS:
        return latex.safe_text(latex.protect_title(text))
    return latex.safe_text(text)


def copied_fields(
    entry: FieldSource, dropped: frozenset[str], renamed: dict[str, str]
) -> dict[str, str]:
    """The entry's fields for a target format: dlg-only and `dropped` fields left out,
    `renamed` ones under the target's name; where both twins exist (`journal` and
    `journaltitle`), the target's own field wins."""
    fields: dict[str, str] = {}
    for name in entry.fields:
        if name in dropped or name.startswith("dlg-"):
            continue
        text = entry.get(name)
        if not text.strip():
            continue
        target = renamed.get(name, name)
        if target in fields and target != name:
            continue
        fields[target] = field_value(name, text)
    return fields
