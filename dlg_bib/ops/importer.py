"""Import BibTeX from anywhere: normalise, find works already in the database, merge or add.

Publisher exports, Google Scholar, Zotero and the legacy records all come with their own
habits (DOIs as URLs, arXiv ids in `journal = CoRR`, tool bookkeeping fields). Each incoming
entry is normalised, re-keyed by the house rule, then either merged into the entry for the
same work (the existing key wins, the incoming key becomes an alias) or appended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib.bibtex import store, values
from dlg_bib.bibtex.syntax import is_valid_key
from dlg_bib.bibtex.values import braced
from dlg_bib.errors import ParseError
from dlg_bib.library import ids, keys
from dlg_bib.library.matching import WorkFacts, WorkIndex, contradiction, title_key, work_facts
from dlg_bib.library.model import F_LEGACY, Database, Entry
from dlg_bib.ops.lint import EQUIVALENT_FIELDS
from dlg_bib.ops.tagging import TagRequest, apply_tag

# Bookkeeping fields of reference managers: not bibliographic data.
NOISE_FIELDS = re.compile(
    r"^(bdsk-url-\d+|bdsk-file-\d+|date-added|date-modified|timestamp|biburl|bibsource|"
    r"da|ty|owner|file|abstractnote)$"
)
# Problems that lose data if we went on; key syntax and stray braces are repaired by import.
FATAL_RULES = {
    "missing-comma",
    "duplicate-field",
    "unbalanced-braces",
    "unterminated-entry",
    "missing-comma-after-key",
    "syntax",
}


# Fields that only some entry types take (BibTeX's standard styles; biblatex types map to
# their BibTeX twin). Any other field (doi, url, eprint, abstract, note, …) fits every type.
_TYPE_FIELDS = {
    "article": {"journal", "volume", "number", "pages"},
    "book": {"editor", "publisher", "volume", "number", "series", "address", "edition"},
    "booklet": {"howpublished", "address"},
    "inbook": {"editor", "chapter", "pages", "publisher", "volume", "number", "series", "type"}
    | {"address", "edition", "booktitle"},
    "incollection": {"booktitle", "publisher", "editor", "volume", "number", "series", "type"}
    | {"chapter", "pages", "address", "edition"},
    "inproceedings": {"booktitle", "editor", "volume", "number", "series", "pages", "address"}
    | {"organization", "publisher"},
    "manual": {"organization", "address", "edition"},
    "mastersthesis": {"school", "type", "address"},
    "misc": {"howpublished"},
    "proceedings": {"editor", "volume", "number", "series", "address", "organization"}
    | {"publisher"},
    "techreport": {"institution", "type", "number", "address"},
    "unpublished": set(),
}
_TYPE_FIELDS["conference"] = _TYPE_FIELDS["inproceedings"]
_TYPE_FIELDS["phdthesis"] = _TYPE_FIELDS["mastersthesis"]
_BIBLATEX_TWIN = {
    "collection": "proceedings",
    "mvbook": "book",
    "mvcollection": "proceedings",
    "mvproceedings": "proceedings",
    "bookinbook": "inbook",
    "suppbook": "inbook",
    "suppcollection": "incollection",
    "report": "techreport",
    "thesis": "phdthesis",
    "online": "misc",
}
_TYPE_SPECIFIC = set().union(*_TYPE_FIELDS.values())
# Where a work appeared: an entry names one, never two (`cite` would print the wrong one).
VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "school", "institution", "howpublished")


@dataclass
class ImportPlan:
    added: list[Entry] = field(default_factory=list)
    merged: list[tuple[Entry, Entry, list[str]]] = field(default_factory=list)  # into, from
    renamed: dict[str, str] = field(default_factory=dict)  # incoming key -> key in database
    # Added although a title and first author matched: (added, existing, why not merged).
    kept_apart: list[tuple[Entry, Entry, str]] = field(default_factory=list)
    # Incoming fields left out of a merge: (incoming, field, why).
    left_out: list[tuple[Entry, str, str]] = field(default_factory=list)


def read_incoming(path: Path) -> list[Entry]:
    """Entries of a file to import; a file with data-losing syntax errors is refused."""
    bib = store.load_file(path)
    fatal = [p for p in bib.problems if p.rule in FATAL_RULES]
    if fatal:
        details = "; ".join(f"line {p.line}: {p.message}" for p in fatal)
        raise ParseError(
            f"cannot import: {details}",
            where=f"{path}:{fatal[0].line}",
            hint="fix the file (`dlg-bib --bib FILE lint` lists every problem); "
            "nothing was written",
        )
    return bib.entries


def normalize(entry: Entry) -> Entry:
    """A copy of `entry` with clean identifiers and without tool bookkeeping fields."""
    fields = {k: v for k, v in entry.fields.items() if not NOISE_FIELDS.match(k)}
    result = Entry(
        key=entry.key,
        entry_type=entry.entry_type,
        fields=fields,
        type_as_written=entry.type_as_written or entry.entry_type,
        strings=entry.strings,
    )
    doi = ids.normalize_doi(result.get("doi")) if result.has("doi") else None
    if doi:
        fields["doi"] = braced(doi)
    _normalize_arxiv(result)
    url = result.get("url")
    if doi and url and ids.normalize_doi(url) == doi:
        del fields["url"]  # the DOI is the link
    # Inline the text of macros we cannot bring along (the other file's @string);
    # month macros (`jul`) are BibTeX's own and stay as they are.
    for name, raw in list(fields.items()):
        bare = raw.strip()
        if bare.startswith(("{", '"')) or bare.isdigit() or bare.lower() in values.MONTH_MACROS:
            continue
        fields[name] = braced(result.get(name))
    return result


def _normalize_arxiv(entry: Entry) -> None:
    fields = entry.fields
    candidates = [entry.get("eprint"), entry.get("url"), entry.get("volume")]
    if entry.get("journal").lower() in ("corr", "arxiv", "arxiv preprint"):
        candidates.insert(0, entry.get("volume").removeprefix("abs/"))
    for value in candidates:
        parsed = ids.parse_arxiv_id(value.removeprefix("abs/")) if value else None
        if parsed is None:
            continue
        fields["eprint"] = braced(parsed[0] + parsed[1])
        fields.pop("eprinttype", None)
        fields["archiveprefix"] = braced("arXiv")
        if entry.get("journal").lower() == "corr":
            # `journal = CoRR, volume = abs/…` is dblp's way of saying "arXiv preprint".
            fields.pop("journal", None)
            fields.pop("volume", None)
            entry.entry_type = "misc"
            entry.type_as_written = "misc"
        if ids.parse_arxiv_id(entry.get("url")):
            fields.pop("url", None)
        return


def merge_missing_fields(into: Entry, incoming: Entry) -> list[str]:
    """Copy fields that `into` lacks and its type takes; never overwrite, never add a second
    venue. Returns the names copied."""
    return [name for name, why in _merge(into, incoming) if not why]


def _merge(into: Entry, incoming: Entry) -> list[tuple[str, str]]:
    """Each incoming field `into` lacks, with why it was left out ("" when copied)."""
    result = []
    kind = _BIBLATEX_TWIN.get(into.entry_type, into.entry_type)
    takes = _TYPE_FIELDS.get(kind)
    for name, raw in incoming.fields.items():
        if name in ("ids",) or any(into.has(n) for n in (name, *EQUIVALENT_FIELDS.get(name, ()))):
            continue
        general = name.removesuffix("title") if name == "journaltitle" else name
        if name in VENUE_FIELDS and any(into.has(v) for v in VENUE_FIELDS):
            venue = next(v for v in VENUE_FIELDS if into.has(v))
            result.append((name, f"{into.key} already names its venue in `{venue}`"))
        elif general in _TYPE_SPECIFIC and (takes is None or general not in takes):
            result.append((name, f"@{into.entry_type} entries take no `{name}`"))
        else:
            into.fields[name] = raw
            result.append((name, ""))
    return result


def _add_alias(entry: Entry, alias: str, taken: list[str]) -> None:
    # An alias equal to another entry's key makes biber drop one of the two entries.
    if not is_valid_key(alias) or alias.lower() in {k.lower() for k in taken}:
        return
    current = entry.aliases
    if alias.lower() not in {a.lower() for a in current}:
        entry.fields["ids"] = braced(", ".join([*current, alias]))


def _legacy_label(key: str) -> str | None:
    """`Ref 14`, `ref 8`, `Ref iii`: the legacy README's labels, kept so they stay findable."""
    return key if re.fullmatch(r"(?i)ref\s*[0-9ivx]+(\s*-\s*ref\s*[0-9ivx]+)?", key) else None


