"""The view-model every output renders: sessions, topics and fully formatted references.

Pure: built from a `model.Database` and a `today` date, nothing else. Text is decoded from
LaTeX to Unicode here (by `dlg_bib.bibtex.latex.to_text`, the package's one codec), only for the
fields that are rendered (values without LaTeX skip the decoders; a LaTeX value is decoded
once per process however often it recurs, whether lint or a renderer asked first, and
people once per name). Each entry's fields are resolved once (`Fields`), for the README and
the index alike: a 10,000-entry database is formatted in about 0.3 s. Escaping is left to
each output: a reference is a list of neutral `Segment`s (text, style, link) that the
Markdown, Typst and JSON renderers each write in their own syntax, as pybtex's backends do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar, NamedTuple
from urllib.parse import quote

from dlg_bib.bibtex import values
from dlg_bib.bibtex.latex import ascii_fold, to_text
from dlg_bib.bibtex.names import Name, parse_name, split_names
from dlg_bib.library import ids
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import (
    F_LEGACY,
    F_NOTE,
    F_TOPICS,
    ROLES,
    Database,
    Entry,
    Group,
    Session,
    split_list,
)

MONTHS = (
    "January February March April May June July August September October November December"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

# The old name of `dlg_bib.bibtex.latex.to_text`, kept for renderers written against it.
decode = to_text


# ---- references ----------------------------------------------------------------------------


class Segment(NamedTuple):
    """A run of reference text: `style` is "" or a role ("authors", "title", "container",
    "label"); `url` (http(s) only) makes it a link."""

    text: str
    style: str = ""
    url: str = ""


class Link(NamedTuple):
    """A way to reach the work: `kind` is doi, arxiv, url or pdf; `url` is http(s)."""

    kind: str
    label: str
    url: str


class Person(NamedTuple):
    """One name of a name list, decoded: as shown in a reference, and as cited."""

    display: str  # "László T. Kóczy"
    family: str  # "Kóczy": particle and family, what a citation shows


@dataclass
class Reference:
    key: str
    anchor: str
    entry_type: str
    title: str
    authors: list[str]
    editors: list[str]
    year: str
    container: str
    volume: str
    number: str
    pages: str
    publisher: str
    doi: str
    arxiv: str
    links: list[Link]
    legacy: list[str]
    note: str
    topics: list[str]
    placeholder: bool
    citation: str  # "Vaswani et al. (2017)"; "Goodfellow et al. (2016), ch. 5"
    segments: list[Segment] = field(default_factory=list)
    # The first link a member should follow: one that opens without a subscription.
    open_link: Link | None = None
    # The entry's field text, already resolved: the JSON index reads more fields from it.
    fields: Fields | None = field(default=None, repr=False, compare=False)

    @property
    def abstract(self) -> str:
        """The abstract as text, decoded when asked: of the outputs only the handout and the
        site show it, and on a large database it is the longest value of many entries."""
        return self.fields.text("abstract") if self.fields is not None else ""

    @property
    def paper_url(self) -> str:
        """The best link to the paper itself: the first of `links` (see LINK_BUILDERS)."""
        return self.links[0].url if self.links else ""

    @property
    def text(self) -> str:
        """The full reference as plain text."""
        return "".join([s.text for s in self.segments])


class Fields:
    """An entry's field text (still LaTeX), with `crossref` inheritance from its parent.

    Every field is resolved once, up front: the README and the index ask for some fields
    many times, and for many fields an entry does not have. `values` holds the non-empty
    ones. A value that does not resolve (bad syntax) raises when it is asked for, as
    `Entry.get` does.
    """

    # BibTeX/biblatex inheritance: a chapter takes its book's title as `booktitle`.
    _RENAMED: ClassVar[dict[str, str]] = {"booktitle": "title"}
    _INHERITED = frozenset(
        "author editor booktitle publisher address year month isbn series volume edition "
        "organization".split()
    )

    def __init__(self, entry: Entry, parent: Entry | None) -> None:
        self.entry = entry
        self.parent = parent
        self.values: dict[str, str] = {}
        # Each of the entry's own fields that resolves, as `Entry.get` gives it (not
        # stripped, not inherited): the JSON index hands these to the CSL mapping, which
        # would otherwise resolve every field a second time.
        self.texts: dict[str, str] = {}
        self._broken: set[str] = set()
        self._arxiv: str | None = None
        self._doi: str | None = None
        self._names: dict[str, list[str]] = {}
        strings = entry.strings
        texts = self.texts
        for name, raw in entry.fields.items():
            if raw[:1] == "{" and raw[-1:] == "}" and "#" not in raw:
                text = raw[1:-1]  # values.resolve's own fast path, without a call
            else:
                try:
                    text = values.resolve(raw, strings)
                except values.ValueSyntaxError:
                    self._broken.add(name)
                    continue
            texts[name] = text
            value = text.strip()
            if value:
                self.values[name] = value
        if parent is not None:
            self._inherit(parent)

    def _inherit(self, parent: Entry) -> None:
        for name in self._INHERITED - self.values.keys() - self._broken:
            try:
                value = parent.get(self._RENAMED.get(name, name)).strip()
            except values.ValueSyntaxError:
                self._broken.add(name)
                continue
            if value:
                self.values[name] = value

    def get(self, name: str) -> str:
        if self._broken and name in self._broken:
            return self._get_as_written(name)
        return self.values.get(name, "")

    def _get_as_written(self, name: str) -> str:
        value = self.entry.get(name).strip()
        if value or self.parent is None or name not in self._INHERITED:
            return value
        return self.parent.get(self._RENAMED.get(name, name)).strip()

    def text(self, name: str) -> str:
        broken = self._broken and name in self._broken
        value = self._get_as_written(name) if broken else self.values.get(name)
        return to_text(value) if value else ""

    def names(self, name: str) -> list[str]:
        """The names of a name-list field (`author`, `editor`) as written (LaTeX)."""
        names = self._names.get(name)
        if names is None:
            value = self.get(name)
            names = self._names[name] = split_names(value) if value else []
        return names

    def people(self, name: str) -> list[Person]:
        """The decoded names of a name-list field (`author`, `editor`)."""
        return [person(part) for part in self.names(name)]

    @property
    def arxiv(self) -> str:
        """The arXiv id (without version) of an `eprint` field, or ""."""
        if self._arxiv is None:
            self._arxiv = _arxiv_id(self)
        return self._arxiv

    @property
    def doi(self) -> str:
        """The bare DOI of the `doi` field, or ""."""
        if self._doi is None:
            value = self.get("doi")
            self._doi = (ids.normalize_doi(value) or "") if value else ""
        return self._doi


@lru_cache(maxsize=1 << 16)
def person(text: str) -> Person:
    """One name as written in a name list, decoded (cached: people recur across entries)."""
    name = parse_name(text)
    return Person(display_name(name), _family(name))


def display_name(name: Name) -> str:
    if name.literal:
        return to_text(name.literal)
    parts = [to_text(p) for p in (name.given, name.particle, name.family) if p]
    text = " ".join(p for p in parts if p)
    # "Hal Daumé III": a Jr/III part follows the family name, it is not a given name.
    return f"{text} {to_text(name.suffix)}" if name.suffix else text


def _family(name: Name) -> str:
    if name.literal:
        return to_text(name.literal)
    return " ".join(to_text(p) for p in (name.particle, name.family) if p)


def join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _citation(people: list[Person], year: str, fallback: Callable[[], str]) -> str:
    if not people:
        label = fallback()
    elif len(people) == 1:
        label = people[0].family
    elif len(people) == 2:
        label = f"{people[0].family} and {people[1].family}"
    else:
        label = f"{people[0].family} et al."
    return f"{label} ({year})" if year else label


def _label_of(entry: Entry, fields: Fields) -> str:
    """What a citation shows for a work without authors: the title, else the key."""
    title = fields.text("title")
    if len(title) > 60:
        title = title[:57].rstrip() + "…"
    return title or entry.key


_PAGE_RANGE = re.compile(r"\s*(?:--?|–)\s*")


def _pages(text: str) -> str:
    return _PAGE_RANGE.sub("–", text) if text else ""


# Each builder returns the links it knows for an entry. A new kind of link (for instance a
# free open-access copy in `oaurl`) is one more function in LINK_BUILDERS.
def _url_link(fields: Fields) -> list[Link]:
    url = safe_url(fields.get("url"))
    return [Link("url", "link", url)] if url else []


def _pdf_link(fields: Fields) -> list[Link]:
    url = safe_url(fields.get("pdf"))
    return [Link("pdf", "PDF", url)] if url else []


_DOI_URL_SAFE = "/:;@"
# What `quote(doi, safe=_DOI_URL_SAFE)` leaves as it is: then it need not run.
_QUOTE_UNCHANGED = re.compile(r"[A-Za-z0-9_.~/:;@-]*")


def _doi_link(fields: Fields) -> list[Link]:
    doi = fields.doi
    if not doi:
        return []
    path = doi if _QUOTE_UNCHANGED.fullmatch(doi) else quote(doi, safe=_DOI_URL_SAFE)
    return [Link("doi", f"doi:{doi}", ids.doi_url(path))]


# How a free copy's host and version read in a link label ("free copy (arXiv, submitted)").
_FREE_HOSTS = {"arxiv": "arXiv", "pmc": "PubMed Central", "publisher": "publisher"}


def _free_copy_link(fields: Fields) -> list[Link]:
    """The legal open-access copy (`oaurl`), unless it is the entry's own `url`/`pdf` link."""
    url = safe_url(fields.get("oaurl"))
    if not url or url in (safe_url(fields.get("url")), safe_url(fields.get("pdf"))):
        return []
    host = fields.text("oahost")
    details = [_FREE_HOSTS.get(host, host), fields.text("oaversion")]
    shown = ", ".join(d for d in details if d)
    return [Link("free", f"free copy ({shown})" if shown else "free copy", url)]


