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

from dlg_bib import ids, keys, store, values
from dlg_bib.errors import ParseError
from dlg_bib.lint import work_identities
from dlg_bib.model import F_LEGACY, Database, Entry
from dlg_bib.tagging import TagRequest, apply_tag
from dlg_bib.values import braced

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


@dataclass
class ImportPlan:
    added: list[Entry] = field(default_factory=list)
    merged: list[tuple[Entry, Entry, list[str]]] = field(default_factory=list)  # into, from
    renamed: dict[str, str] = field(default_factory=dict)  # incoming key -> key in database


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
    """Copy fields that `into` lacks; never overwrite. Returns the names copied."""
    added = []
    for name, raw in incoming.fields.items():
        if name in ("ids",) or into.has(name):
            continue
        into.fields[name] = raw
        added.append(name)
    return added


def _add_alias(entry: Entry, alias: str) -> None:
    if not keys.is_valid_key(alias) or alias.lower() == entry.key.lower():
        return
    current = entry.aliases
    if alias.lower() not in {a.lower() for a in current}:
        entry.fields["ids"] = braced(", ".join([*current, alias]))


def _legacy_label(key: str) -> str | None:
    """`Ref 14`, `ref 8`, `Ref iii`: the legacy README's labels, kept so they stay findable."""
    return key if re.fullmatch(r"(?i)ref\s*[0-9ivx]+(\s*-\s*ref\s*[0-9ivx]+)?", key) else None


def plan_import(db: Database, incoming: list[Entry], tags: TagRequest | None) -> ImportPlan:
    plan = ImportPlan()
    taken = [e.key for e in db.entries]
    known: dict[tuple[str, str], Entry] = {}
    for entry in db.entries:
        for identity in work_identities(entry):
            known.setdefault(identity, entry)
    for raw_entry in incoming:
        entry = normalize(raw_entry)
        label = _legacy_label(raw_entry.key)
        target = next((known[i] for i in work_identities(entry) if i in known), None)
        if target is not None:
            copied = merge_missing_fields(target, entry)
            _add_alias(target, raw_entry.key)
            if label and label not in target.legacy_labels:
                target.fields[F_LEGACY] = braced(", ".join([*target.legacy_labels, label]))
                copied.append(F_LEGACY)
            plan.merged.append((target, raw_entry, copied))
            plan.renamed[raw_entry.key] = target.key
            merged_into = target
        else:
            entry.key = keys.unique_key(keys.base_key(entry), taken)
            taken.append(entry.key)
            _add_alias(entry, raw_entry.key)
            if label:
                entry.fields[F_LEGACY] = braced(label)
            plan.added.append(entry)
            plan.renamed[raw_entry.key] = entry.key
            merged_into = entry
            for identity in work_identities(entry):
                known.setdefault(identity, entry)
        if tags is not None and (tags.session or tags.topic):
            apply_tag(db, merged_into, tags)
    return plan


def changed_entries(plan: ImportPlan) -> list[Entry]:
    seen: list[Entry] = []
    for target, _, _ in plan.merged:
        if target not in plan.added and target not in seen:
            seen.append(target)
    return seen
