"""The merge policy of `enrich` and `add`: what remote metadata may change in an entry.

Pure: records from the sources (`sources.arxiv.ArxivRecord`, `sources.crossref.CrossrefWork`)
become proposals of BibTeX values; a proposal fills only missing fields (or fields named in
`--overwrite`), reports where it disagrees with what is written, and records the published
version of a preprint while keeping its arXiv fields. Remote text is untrusted: every value is
escaped for BibTeX/LaTeX here, so no remote title can break the `.bib`, and non-ASCII letters
are written in the braced LaTeX form (`{\\'a}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bibtexparser
from bibtexparser import model as bpm

from dlg_bib.bibtex import values
from dlg_bib.bibtex.latex import ascii_fold, protect_title, safe_text, to_latex, to_text
from dlg_bib.bibtex.names import parse_names
from dlg_bib.bibtex.store import format_entry
from dlg_bib.bibtex.syntax import is_valid_key
from dlg_bib.enrich.openaccess import F_NOTE, F_URL, NONE_KNOWN, OA_FIELDS, FreeCopy
from dlg_bib.library import normalize
from dlg_bib.library.ids import normalize_doi
from dlg_bib.library.model import Entry
from dlg_bib.sources.arxiv import ArxivRecord
from dlg_bib.sources.crossref import CrossrefWork, Person

# The order of fields in new entries and in diffs. A field added to an existing entry goes
# after the last field it follows in this order (the layout of bib/references.bib), so a
# restored field lands where a person puts it. Unlisted fields stay where they are; dlg-*
# fields stay last.
HOUSE_ORDER = (
    "author",
    "editor",
    "title",
    "journal",
    "booktitle",
    "chapter",
    "howpublished",
    "institution",
    "school",
    "series",
    "edition",
    "publisher",
    "address",
    "year",
    "month",
    "volume",
    "number",
    "pages",
    "articleno",
    "isbn",
    "doi",
    "eprint",
    "archiveprefix",
    "primaryclass",
    "url",
    "pdf",
    "abstract",
    *OA_FIELDS,
)
# Fields compared with the sources to report disagreements (abstracts and URLs vary freely).
COMPARED = ("title", "author", "year", "journal", "booktitle", "volume", "number", "pages", "doi")
PUBLISHED_TYPES = frozenset({"journal-article", "proceedings-article", "book-chapter"})
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_CROSSREF_TYPES = {
    "journal-article": "article",
    "proceedings-article": "inproceedings",
    "book-chapter": "incollection",
    "book-section": "incollection",
    "book-part": "incollection",
    "reference-entry": "incollection",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "report": "techreport",
    "dissertation": "phdthesis",
    "proceedings": "proceedings",
}
_VENUE_FIELD = {"article": "journal", "inproceedings": "booktitle", "incollection": "booktitle"}


# ---- remote text -> BibTeX ------------------------------------------------------------------

# Characters special to BibTeX or LaTeX in plain text. Braces become commands, because BibTeX
# counts `\{` as a brace too and an unbalanced value would swallow the rest of the file.
_PLAIN_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += 1 if ch == "{" else -1 if ch == "}" else 0
        if depth < 0:
            return False
    return depth == 0


def escape_plain(text: str) -> str:
    """Plain remote text (Crossref, after markup stripping) as a safe BibTeX value body."""
    escaped = "".join(_PLAIN_SPECIALS.get(ch, ch) for ch in " ".join(text.split()))
    return to_latex(escaped)


def escape_tex(text: str) -> str:
    """arXiv text, which authors write in TeX: math (`$…$`) and commands are kept when the
    text is well formed; `& % # _` outside math are escaped as exports escape them (`_` in
    `\\url{…}` kept). Anything doubtful (odd `$`,
    unbalanced braces, a trailing backslash) is escaped as plain text instead."""
    text = " ".join(text.split())
    dollars = len(_UNESCAPED_DOLLAR.findall(text))
    if dollars % 2 or not _balanced(text) or text.endswith("\\"):
        return escape_plain(text)
    pieces = _UNESCAPED_DOLLAR.split(text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:  # math: verbatim
            out.append("$" + piece + "$")
        else:
            out.append(safe_text(piece))
    return "".join(out)


def verbatim(text: str) -> str:
    """A DOI, URL or eprint as written (styles typeset them verbatim: no `\\_`), with the
    few characters that could break the value percent-encoded."""
    unsafe = {"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20", '"': "%22"}
    return "".join(unsafe.get(ch, ch) for ch in text.strip())


def bibtex_name(name: str) -> str:
    """An arXiv name (`Given von Family`) in the `von Family, Given` form of the database."""
    if "," in name or "{" in name:
        return escape_tex(name)
    parsed = parse_names(name)
    if len(parsed) != 1 or not parsed[0].given or parsed[0].literal:
        return escape_tex(name)
    person = parsed[0]
    family = f"{person.particle} {person.family}".strip()
    return f"{escape_tex(family)}, {escape_tex(person.given)}"


def format_pages(pages: str) -> str:
    """`635-641`, `635–641` -> `635--641`."""
    return re.sub(r"\s*(?:-+|–|—)\s*", "--", pages.strip())


# ---- proposals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A proposed value: the raw BibTeX (`{…}` or a month macro) and its plain text."""

    raw: str
    text: str


