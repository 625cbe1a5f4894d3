"""The JSON index: group, meta-topics, sessions and references as CSL-JSON items.

Each reference is a CSL-JSON item (valid against the CSL 1.0.2 input schema) whose
dlg-specific data (topics, sessions and roles, legacy labels, links) sits in the schema's
own extension object, `custom`, under `custom.dlg`. `csl_items` alone is what
`pandoc --citeproc` reads. The output is deterministic: sorted keys, no dates of rendering.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from dlg_bib.export.csl import csl_name
from dlg_bib.gcpause import collector_paused
from dlg_bib.model import Database, Entry
from dlg_bib.names import parse_name
from dlg_bib.render.context import (
    Context,
    Fields,
    Reference,
    build_context,
    decode,
    fields_of,
)
from dlg_bib.render.escape import safe_url
from dlg_bib.render.output import write_file

INDEX_VERSION = 1
SCHEMA_NAME = "dlg-index.schema.json"

# BibTeX/biblatex entry types to CSL types (what pandoc and biblatex2csl do).
CSL_TYPES = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "collection": "book",
    "conference": "paper-conference",
    "dataset": "dataset",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "manual": "report",
    "mastersthesis": "thesis",
    "misc": "document",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "patent": "patent",
    "periodical": "periodical",
    "phdthesis": "thesis",
    "proceedings": "book",
    "report": "report",
    "software": "software",
    "techreport": "report",
    "thesis": "thesis",
    "unpublished": "manuscript",
}
THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def csl_type(entry: Entry, fields: Fields) -> str:
    kind = CSL_TYPES.get(entry.entry_type, "document")
    if kind == "article-journal" and not (fields.get("journal") or fields.get("journaltitle")):
        return "article"  # a preprint: arXiv, a report without a journal
    if kind == "document" and fields.get("eprint"):
        return "article"
    return kind


@lru_cache(maxsize=1 << 16)
def _csl_person(text: str) -> dict[str, str]:
    # Cached by the name as written: people recur across entries. Callers copy it.
    return csl_name(parse_name(text), decode)


def csl_names(fields: Fields, name: str) -> list[dict[str, str]]:
    return [dict(_csl_person(part)) for part in fields.names(name)]


def csl_issued(fields: Fields) -> dict[str, Any] | None:
    year = fields.text("year")
    if not year:
        return None
    if not year.isdigit():
        return {"literal": year}
    parts = [int(year)]
    month = fields.get("month").strip().lower()[:3]
    number = _MONTHS.get(month) or (int(month) if month.isdigit() else 0)
    if 1 <= number <= 12:
        parts.append(number)
    return {"date-parts": [parts]}


_PAGE_RANGE = re.compile(r"\s*(?:--?|–)\s*")


def _pages(text: str) -> str:
    return _PAGE_RANGE.sub("-", text) if text else ""


def _fields(ref: Reference, entry: Entry, db: Database) -> Fields:
    """The entry's resolved fields: those the reference was built from, when it was."""
    if ref.fields is not None and ref.fields.entry is entry:
        return ref.fields
    return fields_of(entry, db)


# CSL variables taken straight from a field's text (most entries have none of these).
_CSL_TEXT_FIELDS = (
    ("collection-title", "series"),
    ("publisher-place", "address"),
    ("edition", "edition"),
    ("chapter-number", "chapter"),
    ("ISBN", "isbn"),
    ("ISSN", "issn"),
)


def csl_item(ref: Reference, entry: Entry, db: Database, *, with_dlg: bool) -> dict[str, Any]:
    """One CSL-JSON item; with `with_dlg`, the dlg data under `custom.dlg`."""
    fields = _fields(ref, entry, db)
    text = fields.text
    kind = csl_type(entry, fields)
    item: dict[str, Any] = {"id": ref.key, "citation-key": ref.key, "type": kind}
    journal_like = kind in ("article-journal", "article")
    number = "" if journal_like else ref.number
    url = safe_url(fields.get("url"))
    if ref.arxiv and not ref.container:
        number = f"arXiv:{ref.arxiv}"
        url = url or f"https://arxiv.org/abs/{ref.arxiv}"
    text_fields = {
        "title": ref.title,
        "container-title": ref.container,
        "publisher": ref.publisher or text("school") or text("institution"),
        "volume": ref.volume,
        "issue": ref.number if journal_like else "",
        "number": number,
        "page": _pages(ref.pages),
        "genre": THESIS_GENRES.get(entry.entry_type, ""),
        "DOI": ref.doi,
        "URL": url,
        "abstract": ref.abstract,
    }
    for variable, name in _CSL_TEXT_FIELDS:
        text_fields[variable] = text(name)
    item.update({k: v for k, v in text_fields.items() if v})
    authors = csl_names(fields, "author")
    if authors:
        item["author"] = authors
    editors = csl_names(fields, "editor")
    if editors:
        item["editor"] = editors
    issued = csl_issued(fields)
    if issued:
        item["issued"] = issued
    if with_dlg:
        item["custom"] = {"dlg": dlg_data(ref, entry)}
    return item