def free_copy_note(fields: Fields) -> str:
    """`oanote` ("no legal free copy known") when the entry has no free copy."""
    return "" if fields.get("oaurl").strip() else fields.text("oanote")


# How the link a member opens first is labelled, by the free copy's host.
_OPEN_LABELS = {"arxiv": "arXiv", "web": "link"}


def open_link(fields: Fields, links: list[Link]) -> Link | None:
    """The link to show first: the legal free copy (`oaurl`) when there is one, because a
    DOI usually leads to a paywall off campus; else the first link (DOI, arXiv, page)."""
    url = safe_url(fields.get("oaurl"))
    if url:
        label = _OPEN_LABELS.get(fields.text("oahost"), "free copy")
        return Link("free", label, url)
    return links[0] if links else None


def _arxiv_link(fields: Fields) -> list[Link]:
    arxiv = fields.arxiv
    return [Link("arxiv", f"arXiv:{arxiv}", ids.arxiv_abs_url(arxiv))] if arxiv else []


LINK_BUILDERS: list[Callable[[Fields], list[Link]]] = [
    _doi_link,
    _arxiv_link,
    _free_copy_link,
    _url_link,
    _pdf_link,
]


def _arxiv_id(fields: Fields) -> str:
    eprint = fields.get("eprint")
    if not eprint:
        return ""
    prefix = fields.get("archiveprefix").lower() or fields.get("eprinttype").lower()
    if prefix in ("arxiv", ""):
        parsed = ids.parse_arxiv_id(eprint)
        if parsed:
            return parsed[0] + parsed[1]
    return ""