@dataclass
class Proposal:
    source: str  # "arXiv", "Crossref", "Crossref (published version)"
    entry_type: str
    values: dict[str, Value] = field(default_factory=dict)

    def put(self, name: str, raw_body: str, text: str) -> None:
        if text.strip():
            self.values[name] = Value(values.braced(raw_body), text)

    def put_month(self, month: int | None) -> None:
        if month and 1 <= month <= 12:
            # The standard BibTeX month macro: styles print it in their own language.
            self.values["month"] = Value(MONTHS[month - 1], values.MONTH_MACROS[MONTHS[month - 1]])


def _name_list(names: list[str]) -> str:
    # A name containing " and " would split into two people: brace it whole.
    return " and ".join(
        "{" + n + "}" if re.search(r"\sand\s", n, re.IGNORECASE) else n for n in names
    )


def _person(person: Person) -> str:
    if person.literal:
        return "{" + escape_plain(person.literal) + "}"
    family = escape_plain(person.family)
    if " " in person.family.strip() and not re.match(r"^[a-z]", person.family):
        family = "{" + family + "}"  # "Ah Chung Tsoi" style: keep a multi-word family whole
    return f"{family}, {escape_plain(person.given)}" if person.given else family


def arxiv_proposal(record: ArxivRecord) -> Proposal:
    p = Proposal("arXiv", "misc")
    p.put("title", protect_title(escape_tex(record.title)), record.title)
    p.put("author", _name_list([bibtex_name(a) for a in record.authors]), ", ".join(record.authors))
    p.put("year", record.year, record.year)
    p.put_month(record.month)
    p.put("eprint", verbatim(record.arxiv_id), record.arxiv_id)
    p.put("archiveprefix", "arXiv", "arXiv")
    p.put("primaryclass", escape_plain(record.primary_category), record.primary_category)
    p.put("url", verbatim(record.abs_url), record.abs_url)
    p.put("abstract", escape_tex(record.summary), record.summary)
    doi = normalize_doi(record.doi) if record.doi else None
    if doi:
        p.put("doi", verbatim(doi), doi)
    return p


