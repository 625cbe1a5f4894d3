"""Entries as CSL-JSON items (schema: CSL 1.0.2 csl-data.json): the one mapping that
`export --format csl-json`, `cite` and the JSON index (`render.index`) share. Text is
decoded from LaTeX to Unicode; `crossref` children inherit from their parent (a chapter's
`container-title` is its book's title); arXiv preprints are CSL `article`s numbered
`arXiv:ID` and published by arXiv, which is how APA and IEEE cite them. Every field that
`pandoc -f bibtex -t csljson` keeps is kept (note, subtitle, translator, language,
abstract, keywords, biblatex's extras), under the variable pandoc uses.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from dlg_bib.bibtex import latex
from dlg_bib.bibtex.names import csl_name, parse_name, split_names
from dlg_bib.export import record
from dlg_bib.export.record import FieldSource, ResolvedOnUse
from dlg_bib.library import ids
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import Entry

TYPES = {
    "article": "article-journal",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "proceedings": "book",
    "book": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "techreport": "report",
    "report": "report",
    "manual": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "unpublished": "manuscript",
    "booklet": "pamphlet",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    # biblatex's own types, as pandoc maps them
    "mvbook": "book",
    "bookinbook": "chapter",
    "collection": "book",
    "mvcollection": "book",
    "reference": "book",
    "mvreference": "book",
    "inreference": "entry-encyclopedia",
    "mvproceedings": "book",
    "dataset": "dataset",
    "patent": "patent",
    "periodical": "periodical",
    "software": "software",
    "suppbook": "chapter",
    "suppcollection": "chapter",
    "suppperiodical": "article-journal",
}
# biblatex/babel language names to the BCP 47 tags CSL expects (pandoc's table, the common
# part); others are given as written.
_LANGUAGES = {
    "english": "en-US",
    "american": "en-US",
    "usenglish": "en-US",
    "british": "en-GB",
    "ukenglish": "en-GB",
    "german": "de-DE",
    "ngerman": "de-DE",
    "austrian": "de-AT",
    "naustrian": "de-AT",
    "french": "fr-FR",
    "italian": "it-IT",
    "spanish": "es-ES",
    "portuguese": "pt-PT",
    "brazil": "pt-BR",
    "dutch": "nl-NL",
    "swedish": "sv-SE",
    "danish": "da-DK",
    "norsk": "nb-NO",
    "finnish": "fi-FI",
    "polish": "pl-PL",
    "russian": "ru-RU",
    "greek": "el-GR",
    "latin": "la",
    "japanese": "ja-JP",
    "chinese": "zh-CN",
}
_THESIS_GENRE = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}
# Fields a child inherits from its crossref parent when it has none of its own.
_INHERITED = (
    "author",
    "editor",
    "publisher",
    "address",
    "location",
    "year",
    "month",
    "date",
    "isbn",
    "series",
    "number",  # with the series: the volume's number in it
    "volume",
    "edition",
    "url",
)
# Fields CSL holds as plain text, as pandoc maps them (`pandoc -f bibtex -t csljson`); the
# first of two fields for one variable wins.
_TEXT_VARIABLES = (
    ("note", "note"),
    ("addendum", "note"),
    ("annote", "annote"),
    ("annotation", "annote"),
    ("abstract", "abstract"),
    ("keywords", "keyword"),
    ("shorttitle", "title-short"),
    ("version", "version"),
    ("pubstate", "status"),
    ("volumes", "number-of-volumes"),
    ("eventtitle", "event"),
    ("venue", "event-place"),
    ("pagetotal", "number-of-pages"),
    ("origpublisher", "original-publisher"),
    ("origlocation", "original-publisher-place"),
    ("pmid", "PMID"),
    ("pmcid", "PMCID"),
)
# Fields whose text is the variable's value, as is.
_PLAIN_VARIABLES = (
    ("series", "collection-title"),
    ("volume", "volume"),
    ("chapter", "chapter-number"),
)
_RARE_FIELDS = frozenset(
    {field for field, _ in _TEXT_VARIABLES}
    | {"langid", "language", "translator", "bookauthor", "origdate", "origyear", "eventdate"}
    | {"location"}  # a patent's jurisdiction
)
_PLAIN_NUMBER = re.compile(r"^\d+$")
_PROCEEDINGS_OF = re.compile(r"^proceedings of (the )?", re.IGNORECASE)
_EDITION_WORDS = {
    word: i + 1
    for i, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth".split()
    )
}

Item = dict[str, Any]


def text(value: str) -> str:
    """Unicode text of a LaTeX value (math as Unicode too, braces gone); TeX that reads or
    writes files (`\\input{…}`) is kept as written, never dropped (the index's decoder)."""
    if value.isascii() and _NOT_PLAIN_TEXT.search(value) is None:
        return value.strip()  # what `to_text` gives for it: most values, ~90k per 10k items
    return latex.to_text(value).strip()


# What `to_text` would change in an ASCII value: LaTeX, ligature dashes and quotes, runs of
# white space.
_NOT_PLAIN_TEXT = re.compile(r"[\\{}$~%`'\t\n\r\f\v]|--|  ")


def to_items(
    entries: list[Entry],
    parents: dict[str, Entry] | None = None,
    *,
    sentence_case: bool = False,
    events: bool = False,
) -> list[Item]:
    """CSL items, in the given order; `parents` maps lowercased child keys to parents.

    With `sentence_case`, titles are given in sentence case, the form CSL styles expect (APA
    and IEEE print titles as given; Chicago title-cases them); otherwise as written."""
    parents = parents or {}
    items = []
    for entry in entries:
        parent = parents.get(entry.key.lower())
        items.append(
            to_item(
                ResolvedOnUse(entry),
                None if parent is None else ResolvedOnUse(parent),
                sentence_case=sentence_case,
                events=events,
            )
        )
    return items


def to_item(
    entry: FieldSource,
    parent: FieldSource | None = None,
    *,
    sentence_case: bool = False,
    events: bool = False,
) -> Item:
    own = entry.fields
    inherited = parent.fields if parent is not None else {}

    def get(name: str) -> str:
        if name not in own and name not in inherited:
            return ""  # most names asked for are in neither
        value = entry.get(name)
        if not value.strip() and parent is not None and name in _INHERITED:
            value = parent.get(name)
        return value.strip()

    # Whether it is an arXiv preprint decides the type, number, container, publisher and
    # URL: worked out once here, not by each of them.
    preprint = _is_preprint(entry)
    item: Item = {"id": entry.key, "citation-key": entry.key, "type": csl_type(entry, preprint)}
    _put_titles(item, entry, sentence_case)
    _put_names(item, "author", get("author"))
    _put_names(item, "editor", get("editor"))
    # The fields most entries lack, looked for only when present: this runs per entry of
    # the index and of every export.
    rare = own.keys() & _RARE_FIELDS
    if rare:
        _put_rare(item, entry, rare)
    _put_container(item, entry, parent, events, preprint)
    if sentence_case and item["type"] == "chapter" and "container-title" in item:
        # A chapter's container is a book, whose title is sentence-cased like any other.
        book = entry.get("booktitle") or (parent.get("title") if parent is not None else "")
        item["container-title"] = text(latex.sentence_case(book.strip()))
    names = own.keys() | inherited.keys()
    for field, variable in _PLAIN_VARIABLES:
        if field in names:
            _put(item, variable, text(get(field)))
    if "number" in names or preprint:
        _put_number(item, entry, get("number"), preprint)
    if "pages" in names:
        _put(item, "page", text(get("pages").replace("--", "-")))
    if "edition" in names:
        _put(item, "edition", _edition(text(get("edition"))))
    _put(item, "publisher", text(_publisher(entry, get, preprint)))
    if "address" in names or "location" in names:
        _put(item, "publisher-place", text(get("address") or get("location")))
    _put(item, "genre", _genre(entry))
    _put_issued(item, entry, parent)
    if "urldate" in own:
        _put(item, "accessed", _date_parts_of(entry.get("urldate").strip()))
    if "isbn" in names:
        _put(item, "ISBN", get("isbn"))
    if "issn" in own:
        _put(item, "ISSN", get("issn"))
    _put_identifiers(item, entry, get, preprint)
    return item


def _put_rare(item: Item, entry: FieldSource, rare: set[str]) -> None:
    _put(item, "language", _language(entry))
    _put_names(item, "translator", entry.get("translator").strip())
    _put_names(item, "container-author", entry.get("bookauthor").strip())
    for field, variable in _TEXT_VARIABLES:
        if field in rare and variable not in item:
            _put(item, variable, text(entry.get(field).strip()))
    _put(item, "original-date", _date_of(entry.get("origdate") or entry.get("origyear")))
    _put(item, "event-date", _date_of(entry.get("eventdate").strip()))
    if entry.entry_type == "patent":
        _put(item, "jurisdiction", text(entry.get("location").strip()))


def _put_titles(item: Item, entry: FieldSource, sentence_case: bool) -> None:
    """Title, volume title and short title as pandoc gives them: `Title: Subtitle. Addon`;
    with a biblatex `maintitle`, that is the title and the entry's own the volume title; the
    short title is `shorttitle`, or the title before its subtitle."""
    names = entry.fields.keys()
    if not names & _TITLE_PARTS:  # the usual entry: a title, nothing more
        title = entry.get("title").strip()
        _put(item, "title", text(latex.sentence_case(title) if sentence_case else title))
        if ":" in title:
            short = title.split(":", 1)[0]
            _put(item, "title-short", text(latex.sentence_case(short) if sentence_case else short))
        return
    own = _title(entry, "", sentence_case)
    main = _title(entry, "main", sentence_case)
    if main:
        _put(item, "title", main)
        _put(item, "volume-title", own)
    else:
        _put(item, "title", own)
    short = entry.get("shorttitle").strip()
    if short:
        _put(item, "title-short", text(short))
        return
    first = entry.get("maintitle" if main else "title").strip()
    has_subtitle = entry.has("mainsubtitle" if main else "subtitle")
    if not has_subtitle and ":" in first:
        first = first.split(":", 1)[0]
    elif not has_subtitle:
        return
    _put(item, "title-short", text(latex.sentence_case(first) if sentence_case else first))


_TITLE_PARTS = frozenset({"subtitle", "titleaddon", "shorttitle", "maintitle"})


def _title(entry: FieldSource, prefix: str, sentence_case: bool) -> str:
    parts = [entry.get(prefix + name).strip() for name in ("title", "subtitle")]
    title = ": ".join(part for part in parts if part)
    addon = entry.get(prefix + "titleaddon").strip()
    if addon:
        title = f"{title}. {addon}" if title else addon
    return text(latex.sentence_case(title) if sentence_case else title)


def _language(entry: FieldSource) -> str:
    name = (entry.get("langid") or entry.get("language")).strip()
    return _LANGUAGES.get(name.lower(), text(name))


def _arxiv_id(entry: FieldSource) -> str | None:
    return entry.arxiv_id if isinstance(entry, ResolvedOnUse) else record.arxiv_id(entry)


def _is_preprint(entry: FieldSource) -> bool:
    return entry.is_preprint if isinstance(entry, ResolvedOnUse) else record.is_preprint(entry)


def csl_type(entry: FieldSource, preprint: bool) -> str:
    if preprint:
        return "article"
    kind = TYPES.get(entry.entry_type)
    if kind:
        return kind
    return "webpage" if safe_url(entry.get("url")) else "document"


def _put(item: Item, name: str, value: Any) -> None:
    if value:
        item[name] = value


def _put_names(item: Item, role: str, value: str) -> None:
    if value:
        # Copies: the same people recur across entries, and items are handed to callers.
        item[role] = [dict(_decoded_name(written)) for written in split_names(value)]


@lru_cache(maxsize=16384)
def _decoded_name(written: str) -> dict[str, str]:
    """One name as written in a name list, as CSL: keyed by the text, not by its parsed
    `Name`, whose dataclass hash would be worked out again on every lookup."""
    return csl_name(parse_name(written), text)


_CONTAINER_FIELDS = ("journal", "journaltitle", "booktitle")


def _put_container(
    item: Item, entry: FieldSource, parent: FieldSource | None, events: bool, preprint: bool
) -> None:
    """Journal, proceedings, book or web site. With `events`, a conference paper without
    pages, volume or editors also names its event: IEEE cites those as talks ("presented
    at EVENT") and prints no venue otherwise; APA would print both, so it is opt-in."""
    fields = entry.fields
    container = ""
    for name in _CONTAINER_FIELDS:
        if name in fields:
            container = entry.get(name)
            if container:
                break
    if not container and parent is not None:
        container = parent.get("booktitle") or parent.get("title")
    if not container and entry.entry_type == "periodical":
        container = entry.get("title")  # an issue of a journal: the journal
    if preprint:
        container = ""
    elif not container and item["type"] == "webpage":
        container = entry.get("howpublished")  # the site: "Wikipedia", "Google AI Blog"
    container = text(container.strip())
    _put(item, "container-title", container)
    paper = item["type"] == "paper-conference"
    if events and paper and container and not _has_locators(entry, parent):
        event = _PROCEEDINGS_OF.sub("", container)
        item["event"] = item["event-title"] = event[:1].upper() + event[1:]


def _has_locators(entry: FieldSource, parent: FieldSource | None) -> bool:
    sources = [entry] if parent is None else [entry, parent]
    names = ("pages", "volume", "number", "editor")
    return any(source.has(name) for source in sources for name in names)


def _put_number(item: Item, entry: FieldSource, number: str, preprint: bool) -> None:
    arxiv = _arxiv_id(entry) if preprint else None
    if arxiv:
        item["number"] = f"arXiv:{arxiv}"
    elif (
        number and "collection-title" in item and item["type"] not in ("article-journal", "report")
    ):
        item["collection-number"] = text(number)  # the volume's number in its series
    elif number and item["type"] in ("article-journal", "paper-conference", "periodical"):
        item["issue"] = text(number)
    elif number:
        item["number"] = text(number)


def _publisher(entry: FieldSource, get: Any, preprint: bool) -> str:
    """Publisher, institution, school or organisation; `howpublished` of anything but a
    web page (whose site it names, as `container-title`), as pandoc does."""
    if preprint:
        return "arXiv"
    found = get("publisher") or get("institution") or get("school") or get("organization")
    if not found and not entry.has("url"):
        found = get("howpublished")  # a web page's is its site: `container-title`
    return str(found)


def _genre(entry: FieldSource) -> str:
    if entry.entry_type in _THESIS_GENRE:
        return _THESIS_GENRE[entry.entry_type]
    return text(entry.get("type").strip()) if "type" in entry.fields else ""


def _edition(value: str) -> str:
    """ "Third" -> "3", so styles print "3rd ed." in their own words."""
    number = _EDITION_WORDS.get(value.lower().removesuffix(" edition").strip())
    return str(number) if number else value


def _put_issued(item: Item, entry: FieldSource, parent: FieldSource | None) -> None:
    date = entry.get("date").strip() if "date" in entry.fields else ""
    if "/" in date and not entry.has("year"):
        issued = _date_of(date)  # a range, `1994-01/1994-02`: both ends
        if issued is not None:
            item["issued"] = issued
            return
    year, month, day = record.year_month_day(entry)
    if not year and parent is not None:
        year, month, day = record.year_month_day(parent)
    if not year:
        return
    if not _PLAIN_NUMBER.match(year):
        item["issued"] = {"literal": text(year)}
        return
    item["issued"] = {"date-parts": [_parts(year, month, day)]}


def _parts(year: str, month: int | None, day: int | None) -> list[int]:
    return [int(year)] + ([month] if month else []) + ([day] if month and day else [])


def _date_of(value: str) -> dict[str, Any] | None:
    """A biblatex date or range (`1924-02-03/1924-02-05`) as CSL date parts."""
    value = value.strip()
    ends = [record.single_date(end) for end in value.split("/", 1)] if value else []
    if not ends or not all(ends):
        return _date_parts_of(value)
    return {"date-parts": [_parts(*end) for end in ends if end]}


def _date_parts_of(value: str) -> dict[str, Any] | None:
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value)
    if not match:
        return None
    return {"date-parts": [[int(p) for p in match.groups() if p]]}