def _links(fields: Fields) -> list[Link]:
    links: list[Link] = []
    urls: set[str] = set()
    for build in LINK_BUILDERS:
        for link in build(fields):
            if link.url not in urls:
                links.append(link)
                urls.add(link.url)
    return links


_CONTAINER_FIELDS = (
    "journal",
    "journaltitle",
    "booktitle",
    "howpublished",
    "school",
    "institution",
)


def _container(fields: Fields) -> str:
    for name in _CONTAINER_FIELDS:
        text = fields.text(name)
        if text and safe_url(text) == "" and not text.startswith(("\\url", "<")):
            return text
    return ""


_IN_TYPES = frozenset(("inbook", "incollection", "inproceedings"))


# Separators recur in every reference; segments are immutable, so one of each is enough.
_DOT = Segment(". ")
_SEPARATOR = Segment(" · ")
_IN = Segment("In: ")


def _edition(fields: Fields) -> str:
    edition = fields.text("edition")
    if not edition:
        return ""
    if edition.isdigit():
        n = int(edition)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        edition = f"{n}{suffix}"
    return edition[0].upper() + edition[1:] + " edition"


def _series(ref: Reference, fields: Fields) -> str:
    """ "Lecture Notes in Computer Science, vol. 4109": a series takes the volume number."""
    series = fields.text("series")
    if not series:
        return ""
    return f"{series}, vol. {ref.volume}" if ref.volume else series


