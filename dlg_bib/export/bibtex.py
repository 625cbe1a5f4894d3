"""Entries as classic BibTeX, for `plain`, `plainnat`, `abbrvnat`, `ieeetr`, … styles.

Mapping (each rule is there because a classic style would otherwise warn or print garbage):
- arXiv preprints become `@misc` with `howpublished = {arXiv preprint arXiv:ID}` (what classic
  styles print) plus `eprint`/`archiveprefix`/`primaryclass` for styles and tools that read
  them; published entries keep their `eprint` fields too.
- Web pages (`@misc` with a `url`) carry the link in `howpublished`/`note` as `\\url{…}`,
  because `plain` ignores `url`; the `url` field is then dropped so `plainnat` does not print
  it twice. Documents need `\\usepackage{url}` or hyperref, as for any bibliography with URLs.
- A chapter with its own title (`@inbook` + `title` + `crossref`/`booktitle`) becomes
  `@incollection` (in BibTeX `@inbook`'s title is the book's); its `@book` parent gets a
  `booktitle` so the child inherits it through `crossref`.
- biblatex-only names (`journaltitle`, `location`, `date`) become BibTeX ones; `ids` and the
  dlg-* fields are dropped; `month` is written as the macro (`jun`); numeric editions as words.
- Entries with no author/editor get a `key` (what the page is published on, or its title,
  braced so natbib's label parsing ignores its parentheses) and undated `@misc` gets
  `year = {n.d.}`, so styles can sort and label them without warnings. Nothing else is added.
- `year`, `month` and `date` are rewritten only where nothing is lost (`month = {June}` ->
  `jun`); `month = "10~" # jan`, `{Summer}` and date ranges are carried through as written.
- Every `@preamble` of the database comes first, once each, in order.
"""

from __future__ import annotations

from dlg_bib.enrich.openaccess import OA_FIELDS
from dlg_bib.export import record
from dlg_bib.export.record import FieldSource, Record, Resolved
from dlg_bib.library.model import DLG_FIELDS, Entry

# The group's own bookkeeping (tags, legacy labels, free-copy records) stays home.
DROPPED = frozenset({*DLG_FIELDS, *OA_FIELDS, "ids", "date", "month", "year", "urldate"})
RENAMED = {
    "journaltitle": "journal",
    "location": "address",
    "eprinttype": "archiveprefix",
    "eprintclass": "primaryclass",
}
_TYPES = {"online": "misc", "electronic": "misc", "report": "techreport", "thesis": "phdthesis"}
_ORDINALS = ("First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth").split()


def to_records(entries: list[Entry], crossref_targets: set[str]) -> list[Record]:
    """Records in the given order; `crossref_targets` are lowercased keys of parents."""
    return [to_record(Resolved(e), e.key.lower() in crossref_targets) for e in entries]


def to_record(entry: FieldSource, is_crossref_target: bool = False) -> Record:
    fields = _copied_fields(entry)
    out = Record(_entry_type(entry), entry.key, fields)
    _set_date(entry, out)
    doi = record.doi_of(entry)
    if doi:
        fields["doi"] = doi
    arxiv = record.arxiv_id(entry)
    if arxiv:
        _set_eprint(entry, arxiv, out)
    if arxiv and record.is_preprint(entry, arxiv):
        out.entry_type = "misc"
        fields.pop("journal", None)
        fields.setdefault("howpublished", f"arXiv preprint arXiv:{arxiv}")
    elif out.entry_type == "misc" and "url" in fields:
        _url_into_text(entry, out)
    elif entry.has("urldate") and "url" in fields:
        _append_note(fields, f"Accessed {entry.get('urldate').strip()}")
    if fields.get("edition", "").isdigit():
        fields["edition"] = _edition_word(fields["edition"])
    if is_crossref_target and entry.entry_type == "book" and "title" in fields:
        fields.setdefault("booktitle", fields["title"])
    _fill_sort_fields(out)
    return out


def _fill_sort_fields(out: Record) -> None:
    """Styles sort and label by author (or `key`) and year; without them they warn
    ("to sort, need author or key", "empty year"). Web pages often have neither. These two
    fields are all the export adds, and only then.

    The `key` is braced as a whole: natbib splits the label `\\bibitem[KEY(YEAR)]` at its
    first parenthesis, and TeX does not look inside a group for it, so a title with
    parentheses cannot break the label."""
    fields = out.fields
    if not any(name in fields for name in ("author", "editor", "key", "organization")):
        label = fields.get("howpublished", "")
        if not label or label.startswith("\\url") or label.startswith("arXiv"):
            label = fields.get("title", out.key)
        fields["key"] = "{" + label + "}"
    if out.entry_type == "misc" and "year" not in fields:
        fields["year"] = "n.d."


_copied_fields = record.FieldCopier(DROPPED, RENAMED)


def _entry_type(entry: FieldSource) -> str:
    kind = entry.entry_type
    if (
        kind == "inbook"
        and entry.has("title")
        and (entry.has("crossref") or entry.has("booktitle"))
    ):
        return "incollection"
    return _TYPES.get(kind, kind)


def _set_date(entry: FieldSource, out: Record) -> None:
    """`year` and `month` as classic styles read them, rewritten only where nothing is
    lost: a month naming one month becomes its macro (`jun`), anything else (`Summer`,
    `"10~" # jan`) stays as written; a biblatex `date` gives the year and month, and is
    kept too when it says more (a day, a range)."""
    fields = out.fields
    year = entry.get("year").strip()
    date_text = entry.get("date").strip()
    date = record.single_date(date_text) if date_text else None
    if year:
        fields["year"] = record.field_value("year", year)
    elif date_text[:4].isdigit():  # a range's start year: the date stays as written below
        fields["year"] = date_text[:4]
    if entry.has("month"):
        month = record.month_number(entry.get("month"))
        if month:
            fields["month"] = record.MONTHS[month - 1]
            out.bare.add("month")
        else:
            fields["month"], bare = record.month_as_written(entry)
            if bare:
                out.bare.add("month")
    elif date and date[1] and not year:
        fields["month"] = record.MONTHS[date[1] - 1]
        out.bare.add("month")
    if date_text and (date is None or date[2] is not None or year or entry.has("month")):
        fields["date"] = record.field_value("date", date_text)


def _set_eprint(entry: FieldSource, arxiv: str, out: Record) -> None:
    out.fields["eprint"] = arxiv
    out.fields["archiveprefix"] = "arXiv"
    primary = record.arxiv_class(entry, arxiv)
    if primary:
        out.fields["primaryclass"] = primary


def _url_into_text(entry: FieldSource, out: Record) -> None:
    url = out.fields.pop("url")
    link = f"\\url{{{url}}}"
    if "howpublished" in out.fields:
        _append_note(out.fields, link, first=True)
    else:
        out.fields["howpublished"] = link
    if entry.has("urldate"):
        _append_note(out.fields, f"Accessed {entry.get('urldate').strip()}")


def _append_note(fields: dict[str, str], text: str, *, first: bool = False) -> None:
    note = fields.get("note", "")
    if not note:
        fields["note"] = text
    else:
        fields["note"] = f"{text}. {note}" if first else f"{note}. {text}"


def _edition_word(number: str) -> str:
    n = int(number)
    return _ORDINALS[n - 1] if 1 <= n <= len(_ORDINALS) else number
