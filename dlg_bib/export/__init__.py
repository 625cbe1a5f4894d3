"""Standalone bibliographies for members' papers: BibTeX, biblatex or CSL-JSON.

`select` decides which entries (session, topic, keys, a paper's `.aux`, or all), the writers
map fields for the target, and the output is deterministic: same database and options, same
bytes (entries by key, parents after children; fields in a fixed order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bibtexparser import model as bpm

from dlg_bib.bibtex import store, values
from dlg_bib.export import biblatex, bibtex, csl, record
from dlg_bib.export.record import Record
from dlg_bib.export.select import Criteria, Selection, select
from dlg_bib.library.model import Database, Entry

FORMATS = ("bibtex", "biblatex", "csl-json")


@dataclass
class Export:
    text: str
    selection: Selection
    warnings: list[str] = field(default_factory=list)


def export(
    db: Database,
    criteria: Criteria,
    fmt: str = "bibtex",
    files: list[store.BibFile] | None = None,
) -> Export:
    """`files`: the database's files, for their `@preamble`s and the `file:line` of
    repeated fields (warned about, as BibTeX does)."""
    selection = select(db, criteria)
    files = files or []
    text = render(selection, fmt, preambles(files))
    return Export(text, selection, repeated_field_warnings(files, selection.entries))


def preambles(files: list[store.BibFile]) -> list[str]:
    """Every `@preamble` of the files, in order, each once: the macros (`\\noopsort`) that
    entries use are defined there, so an export without them breaks the paper."""
    found: list[str] = []
    for bib in files:
        for block in bib.blocks:
            if isinstance(block.parsed, bpm.Preamble):
                value = _preamble_value(block.parsed.value, bib.strings)
                if value not in found:
                    found.append(value)
    return found


def _preamble_value(raw: str, strings: dict[str, str]) -> str:
    """The value as written, unless it uses `@string` macros the export does not carry:
    then their text, braced."""
    raw = raw.strip()
    if not values.macro_names(raw):
        return raw
    return values.braced(values.resolve(raw, strings))


def repeated_field_warnings(files: list[store.BibFile], entries: Iterable[Entry]) -> list[str]:
    """`file:line: warning: …` for each repeated field of an exported entry (BibTeX keeps
    the first value and warns; so does the export)."""
    wanted = {id(e) for e in entries}
    warnings = []
    for bib in files:
        for block in bib.blocks:
            entry = block.entry
            if entry is None or id(entry) not in wanted:
                continue
            parsed = block.parsed
            if isinstance(parsed, bpm.Entry) and len(entry.fields) == len(parsed.fields):
                continue  # the usual entry: no name twice (the check is cheap)
            for name, line in store.repeated_fields(block):
                warnings.append(
                    f"{bib.path}:{line}: warning: field `{name}` of {entry.key} repeated; "
                    "its first value is exported, as BibTeX does"
                )
    return warnings


def render(selection: Selection, fmt: str, preamble: list[str] | None = None) -> str:
    if fmt == "csl-json":
        return csl_json(selection)
    if fmt == "bibtex":
        records = _under_cited_names(
            selection, bibtex.to_records(selection.entries, selection.crossref_targets)
        )
    elif fmt == "biblatex":
        records = biblatex.to_records(selection.entries)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    _point_crossrefs_at_keys(selection, records)
    head = "".join(f"@preamble{{{value}}}\n\n" for value in preamble or [])
    return head + record.render_all(records)


def csl_json(selection: Selection) -> str:
    by_key = {e.key.lower(): e for e in selection.entries}
    parents: dict[str, Entry] = {}
    for child, parent in selection.parents.items():
        if parent.lower() in by_key:
            parents[child] = by_key[parent.lower()]
    items = csl.to_items(selection.entries, parents)
    return csl.to_json(items)


def cited_items(
    db: Database, keys: list[str], selection: Selection, *, events: bool = False
) -> list[csl.Item]:
    """CSL items (sentence-case titles) for the requested keys, in the order given, without
    the crossref parents they inherit from; unknown keys and placeholders are left out.
    `events`: see `csl.to_item` (for IEEE)."""
    by_key = {e.key.lower(): e for e in selection.entries}
    parents = {
        child: by_key[parent.lower()]
        for child, parent in selection.parents.items()
        if parent.lower() in by_key
    }
    wanted: dict[str, Entry] = {}
    for key in keys:
        entry = db.find(key)
        if entry is not None and entry.key.lower() in by_key:
            wanted.setdefault(entry.key.lower(), entry)
    return csl.to_items(list(wanted.values()), parents, sentence_case=True, events=events)


def _under_cited_names(selection: Selection, records: list[Record]) -> list[Record]:
    """BibTeX knows no aliases: an entry a paper cites by an alias or old key is written
    under that name too (only under it, when its own key is not wanted)."""
    if not selection.aliases:
        return records
    out: list[Record] = []
    for rec in records:
        lowered = rec.key.lower()
        if lowered not in selection.cited_only_by_alias or lowered in selection.crossref_targets:
            out.append(rec)
        for alias in selection.aliases.get(lowered, []):
            out.append(replace(rec, key=alias, fields=dict(rec.fields), bare=set(rec.bare)))
    return out


def _point_crossrefs_at_keys(selection: Selection, records: list[Record]) -> None:
    """`crossref` may name an alias or legacy label; BibTeX and biber need the real key."""
    for rec in records:
        parent = selection.parents.get(rec.key.lower())
        if parent is not None:
            rec.fields["crossref"] = parent
        else:
            rec.fields.pop("crossref", None)


__all__ = ["FORMATS", "Criteria", "Export", "Selection", "cited_items", "export", "render"]
