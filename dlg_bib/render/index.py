"""The JSON index: group, meta-topics, sessions and references as CSL-JSON items.

Each reference is a CSL-JSON item (valid against the CSL 1.0.2 input schema) whose
dlg-specific data (topics, sessions and roles, legacy labels, links) sits in the schema's
own extension object, `custom`, under `custom.dlg`. `csl_items` alone is what
`pandoc --citeproc` reads. The output is deterministic: sorted keys, no dates of rendering.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from dlg_bib.export import csl
from dlg_bib.export.record import ResolvedOnUse
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import F_SESSIONS, Database, Entry
from dlg_bib.render.context import Context, Link, Reference, build_context
from dlg_bib.render.output import write_file

INDEX_VERSION = 1
SCHEMA_NAME = "dlg-index.schema.json"

# Each reference is one line of JSON, encoded by the json module's C encoder (compact, sorted
# keys); `json.dumps(indent=…)` would run the pure-Python encoder, about 20x slower.
_string = json.encoder.encode_basestring  # ensure_ascii=False escaping, in C
_TRUE_FALSE = ("false", "true")
_ENCODER = csl.ENCODER  # one encoder, not one per line


def _object(members: dict[str, str]) -> str:
    """A JSON object of already-encoded values, keys sorted as `sort_keys=True` sorts them."""
    return "{" + ", ".join([_string(k) + ": " + members[k] for k in sorted(members)]) + "}"


def _strings(values: list[str]) -> str:
    return "[" + ", ".join(map(_string, values)) + "]" if values else "[]"


def csl_item(
    entry: Entry, parent: Entry | None, dlg: str = "", texts: dict[str, str] | None = None
) -> str:
    """One CSL-JSON item, encoded: the mapping `export` and `cite` use (`export.csl`), so
    the index, `export --format csl-json` and `cite` agree on every item. `dlg`: the
    encoded dlg data, put under `custom.dlg` (CSL's own extension object); `texts`: the
    entry's field texts, resolved already (`Fields.texts`)."""
    own = ResolvedOnUse(entry, texts)
    item = csl.to_item(own, None if parent is None else ResolvedOnUse(parent))
    if not dlg:
        return _ENCODER.encode(item)
    # The encoder sorts `custom` into its place; the dlg data, encoded already, then takes
    # the place of its stand-in (a string no item holds: JSON writes its NUL as \u0000).
    item["custom"] = _CUSTOM_STAND_IN
    return _ENCODER.encode(item).replace(_CUSTOM_ENCODED, '{"dlg": ' + dlg + "}", 1)


_CUSTOM_STAND_IN = "\0dlg-custom\0"
_CUSTOM_ENCODED = _string(_CUSTOM_STAND_IN)


def dlg_data(ref: Reference, entry: Entry) -> str:
    """The dlg data of a reference, encoded (its members in sorted order)."""
    s = _string
    return (
        f'{{"arxiv": {s(ref.arxiv)}, "bibtex_type": {s(entry.entry_type)}, '
        f'"citation": {s(ref.citation)}, "free_copy": {_free_copy_json(ref)}, '
        f'"legacy": {_strings(ref.legacy)}, "links": {_links_json(ref.links)}, '
        f'"note": {s(ref.note)}, "placeholder": {_TRUE_FALSE[ref.placeholder]}, '
        f'"sessions": {_sessions_json(entry)}, "text": {s(ref.text)}, '
        f'"topics": {_strings(ref.topics)}}}'
    )


def _links_json(links: list[Link]) -> str:
    return "[" + ", ".join([_link_json(link) for link in links]) + "]"


def _link_json(link: Link) -> str:
    s = _string
    return f'{{"kind": {s(link.kind)}, "label": {s(link.label)}, "url": {s(link.url)}}}'


def _sessions_json(entry: Entry) -> str:
    if F_SESSIONS not in entry.fields:  # most entries: `entry.sessions` would be []
        return "[]"
    s = _string
    tags = [f'{{"date": {s(t.date)}, "role": {s(t.role)}}}' for t in entry.sessions]
    return "[" + ", ".join(tags) + "]"


def _free_copy_json(ref: Reference) -> str:
    found = free_copy(ref)
    return _object({k: _string(v) for k, v in found.items()}) if found else "{}"


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


def csl_items(ctx: Context, db: Database, *, with_dlg: bool = False) -> list[str]:
    """The references as CSL-JSON items, each encoded as one line of JSON."""
    entries = {e.key: e for e in db.entries}
    items = []
    for ref in ctx.references:
        entry = entries[ref.key]
        crossref = entry.get("crossref").strip() if "crossref" in entry.fields else ""
        parent = db.find(crossref) if crossref else None
        dlg = dlg_data(ref, entry) if with_dlg else ""
        texts = ref.fields.texts if ref.fields is not None else None
        items.append(csl_item(entry, parent, dlg, texts))
    return items


def index_document(ctx: Context, db: Database) -> dict[str, Any]:
    """The index without its references (see `csl_items`)."""
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
                "readings": [{"key": x.ref.key, "role": x.role} for x in s.labelled],
            }
            for s in ctx.sessions
        ],
    }


def _compact(value: Any) -> str:
    return _ENCODER.encode(value)


def dumps(document: dict[str, Any], encoded: dict[str, list[str]]) -> str:
    """JSON with one line per reference (or per session, topic): diff-friendly, and fast.

    `encoded` holds lists whose items are already JSON (the references). `json.dumps(
    indent=…)` runs Python's pure-Python encoder, about 20x slower than the C one on a
    10,000-entry index; each line here is a C-encoded compact value. The text is joined
    once from its pieces: each copy of a 10 MB string costs milliseconds.
    """
    pieces = ["{\n"]
    for n, key in enumerate(sorted(document.keys() | encoded.keys())):
        pieces.append(f",\n  {_compact(key)}: " if n else f"  {_compact(key)}: ")
        items = encoded[key] if key in encoded else document[key]
        if isinstance(items, list) and items:
            lines = items if key in encoded else [_compact(v) for v in items]
            pieces += ["[\n    ", *_joined(lines, ",\n    "), "\n  ]"]
        else:
            pieces.append(_compact(items))
    pieces.append("\n}\n")
    return "".join(pieces)


def _joined(items: list[str], separator: str) -> list[str]:
    """The pieces of `separator.join(items)`, to be joined once with what surrounds them."""
    pieces = [separator] * (2 * len(items) - 1) if items else []
    pieces[::2] = items
    return pieces


def build_index(db: Database, *, csl_only: bool = False) -> str:
    """The index (or, with `csl_only`, the plain CSL-JSON array) as JSON text."""
    # `today` only decides which session is next, which the index does not record.
    ctx = build_context(db, dt.date.min)
    if csl_only:
        return csl.json_lines(csl_items(ctx, db, with_dlg=False))
    references = csl_items(ctx, db, with_dlg=True)
    return dumps(index_document(ctx, db), {"references": references})


def write(path: Path, text: str) -> None:
    write_file(path, text.encode("utf-8"))
