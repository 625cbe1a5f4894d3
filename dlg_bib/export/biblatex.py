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

from dlg_bib.enrich.openaccess import OA_FIELDS
from dlg_bib.export import record
from dlg_bib.export.record import FieldSource, Record, Resolved
from dlg_bib.library import ids
from dlg_bib.library.model import DLG_FIELDS, Entry

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
    _set_date(entry, out)
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


def _set_date(entry: FieldSource, out: Record) -> None:
    """One ISO `date` from `year` and `month` where that loses nothing (a numeric year, a
    month naming one month); a `date` as written; otherwise `year` and `month` as written
    (`in press`, `Summer`, `"10~" # jan`), which biber reads too."""
    fields = out.fields
    date = entry.get("date").strip()
    year = entry.get("year").strip()
    month_text = entry.get("month").strip()
    month = record.month_number(month_text) if month_text else None
    if date:
        fields["date"] = record.field_value("date", date)
        given = record.single_date(date)
        if given is not None and (not year or year == given[0]):
            year = ""  # the date says it already
        if given is not None and (not month_text or month == given[1]):
            month_text = ""
    elif len(year) == 4 and year.isdigit() and (month or not month_text):
        fields["date"] = _iso_date(year, month, None)
        year = month_text = ""
    if year:
        fields["year"] = record.field_value("year", year)
    if month_text:
        if month:
            fields["month"] = str(month)
        else:
            fields["month"], bare = record.month_as_written(entry)
            if bare:
                out.bare.add("month")


def _iso_date(year: str, month: int | None, day: int | None) -> str:
    if month and day:
        return f"{year}-{month:02d}-{day:02d}"
    return f"{year}-{month:02d}" if month else year