def reference_segments(ref: Reference, fields: Fields) -> list[Segment]:
    """The full reference: authors, year, title, container, numbers, publisher, note, links."""
    out: list[Segment] = []
    add = out.append
    authors, editors = ref.authors, ref.editors
    people = authors or editors
    year = f" ({ref.year}). " if ref.year else ""
    if people:
        suffix = "" if authors else (" (ed.)" if len(people) == 1 else " (eds.)")
        names = join_names(people) + suffix
        if names:
            add(Segment(names, "authors"))
        add(Segment(year) if year else _DOT)
    title = ref.title or ref.key
    if title:
        add(Segment(title, "title"))
    add(Segment(year) if year and not people else _DOT)
    if ref.container:
        if ref.entry_type in _IN_TYPES:
            if authors and editors:
                role = "(ed.)" if len(editors) == 1 else "(eds.)"
                add(Segment(f"In: {join_names(editors)} {role}, "))
            else:
                add(_IN)
        add(Segment(ref.container, "container"))
        numbers = _numbers(ref, fields)
        add(Segment(f", {numbers}. ") if numbers else _DOT)
    elif numbers := _numbers(ref, fields):
        add(Segment(numbers[0].upper() + numbers[1:] + ". "))
    for extra in (_edition(fields), _series(ref, fields)):
        if extra:
            add(Segment(extra + ". "))
    place = fields.text("address")
    publisher = ", ".join(p for p in (ref.publisher, place) if p) if place else ref.publisher
    if publisher:
        add(Segment(publisher + ". "))
    if ref.note:
        add(Segment(f"Note: {ref.note}" + ("" if ref.note.endswith((".", "?", "!")) else ".")))
        if ref.links:
            add(Segment(" "))
    for i, link in enumerate(ref.links):
        if i:
            add(_SEPARATOR)
        if link.label:
            add(Segment(link.label, "link", link.url))
    note = free_copy_note(fields)
    if note:
        if ref.links:
            add(_SEPARATOR)
        add(Segment(note, "note"))
    for label in ref.legacy:
        # Always a separator: the label never runs into a link, a note or another label.
        add(Segment("· ") if out[-1].text.endswith(" ") else _SEPARATOR)
        add(Segment(f"[{label}]", "label"))
    return out


def _numbers(ref: Reference, fields: Fields) -> str:
    parts = []
    # In a series the volume is the series' (see _series), not the proceedings'.
    volume = "" if fields.get("series") else ref.volume
    if volume:
        parts.append(f"vol. {volume}" + (f"({ref.number})" if ref.number else ""))
    elif ref.number:
        parts.append(f"no. {ref.number}")
    chapter = fields.text("chapter")
    if chapter:
        parts.append(f"chapter {chapter}")
    article = fields.text("articleno") or fields.text("eid")
    if article:
        # ACM numbers articles; "pp. 1–35" would only repeat the article's own page count.
        parts.append(f"article {article}")
    elif ref.pages:
        parts.append(f"pp. {ref.pages}" if "–" in ref.pages else f"p. {ref.pages}")
    return ", ".join(parts)


def citation_of(entry: Entry, fields: Fields, people: list[Person], year: str) -> str:
    """ "Vaswani et al. (2017)"; a chapter adds its number ("Goodfellow et al. (2016), ch. 5")
    so two chapters of one book are told apart; a placeholder is no author or year."""
    if entry.is_placeholder:
        labels = entry.legacy_labels
        return f"unidentified (legacy {labels[0]})" if labels else "unidentified"
    citation = _citation(people, year, lambda: _label_of(entry, fields))
    chapter = fields.text("chapter")
    return f"{citation}, ch. {chapter}" if chapter else citation


