"""Entries as biblatex data for biber.

Mapping: arXiv preprints become `@online` with `eprint`, `eprinttype = {arxiv}`,
`eprintclass` and the abs URL; published entries keep their type and gain the same eprint
fields. `year`/`month` become one ISO `date`; `journal` -> `journaltitle`, `address` ->
`location`, `archiveprefix`/`primaryclass` -> `eprinttype`/`eprintclass`, `articleno` ->
`eid`. Web pages
(`@misc` with a `url` and nothing else to go by) become `@online` with `urldate`. `ids`
(aliases) is valid biblatex and kept, so papers citing an old key still compile; the dlg-*
fields are dropped. Children come before their `crossref` parents, which biber inherits
from (an `@inbook`'s `booktitle` comes from its `@book`'s `title`).
"""

from __future__ import annotations

from dlg_bib import ids
from dlg_bib.export import record
from dlg_bib.export.record import FieldSource, Record, Resolved
from dlg_bib.model import DLG_FIELDS, Entry
from dlg_bib.openaccess import OA_FIELDS

# The group's own bookkeeping (tags, legacy labels, free-copy records) stays home.
DROPPED = frozenset({*DLG_FIELDS, *OA_FIELDS, "year", "month", "date"})
RENAMED = {
    "journal": "journaltitle",
    "address": "location",
    "archiveprefix": "eprinttype",
    "primaryclass": "eprintclass",
    "articleno": "eid",  # ACM's article number; biblatex prints `eid`
}


def to_records(entries: list[Entry]) -> list[Record]:
    return [to_record(Resolved(e)) for e in entries]


def to_record(entry: FieldSource) -> Record:
    fields = _copied_fields(entry)
    out = Record(_entry_type(entry), entry.key, fields)
    year, month, day = record.year_month_day(entry)
    if year.isdigit():
        fields["date"] = _iso_date(year, month, day)
    elif year:
        fields["year"] = record.field_value("year", year)  # "in press": not a valid date
    doi = record.doi_of(entry)
    if doi:
        fields["doi"] = doi
    arxiv = record.arxiv_id(entry)
    if arxiv:
        fields["eprint"] = arxiv
        fields["eprinttype"] = "arxiv"
        primary = record.arxiv_class(entry, arxiv)
        if primary:
            fields["eprintclass"] = primary
    if arxiv and record.is_preprint(entry, arxiv):
        out.entry_type = "online"
        fields.pop("journaltitle", None)
        fields.setdefault("url", ids.arxiv_abs_url(arxiv))
    elif out.entry_type == "misc" and "url" in fields and "howpublished" not in fields:
        out.entry_type = "online"
    return out


_copied_fields = record.FieldCopier(DROPPED, RENAMED)


def _entry_type(entry: FieldSource) -> str:
    return {"electronic": "online", "www": "online"}.get(entry.entry_type, entry.entry_type)


def _iso_date(year: str, month: int | None, day: int | None) -> str:
    if month and day:
        return f"{year}-{month:02d}-{day:02d}"
    return f"{year}-{month:02d}" if month else year