def _put_identifiers(item: Item, entry: FieldSource, get: Any, preprint: bool) -> None:
    if "doi" in entry.fields:
        _put(item, "DOI", record.doi_of(entry))
    url = str(get("url"))
    if not url and preprint:
        item["URL"] = ids.arxiv_abs_url(str(_arxiv_id(entry)))  # a checked id: a safe URL
        return
    if not url:
        url = _eprint_url(entry)
    url = safe_url(url)  # http(s) only: `javascript:` is no link
    if url:
        item["URL"] = url


# Where biblatex's `eprinttype`s live (as pandoc links them).
_EPRINT_URLS = {
    "arxiv": "https://arxiv.org/abs/",
    "googlebooks": "https://books.google.com?id=",
    "jstor": "https://www.jstor.org/stable/",
    "pubmed": "https://www.ncbi.nlm.nih.gov/pubmed/",
    "hdl": "https://hdl.handle.net/",
}


def _eprint_url(entry: FieldSource) -> str:
    if "eprint" not in entry.fields:
        return ""
    eprint = entry.get("eprint").strip()
    kind = (entry.get("eprinttype") or entry.get("archiveprefix")).strip().lower()
    base = _EPRINT_URLS.get(kind)
    return base + eprint if base and eprint and " " not in eprint else ""


# ---- JSON -----------------------------------------------------------------------------------

# One item a line, as `json.dumps(item, ensure_ascii=False, sort_keys=True)` writes it: the
# layout of the JSON index too. Diff-friendly, and written by the json module's C encoder
# (with `indent`, the standard library falls back to its pure-Python encoder, which took
# longer than building the items on big exports).
ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, check_circular=False)


def to_json(items: list[Item]) -> str:
    """A JSON array of `items`, one a line."""
    return json_lines([ENCODER.encode(item) for item in items])


def json_lines(encoded: list[str]) -> str:
    """A JSON array of already-encoded values, one a line."""
    return "[\n" + ",\n".join(encoded) + "\n]\n" if encoded else "[]\n"