def build_reference(entry: Entry, db: Database, anchor: str) -> Reference:
    fields = fields_of(entry, db)
    text = fields.text
    authors = fields.people("author")
    editors = fields.people("editor")
    year = text("year")
    ref = Reference(
        key=entry.key,
        anchor=anchor,
        entry_type=entry.entry_type,
        title=text("title"),
        authors=[p.display for p in authors],
        editors=[p.display for p in editors],
        year=year,
        container=_container(fields),
        volume=text("volume"),
        number=text("number"),
        pages=_pages(text("pages")),
        publisher=text("publisher") or text("organization"),
        doi=fields.doi,
        arxiv=fields.arxiv,
        links=_links(fields),
        legacy=_list(fields, F_LEGACY),
        note=text(F_NOTE),
        topics=_list(fields, F_TOPICS),
        placeholder=entry.is_placeholder,
        citation=citation_of(entry, fields, authors or editors, year),
        fields=fields,
    )
    ref.segments = reference_segments(ref, fields)
    ref.open_link = open_link(fields, ref.links)
    return ref


def fields_of(entry: Entry, db: Database) -> Fields:
    """An entry's fields, inheriting from the entry its `crossref` names (a chapter's book)."""
    if "crossref" not in entry.fields or not entry.has("crossref"):
        return Fields(entry, None)
    parent = db.find(entry.get("crossref").strip())
    return Fields(entry, parent if parent is not entry else None)


def _list(fields: Fields, name: str) -> list[str]:
    """A comma-separated dlg field (`dlg-topics`, `dlg-legacy`), as `Entry` splits it."""
    value = fields.get(name)
    return split_list(value) if value else []


_NOT_ANCHOR = re.compile(r"[^a-z0-9]+")


def anchor_of(key: str, taken: set[str]) -> str:
    """`ref-<key>` with only [a-z0-9-]: safe as an HTML id and a URL fragment."""
    folded = key if key.isascii() else ascii_fold(key)
    base = "ref-" + (_NOT_ANCHOR.sub("-", folded.lower()).strip("-") or "x")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def _fold(text: str) -> str:
    # Diacritics dropped and case-folded: `Pękalska` sorts as `pekalska`, before `peters`.
    return (text if text.isascii() else ascii_fold(text)).casefold()


def _sort_key(ref: Reference) -> tuple[str, str, str, str]:
    family = ref.citation.split(" (")[0]
    return (_fold(family), ref.year, _fold(ref.title), ref.key)


# ---- sessions --------------------------------------------------------------------------------


# How each role reads in front of a reading: a reading is never shown as main when it is not.
ROLE_LABELS = {
    "main": "Main",
    "reading": "Also",
    "prerequisite": "Background",
    "supplementary": "Supplementary",
}


class RoleReading(NamedTuple):
    role: str  # main, reading, prerequisite, supplementary
    label: str  # Main, Also, Background, Supplementary
    ref: Reference


@dataclass
class SessionView:
    date: str
    date_label: str  # "Friday, September 3, 2021"
    short_date: str  # "Sep 3, 2021"
    title: str
    topic: str  # meta-topic id
    topic_title: str
    notes: str
    main: list[Reference]
    readings: list[Reference]
    prerequisites: list[Reference]
    status: str  # "past", "next" or "upcoming"
    supplementary: list[Reference] = field(default_factory=list)
    curator: str = ""
    heading: str = ""  # the title of the session's own section in the README
    # The meta-topic when the title does not already say it ("" otherwise).
    distinct_topic: str = ""

    @property
    def is_next(self) -> bool:
        return self.status == "next"

    @property
    def all_readings(self) -> list[Reference]:
        return [*self.main, *self.readings, *self.prerequisites, *self.supplementary]

    @property
    def labelled(self) -> list[RoleReading]:
        """Every reading with its role's label, main first."""
        by_role = {
            "main": self.main,
            "reading": self.readings,
            "prerequisite": self.prerequisites,
            "supplementary": self.supplementary,
        }
        return [RoleReading(r, ROLE_LABELS[r], ref) for r in ROLES for ref in by_role[r]]

    @property
    def headline(self) -> list[RoleReading]:
        """What the schedule table shows: the main reading(s), else the session's readings."""
        return [x for x in self.labelled if x.role == ("main" if self.main else "reading")]