def crossref_proposal(work: CrossrefWork, source: str = "Crossref") -> Proposal:
    entry_type = _CROSSREF_TYPES.get(work.type, "misc")
    p = Proposal(source, entry_type)
    p.put("title", protect_title(escape_plain(work.title)), work.title)
    if work.authors:
        p.put("author", _name_list([_person(a) for a in work.authors]), _people_text(work.authors))
    if work.editors and (entry_type in ("book", "proceedings") and not work.authors):
        p.put("editor", _name_list([_person(a) for a in work.editors]), _people_text(work.editors))
    venue = _VENUE_FIELD.get(entry_type)
    if venue:
        p.put(venue, escape_plain(work.container_title), work.container_title)
    if entry_type == "techreport":
        p.put("institution", escape_plain(work.publisher), work.publisher)
    elif entry_type == "phdthesis":
        school = work.institution or work.publisher
        p.put("school", escape_plain(school), school)
    else:
        p.put("publisher", escape_plain(work.publisher), work.publisher)
    if work.type == "posted-content" and work.institution:
        p.put("howpublished", escape_plain(work.institution), work.institution)
    if work.year:
        p.put("year", str(work.year), str(work.year))
        p.put_month(work.month)
    p.put("volume", escape_plain(work.volume), work.volume)
    p.put("number", escape_plain(work.issue), work.issue)
    pages = format_pages(work.pages) if work.pages else work.article_number
    p.put("pages", escape_plain(pages), pages)
    if entry_type in ("book", "incollection"):
        p.put("isbn", escape_plain(work.isbn), work.isbn)
    p.put("doi", verbatim(work.doi), work.doi)
    # No abstract from Crossref: publishers keep the copyright of the abstracts they deposit,
    # and bib/ is published. arXiv's descriptive metadata is CC0, so arxiv_proposal keeps it.
    for preprint_doi in work.relations.get("has-preprint", ()):
        arxiv_id = normalize.arxiv_id_of_doi(preprint_doi)
        if arxiv_id:
            p.put("eprint", verbatim(arxiv_id), arxiv_id)
            p.put("archiveprefix", "arXiv", "arXiv")
            break
    return p


def _people_text(people: tuple[Person, ...]) -> str:
    return ", ".join(p.literal or f"{p.given} {p.family}".strip() for p in people)


def record_proposal(source: str, entry_type: str, fields: dict[str, str]) -> Proposal:
    """A proposal from plain-text fields (dblp's published version): links verbatim, pages
    with `--`, venue names with their acronyms brace-protected (`({ICLR})`), the rest
    escaped as plain text."""
    p = Proposal(source, entry_type)
    for name, text in fields.items():
        text = " ".join(text.split())
        if name in ("doi", "url"):
            body = verbatim(text)
        elif name == "pages":
            body = escape_plain(format_pages(text))
        elif name in ("journal", "booktitle"):
            body = protect_title(escape_plain(text))
        else:
            body = escape_plain(text)
        p.put(name, body, text)
    return p


# ---- matching ---------------------------------------------------------------------------------


def comparable(text: str) -> str:
    """Case-, accent-, markup- and punctuation-insensitive form of a title or name."""
    plain = ascii_fold(to_text(text)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _families_of_entry(entry: Entry) -> list[str]:
    names = parse_names(entry.get("author")) if entry.has("author") else []
    return [comparable(n.literal or n.family) for n in names if n.literal or n.family]


def _families_of_work(work: CrossrefWork) -> list[str]:
    return [comparable(p.literal or p.family) for p in work.authors]


def strict_match(title: str, families: list[str], year: str, work: CrossrefWork) -> bool:
    """A search hit is the same work only with the same title (normalised), overlapping
    authors and a plausible year; never "the first hit"."""
    if not title.strip() or comparable(title) != comparable(work.title):
        return False
    theirs = set(_families_of_work(work))
    ours = {f for f in families if f}
    if not ours or not theirs:
        return False
    overlap = len(ours & theirs)
    if overlap < max(1, min(len(ours), len(theirs)) // 2):
        return False
    # A published version appears within a few years of its preprint.
    return not (year.isdigit() and work.year is not None and abs(int(year) - work.year) > 3)


def is_published_kind(work: CrossrefWork) -> bool:
    return work.type in PUBLISHED_TYPES and normalize.arxiv_id_of_doi(work.doi) is None


# ---- the merge ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str | None  # raw value before, None when the field was absent
    new: str | None  # raw value after, None when removed
    source: str


@dataclass(frozen=True)
class Disagreement:
    name: str
    ours: str
    theirs: str
    source: str


@dataclass
class EntryChange:
    key: str
    changes: list[FieldChange] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)
    old_type: str = ""
    new_type: str | None = None
    published_via: str = ""  # how the published version was confirmed, when recorded
    problems: list[str] = field(default_factory=list)  # why the merged entry is not written

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.new_type)