def _named(key: str, facts: WorkFacts, by_name: dict[str, Entry]) -> Entry | None:
    """The entry already citable as `key` (its key, or an alias in `ids`), as a second
    import of the same file finds: biber resolves `\\cite{key}` to that entry, so it is the
    same work, unless its title, first author, year, venue, volume, number or pages say
    otherwise. Catches what the title rule cannot: short titles ("SAM") and none."""
    entry = by_name.get(key.lower())
    if entry is None:
        return None
    theirs = work_facts(entry)
    same = title_key(facts.entry.get("title")) == title_key(entry.get("title"))
    if not same or facts.details.first_author != theirs.details.first_author:
        return None
    return None if contradiction(facts, theirs) else entry


def plan_import(db: Database, incoming: list[Entry], tags: TagRequest | None) -> ImportPlan:
    plan = ImportPlan()
    taken = [e.key for e in db.entries]
    known = WorkIndex()
    by_name: dict[str, Entry] = {}  # what `\cite{…}` names, as biber resolves it
    for entry in db.entries:
        known.add(entry)
        for name in [entry.key, *(entry.aliases if "ids" in entry.fields else ())]:
            by_name.setdefault(name.lower(), entry)
    for raw_entry in incoming:
        entry = normalize(raw_entry)
        label = _legacy_label(raw_entry.key)
        facts = work_facts(entry)
        found = known.match(facts)
        target = found.entry or _named(raw_entry.key, facts, by_name)
        if target is not None:
            merge = _merge(target, entry)
            copied = [name for name, why in merge if not why]
            plan.left_out.extend((raw_entry, name, why) for name, why in merge if why)
            _add_alias(target, raw_entry.key, taken)
            if label and label not in target.legacy_labels:
                target.fields[F_LEGACY] = braced(", ".join([*target.legacy_labels, label]))
                copied.append(F_LEGACY)
            plan.merged.append((target, raw_entry, copied))
            plan.renamed[raw_entry.key] = target.key
            merged_into = target
        else:
            entry.key = keys.unique_key(keys.base_key(entry), taken)
            taken.append(entry.key)
            _add_alias(entry, raw_entry.key, taken)
            if label:
                entry.fields[F_LEGACY] = braced(label)
            plan.added.append(entry)
            plan.kept_apart.extend((entry, other, why) for other, why in found.rejected)
            plan.renamed[raw_entry.key] = entry.key
            merged_into = entry
            known.add(entry, work_facts(entry))
        if tags is not None and (tags.session or tags.topic):
            apply_tag(db, merged_into, tags)
    return plan


def changed_entries(plan: ImportPlan) -> list[Entry]:
    seen: list[Entry] = []
    for target, _, _ in plan.merged:
        if target not in plan.added and target not in seen:
            seen.append(target)
    return seen