def dlg_data(ref: Reference, entry: Entry) -> dict[str, Any]:
    return {
        "bibtex_type": entry.entry_type,
        "topics": ref.topics,
        "sessions": [{"date": t.date, "role": t.role} for t in entry.sessions],
        "legacy": ref.legacy,
        "placeholder": ref.placeholder,
        "note": ref.note,
        "arxiv": ref.arxiv,
        "links": [{"kind": k.kind, "label": k.label, "url": k.url} for k in ref.links],
        "citation": ref.citation,
        "text": ref.text,
        "free_copy": free_copy(ref),
    }


def free_copy(ref: Reference) -> dict[str, str]:
    """The legal free copy as recorded by `enrich` (url, version, license, host) or its note."""
    fields = ref.fields
    if fields is None:
        return {}
    url = safe_url(fields.get("oaurl"))
    if url:
        found = {"url": url, "version": fields.text("oaversion")}
        found |= {"license": fields.text("oalicense"), "host": fields.text("oahost")}
        return {k: v for k, v in found.items() if v}
    note = fields.text("oanote")
    return {"note": note} if note else {}


def csl_items(ctx: Context, db: Database, *, with_dlg: bool = False) -> list[dict[str, Any]]:
    entries = {e.key: e for e in db.entries}
    return [csl_item(r, entries[r.key], db, with_dlg=with_dlg) for r in ctx.references]


def index_document(ctx: Context, db: Database) -> dict[str, Any]:
    g = ctx.group
    return {
        "version": INDEX_VERSION,
        "group": {
            "name": g.name,
            "short_name": g.short_name,
            "term": g.term,
            "organiser": g.organiser,
            "organiser_url": safe_url(g.organiser_url),
            "day": g.day,
            "start_time": g.start_time,
            "end_time": g.end_time,
            "room": g.room,
            "repository": safe_url(g.repository),
            "description": g.description,
            "meeting_format": g.meeting_format,
        },
        "topics": [{"id": t.id, "title": t.title, "sessions": t.sessions} for t in ctx.topics],
        "sessions": [
            {
                "date": s.date,
                "title": s.title,
                "topic": s.topic,
                "notes": s.notes,
                "readings": [
                    {"key": r.key, "role": role}
                    for role, refs in (
                        ("main", s.main),
                        ("reading", s.readings),
                        ("prerequisite", s.prerequisites),
                    )
                    for r in refs
                ],
            }
            for s in ctx.sessions
        ],
        "references": csl_items(ctx, db, with_dlg=True),
    }


# One encoder for the 10,000 lines of a big index, not one per line. The data is a tree
# built here (no cycles), so the encoder need not track containers to detect them.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, check_circular=False)


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


def dumps(document: Any) -> str:
    """JSON with one line per reference (or per session, topic): diff-friendly, and fast.

    `json.dumps(indent=…)` runs Python's pure-Python encoder, about 20x slower than the C
    one on a 10,000-entry index; each line here is a C-encoded compact value.
    """
    if isinstance(document, list):
        return "[\n" + ",\n".join(_compact(v) for v in document) + "\n]\n"
    lines = []
    for key in sorted(document):
        value = document[key]
        if isinstance(value, list) and value:
            inner = ",\n".join("    " + _compact(v) for v in value)
            lines.append(f"  {_compact(key)}: [\n{inner}\n  ]")
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


@collector_paused()
def build_index(db: Database, *, csl_only: bool = False) -> str:
    """The index (or, with `csl_only`, the plain CSL-JSON array) as JSON text."""
    # `today` only decides which session is next, which the index does not record.
    ctx = build_context(db, dt.date.min)
    if csl_only:
        return dumps(csl_items(ctx, db, with_dlg=False))
    return dumps(index_document(ctx, db))


def write(path: Path, text: str) -> None:
    write_file(path, text.encode("utf-8"))