def _differs(name: str, ours: str, theirs: str) -> bool:
    if name == "doi":
        a, b = normalize_doi(ours), normalize_doi(theirs)
        return (a or ours).lower() != (b or theirs).lower()
    if name == "pages":
        return re.findall(r"\w+", ours) != re.findall(r"\w+", theirs)
    if name == "author":
        return False  # compared by family names in `_author_disagreement`
    return comparable(ours) != comparable(theirs)


def _author_disagreement(entry: Entry, proposal: Proposal) -> Disagreement | None:
    value = proposal.values.get("author")
    if value is None or not entry.has("author"):
        return None
    ours = _families_of_entry(entry)
    theirs = [comparable(n.literal or n.family) for n in parse_names(value.raw[1:-1])]
    if ours == theirs:
        return None
    return Disagreement("author", entry.get("author"), value.text, proposal.source)


def _ordered(names: set[str]) -> list[str]:
    rank = {name: i for i, name in enumerate(HOUSE_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def merge_missing_fields(
    entry: Entry,
    proposals: list[Proposal],
    overwrite: frozenset[str] = frozenset(),
    replaceable: frozenset[str] = frozenset(),
) -> EntryChange:
    """What the proposals (best first) would change: fill empty fields, replace the ones named
    in `overwrite` (and `replaceable`, placeholders of a preprint being upgraded), and report
    where a source disagrees with a written value. `entry` is not modified."""
    change = EntryChange(entry.key, old_type=entry.entry_type)
    names = {n for p in proposals for n in p.values}
    for name in _ordered(names):
        source = next(p for p in proposals if name in p.values)
        value = source.values[name]
        current = entry.fields.get(name)
        empty = current is None or not entry.get(name).strip()
        if empty or ((name in overwrite or name in replaceable) and current != value.raw):
            if empty or _differs(name, entry.get(name), value.text) or name == "author":
                change.changes.append(FieldChange(name, current, value.raw, source.source))
            continue
        if name in COMPARED and _differs(name, entry.get(name), value.text):
            change.disagreements.append(
                Disagreement(name, entry.get(name), value.text, source.source)
            )
    author_source = next((p for p in proposals if "author" in p.values), None)
    if author_source is not None and "author" not in overwrite:
        disagreement = _author_disagreement(entry, author_source)
        if disagreement is not None:
            change.disagreements.append(disagreement)
    return change


# ---- preprints and their published versions ------------------------------------------------


def upgrade_rules(
    entry: Entry,
    published: Proposal,
    record: ArxivRecord | None,
    preprint_work: CrossrefWork | None = None,
) -> tuple[str | None, frozenset[str], list[str]]:
    """For a preprint whose published version is confirmed: the new entry type, the fields
    that only held preprint placeholders (replaceable), and placeholder fields to remove."""
    preprint_years = {record.year} if record else set()
    if preprint_work is not None and preprint_work.year:
        preprint_years.add(str(preprint_work.year))
    year = entry.get("year").strip()
    replaceable = {"year", "month"} if not year or year in preprint_years else set()
    preprint_doi = preprint_work.doi if preprint_work else None
    removed = []
    for name in ("journal", "booktitle", "howpublished", "publisher"):
        if entry.has(name) and normalize.is_preprint_venue(entry.get(name)):
            if name in published.values:
                replaceable.add(name)
            else:
                removed.append(name)
    if entry.get("volume").lower().startswith("abs/"):
        replaceable.add("volume")  # dblp's CoRR form: volume = {abs/1706.03762}
    doi = normalize.entry_doi(entry)
    if doi and (
        normalize.arxiv_id_of_doi(doi) or (preprint_doi and doi.lower() == preprint_doi.lower())
    ):
        replaceable.add("doi")  # the preprint's DOI; its arXiv fields stay
    keeps_type = entry.entry_type not in normalize.PREPRINT_TYPES and not (
        entry.entry_type == "article" and "journal" in (replaceable | set(removed))
    )
    proposal_type = published.entry_type
    new_type = None if keeps_type or proposal_type == entry.entry_type else proposal_type
    return new_type, frozenset(replaceable), removed


@dataclass
class Evidence:
    """What the sources said about one entry (gathered by `enrich.resolver`)."""

    key: str
    arxiv: ArxivRecord | None = None
    work: CrossrefWork | None = None  # the work of the entry's own DOI, or found by search
    published: CrossrefWork | None = None  # the confirmed published version of a preprint
    # A published version from a source without Crossref records (dblp, OpenAlex): its
    # values already built with this module's escaping. Used when `published` is None.
    published_proposal: Proposal | None = None
    published_via: str = ""
    unconfirmed: str = ""  # a preprint whose published version could not be confirmed
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def published_proposal(evidence: Evidence) -> Proposal | None:
    if evidence.published is not None:
        return crossref_proposal(evidence.published, "Crossref (published version)")
    return evidence.published_proposal


def plan(entry: Entry, evidence: Evidence, overwrite: frozenset[str] = frozenset()) -> EntryChange:
    """The change for one entry: published version first, then its own Crossref record,
    then arXiv; the arXiv fields of an upgraded preprint are kept (and filled)."""
    proposals: list[Proposal] = []
    new_type: str | None = None
    replaceable: frozenset[str] = frozenset()
    removed: list[str] = []
    preprint_work = (
        evidence.work if evidence.work and evidence.work.type == "posted-content" else None
    )
    published = published_proposal(evidence)
    if published is not None:
        proposals.append(published)
        new_type, replaceable, removed = upgrade_rules(
            entry, published, evidence.arxiv, preprint_work
        )
    # A preprint's own record (posted-content) gives way to its published version.
    own_counts = published is None or preprint_work is None
    if evidence.work is not None and evidence.work is not evidence.published and own_counts:
        proposals.append(crossref_proposal(evidence.work))
    if evidence.arxiv is not None:
        arxiv = arxiv_proposal(evidence.arxiv)
        own_is_published = evidence.work is not None and is_published_kind(evidence.work)
        if published is not None or own_is_published or normalize.has_real_venue(entry):
            # The arXiv record describes the preprint: its date and DOI are not the paper's.
            for name in ("year", "month", "doi"):
                arxiv.values.pop(name, None)
        proposals.append(arxiv)
    change = merge_missing_fields(entry, proposals, overwrite, replaceable)
    for name in removed:
        change.changes.append(FieldChange(name, entry.fields[name], None, "published version"))
    if new_type:
        change.new_type = new_type
    if published is not None and change.changed:
        change.published_via = evidence.published_via
    if change.changed:
        change.problems = check_fields(
            entry.key, new_type or entry.entry_type, merged(entry, change)
        )
    return change


def merged(entry: Entry, change: EntryChange) -> dict[str, str]:
    fields = dict(entry.fields)
    for c in change.changes:
        if c.new is None:
            fields.pop(c.name, None)
        elif c.name in fields:
            fields[c.name] = c.new  # replaced in place
        else:
            fields = _inserted(fields, c.name, c.new)
    return fields


def _house_rank(name: str) -> int | None:
    if name.startswith("dlg-"):
        return len(HOUSE_ORDER) + 1
    return HOUSE_ORDER.index(name) if name in HOUSE_ORDER else None


def _inserted(fields: dict[str, str], name: str, raw: str) -> dict[str, str]:
    """`fields` with `name` after the last field that comes before it in HOUSE_ORDER."""
    rank = _house_rank(name)
    rank = len(HOUSE_ORDER) if rank is None else rank
    items = list(fields.items())
    at = 0
    for i, (other, _) in enumerate(items):
        other_rank = _house_rank(other)
        if other_rank is not None and other_rank <= rank:
            at = i + 1
    items.insert(at, (name, raw))
    return dict(items)


def check_fields(key: str, entry_type: str, fields: dict[str, str]) -> list[str]:
    """Why an entry with these fields must not be written (empty when it may)."""
    problems = []
    if not is_valid_key(key):
        problems.append(f"invalid key {key!r}")
    for name, raw in fields.items():
        if not _balanced(raw):
            problems.append(f"{name}: unbalanced braces")
            continue
        try:
            values.resolve(raw)
        except values.ValueSyntaxError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        return problems
    text = format_entry(Entry(key, entry_type, fields))
    library = bibtexparser.parse_string(text, parse_stack=[])  # type: ignore[attr-defined]
    parsed = [b for b in library.blocks if isinstance(b, bpm.Entry)]
    if len(library.blocks) != 1 or len(parsed) != 1:
        return ["the merged entry does not parse back as one BibTeX entry"]
    if {f.key.lower(): f.value for f in parsed[0].fields} != fields:
        return ["the merged entry does not parse back to the same fields"]
    return []


def apply(entry: Entry, change: EntryChange) -> None:
    """Make the change in `entry` itself (the store splices entries by identity)."""
    entry.fields = merged(entry, change)
    if change.new_type:
        entry.entry_type = change.new_type
        entry.type_as_written = change.new_type


def incomplete(fields: dict[str, str]) -> list[str]:
    """Fields a new entry must have before `add` writes it."""
    missing = [name for name in ("title", "year") if not values.resolve(fields.get(name, "{}"))]
    if not any(values.resolve(fields.get(n, "{}")).strip() for n in ("author", "editor")):
        missing.append("author")
    return missing


# ---- free copies ------------------------------------------------------------------------------

FREE_COPY = "free copy"


def wants_free_copy(fields: dict[str, str], overwrite: frozenset[str] = frozenset()) -> bool:
    """Whether the free copy should be (re)considered: no `oaurl` yet (or named in
    `overwrite`), and no note of a person's own (the standard "none known" may be replaced)."""
    if values.resolve(fields.get(F_URL, "{}")).strip() and F_URL not in overwrite:
        return False
    note = values.resolve(fields.get(F_NOTE, "{}")).strip()
    return not note or note == NONE_KNOWN or F_NOTE in overwrite


def free_copy_changes(
    fields: dict[str, str],
    copy: FreeCopy,
    *,
    conclusive: bool = True,
    overwrite: frozenset[str] = frozenset(),
) -> list[FieldChange]:
    """The oa* fields to write for `copy` in an entry with these (merged) fields.

    A written `oaurl` is kept (curated, or found before) unless `--overwrite oaurl`; a note
    other than the standard one is a person's and is kept too. The standard note is replaced
    when a copy turns up. "None known" is written only when the search was `conclusive`
    (no source that should have been asked was unavailable)."""
    if not wants_free_copy(fields, overwrite):
        return []
    proposed = copy.fields()
    if F_NOTE in proposed and not conclusive:
        return []
    source = FREE_COPY
    if copy.location is not None:
        source = f"{FREE_COPY}: {copy.location.host_name or copy.location.host}"
    changes = []
    for name in OA_FIELDS:
        text = proposed.get(name, "")
        new = (
            values.braced(verbatim(text) if name == F_URL else escape_plain(text)) if text else None
        )
        old = fields.get(name)
        if new != old:
            changes.append(FieldChange(name, old, new, source))
    return changes


def add_free_copy(entry: Entry, change: EntryChange, extra: list[FieldChange]) -> None:
    """Add the free-copy changes to an entry's change and check the result again."""
    if not extra:
        return
    change.changes.extend(extra)
    change.problems = check_fields(
        entry.key, change.new_type or entry.entry_type, merged(entry, change)
    )