def date_label(date: dt.date) -> str:
    return f"{WEEKDAYS[date.weekday()]}, {MONTHS[date.month - 1]} {date.day}, {date.year}"


def short_date(date: dt.date) -> str:
    return f"{MONTHS[date.month - 1][:3]} {date.day}, {date.year}"


def next_session(sessions: list[Session], today: dt.date) -> Session | None:
    """The first session on or after `today`, or None when the term is over."""
    return next((s for s in sorted(sessions, key=lambda s: s.date) if s.date >= today), None)


def _session_view(
    session: Session, db: Database, refs: dict[str, Reference], upcoming: Session | None
) -> SessionView:
    topic = db.topic(session.topic)
    status = "past"
    if upcoming is not None and session.date >= upcoming.date:
        status = "next" if session is upcoming else "upcoming"

    def with_role(role: str) -> list[Reference]:
        return [refs[k] for k in session.keys_with_role(role) if k in refs]

    return SessionView(
        date=session.id,
        date_label=date_label(session.date),
        short_date=short_date(session.date),
        title=session.title,
        topic=session.topic,
        topic_title=topic.title if topic else session.topic,
        notes=session.notes,
        main=with_role("main"),
        readings=with_role("reading"),
        prerequisites=with_role("prerequisite"),
        supplementary=with_role("supplementary"),
        status=status,
        curator=session.curator,
        heading=f"{short_date(session.date)}: {session.title}",
        distinct_topic=_distinct_topic(session.title, topic.title if topic else session.topic),
    )


def _distinct_topic(title: str, topic: str) -> str:
    """The meta-topic, unless the session's title already contains it."""
    return "" if topic.casefold() in title.casefold() else topic


# ---- the whole context -----------------------------------------------------------------------


@dataclass
class TopicView:
    id: str
    title: str
    sessions: list[str]  # dates


class TermLink(NamedTuple):
    """An earlier term, as the README lists it: its name and its page on the site."""

    name: str
    url: str  # "" when the site's address is not known


@dataclass
class Context:
    """Everything a template sees (documented in templates/README.md)."""

    group: Group
    meeting: str  # "Fridays, 11:00–12:30, ACS 362B"
    topics: list[TopicView]
    sessions: list[SessionView]
    references: list[Reference]  # sorted by first author, year, title
    next_session: SessionView | None
    today: str
    term_over: bool = False  # every session is past: the page speaks in the past tense
    term_start: str = ""  # "September 3, 2021"
    # With several terms: the term shown ("" with one), and the earlier terms, latest first.
    term_name: str = ""
    earlier_terms: list[TermLink] = field(default_factory=list)

    def reference(self, key: str) -> Reference | None:
        return next((r for r in self.references if r.key == key), None)


def meeting_text(group: Group) -> str:
    day = f"{group.day}s" if group.day and not group.day.endswith("s") else group.day
    hours = "–".join(t for t in (group.start_time, group.end_time) if t)
    return ", ".join(p for p in (day, hours, group.room) if p)


def build_context(db: Database, today: dt.date, keys: set[str] | None = None) -> Context:
    """The view-model; with `keys`, only those references are formatted (handouts)."""
    taken: set[str] = set()
    refs = {
        e.key: build_reference(e, db, anchor_of(e.key, taken))
        for e in db.entries
        if keys is None or e.key in keys
    }
    upcoming = next_session(db.sessions, today)
    sessions = [_session_view(s, db, refs, upcoming) for s in db.sessions]
    topics = [
        TopicView(t.id, t.title, [s.date for s in sessions if s.topic == t.id]) for t in db.topics
    ]
    return Context(
        group=db.group,
        meeting=meeting_text(db.group),
        topics=topics,
        sessions=sessions,
        references=sorted(refs.values(), key=_sort_key),
        next_session=next((s for s in sessions if s.is_next), None),
        today=today.isoformat(),
        term_over=bool(sessions) and upcoming is None,
        term_start=_long_date(db.group.term_start),
    )


def _long_date(iso: str) -> str:
    try:
        date = dt.date.fromisoformat(iso.strip())
    except ValueError:
        return iso.strip()
    return f"{MONTHS[date.month - 1]} {date.day}, {date.year}"
