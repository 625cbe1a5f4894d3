"""The view-model every output renders: sessions, topics and fully formatted references.

Pure: built from a `model.Database` and a `today` date, nothing else. Text is decoded from
LaTeX to Unicode here, once, only for the fields that are rendered (and `latex_to_text`
skips the parser for values without LaTeX, and caches). Escaping is left to each output:
a reference is a list of neutral `Segment`s (text, style, link) that the Markdown, Typst and
JSON renderers each write in their own syntax, as pybtex's backends do.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar
from urllib.parse import quote

from dlg_bib import ids
from dlg_bib.model import Database, Entry, Group, Session
from dlg_bib.names import Name, parse_names
from dlg_bib.render.escape import safe_url
from dlg_bib.render.latex import fast_latex_to_text
from dlg_bib.text import ascii_fold, latex_to_text

# TeX primitives that read or write files or redefine things: shown as written, never
# interpreted or silently dropped (pylatexenc drops `\input{…}` without a trace).
_UNSAFE_TEX = re.compile(
    r"\\(?:input|include|includeonly|openin|openout|read|write|immediate|catcode|def|"
    r"edef|gdef|xdef|let|csname|usepackage|special)(?![A-Za-z])"
)

MONTHS = (
    "January February March April May June July August September October November December"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


def decode(value: str) -> str:
    """Unicode text of a LaTeX field value (math as Unicode too: `$\\ell_1$` -> `ℓ_1`)."""
    if not value:
        return ""
    if _UNSAFE_TEX.search(value):
        return " ".join(value.split())
    fast = fast_latex_to_text(value)
    return fast if fast is not None else latex_to_text(value, keep_math=False)


# ---- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of reference text: `style` is "" or a role ("authors", "title", "container",
    "label"); `url` (http(s) only) makes it a link."""

    text: str
    style: str = ""
    url: str = ""


@dataclass(frozen=True)
class Link:
    """A way to reach the work: `kind` is doi, arxiv, url or pdf; `url` is http(s)."""

    kind: str
    label: str
    url: str


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
    abstract: str
    note: str
    topics: list[str]
    placeholder: bool
    citation: str  # "Vaswani et al. (2017)"
    segments: list[Segment] = field(default_factory=list)

    @property
    def paper_url(self) -> str:
        """The best link to the paper itself: the first of `links` (see LINK_BUILDERS)."""
        return self.links[0].url if self.links else ""

    @property
    def text(self) -> str:
        """The full reference as plain text."""
        return "".join(s.text for s in self.segments)


class Fields:
    """An entry's field text (still LaTeX), with `crossref` inheritance from its parent."""

    # BibTeX/biblatex inheritance: a chapter takes its book's title as `booktitle`.
    _RENAMED: ClassVar[dict[str, str]] = {"booktitle": "title"}
    _INHERITED = frozenset(
        "author editor booktitle publisher address year month isbn series volume edition "
        "organization".split()
    )

    def __init__(self, entry: Entry, parent: Entry | None) -> None:
        self.entry = entry
        self.parent = parent

    def get(self, name: str) -> str:
        value = self.entry.get(name).strip()
        if value or self.parent is None or name not in self._INHERITED:
            return value
        return self.parent.get(self._RENAMED.get(name, name)).strip()

    def text(self, name: str) -> str:
        return decode(self.get(name))


@lru_cache(maxsize=65536)
def names_of(text: str) -> tuple[Name, ...]:
    """The names in a name-list field (cached: the index and the README both ask)."""
    return tuple(parse_names(text))


def display_name(name: Name) -> str:
    if name.literal:
        return decode(name.literal)
    parts = [decode(p) for p in (name.given, name.particle, name.family) if p]
    text = " ".join(p for p in parts if p)
    return f"{text}, {decode(name.suffix)}" if name.suffix else text


def _family(name: Name) -> str:
    if name.literal:
        return decode(name.literal)
    return " ".join(decode(p) for p in (name.particle, name.family) if p)


def join_names(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _citation(names: list[Name], year: str, fallback: str) -> str:
    if not names:
        label = fallback
    elif len(names) == 1:
        label = _family(names[0])
    elif len(names) == 2:
        label = f"{_family(names[0])} and {_family(names[1])}"
    else:
        label = f"{_family(names[0])} et al."
    return f"{label} ({year})" if year else label


def _label_of(entry: Entry, fields: Fields) -> str:
    """What a citation shows for a work without authors: a placeholder's legacy label, the
    title, else the key."""
    if entry.is_placeholder and entry.legacy_labels:
        return entry.legacy_labels[0]
    title = fields.text("title")
    if len(title) > 60:
        title = title[:57].rstrip() + "…"
    return title or entry.key


def _pages(text: str) -> str:
    return re.sub(r"\s*(?:--?|–)\s*", "–", text)


# Each builder returns the links it knows for an entry. A new kind of link (for instance a
# free open-access copy in `oaurl`) is one more function in LINK_BUILDERS.
def _url_link(fields: Fields) -> list[Link]:
    url = safe_url(fields.get("url"))
    return [Link("url", "link", url)] if url else []


def _pdf_link(fields: Fields) -> list[Link]:
    url = safe_url(fields.get("pdf"))
    return [Link("pdf", "PDF", url)] if url else []


def _doi_link(fields: Fields) -> list[Link]:
    doi = ids.normalize_doi(fields.get("doi"))
    if not doi:
        return []
    return [Link("doi", f"doi:{doi}", ids.doi_url(quote(doi, safe="/:;@")))]


def _arxiv_link(fields: Fields) -> list[Link]:
    arxiv = _arxiv_id(fields)
    return [Link("arxiv", f"arXiv:{arxiv}", ids.arxiv_abs_url(arxiv))] if arxiv else []


LINK_BUILDERS: list[Callable[[Fields], list[Link]]] = [
    _doi_link,
    _arxiv_link,
    _url_link,
    _pdf_link,
]


def _arxiv_id(fields: Fields) -> str:
    prefix = fields.get("archiveprefix").lower() or fields.get("eprinttype").lower()
    eprint = fields.get("eprint")
    if eprint and prefix in ("arxiv", ""):
        parsed = ids.parse_arxiv_id(eprint)
        if parsed:
            return parsed[0] + parsed[1]
    return ""


def _links(fields: Fields) -> list[Link]:
    links: list[Link] = []
    for build in LINK_BUILDERS:
        for link in build(fields):
            if all(link.url != known.url for known in links):
                links.append(link)
    return links


def _container(fields: Fields) -> str:
    for name in ("journal", "journaltitle", "booktitle", "howpublished", "school", "institution"):
        text = fields.text(name)
        if text and safe_url(text) == "" and not text.startswith(("\\url", "<")):
            return text
    return ""


def reference_segments(ref: Reference, fields: Fields) -> list[Segment]:
    """The full reference: authors, year, title, container, numbers, publisher, links."""
    out: list[Segment] = []
    people = ref.authors or ref.editors
    if people:
        suffix = " (ed.)" if not ref.authors and len(people) == 1 else ""
        suffix = " (eds.)" if not ref.authors and len(people) > 1 else suffix
        out.append(Segment(join_names(people) + suffix, "authors"))
    year = f" ({ref.year})" if ref.year else ""
    if people:
        out.append(Segment(f"{year}. "))
    out.append(Segment(ref.title or ref.key, "title"))
    out.append(Segment(". " if people else f"{year}. "))
    if ref.container:
        prefix = "In: " if ref.entry_type in ("inbook", "incollection", "inproceedings") else ""
        if prefix and ref.authors and ref.editors:
            out.append(Segment(f"In: {join_names(ref.editors)} (ed.), "))
            prefix = ""
        out.append(Segment(prefix))
        out.append(Segment(ref.container, "container"))
        numbers = _numbers(ref, fields)
        out.append(Segment(f", {numbers}. " if numbers else ". "))
    elif numbers := _numbers(ref, fields):
        out.append(Segment(numbers[0].upper() + numbers[1:] + ". "))
    place = fields.text("address")
    publisher = ", ".join(p for p in (ref.publisher, place) if p)
    if publisher:
        out.append(Segment(publisher + ". "))
    for i, link in enumerate(ref.links):
        out.append(Segment(" · " if i else ""))
        out.append(Segment(link.label, "link", link.url))
    for label in ref.legacy:
        out.append(Segment(" · " if (ref.links or label != ref.legacy[0]) else ""))
        out.append(Segment(f"[{label}]", "label"))
    return [s for s in out if s.text]


def _numbers(ref: Reference, fields: Fields) -> str:
    parts = []
    if ref.volume:
        parts.append(f"vol. {ref.volume}" + (f"({ref.number})" if ref.number else ""))
    elif ref.number:
        parts.append(f"no. {ref.number}")
    chapter = fields.text("chapter")
    if chapter:
        parts.append(f"chapter {chapter}")
    if ref.pages:
        parts.append(f"pp. {ref.pages}" if "–" in ref.pages else f"p. {ref.pages}")
    return ", ".join(parts)


def build_reference(entry: Entry, db: Database, anchor: str) -> Reference:
    parent = db.find(entry.get("crossref").strip()) if entry.has("crossref") else None
    fields = Fields(entry, parent if parent is not entry else None)
    author_names = list(names_of(fields.get("author")))
    editor_names = list(names_of(fields.get("editor")))
    year = fields.text("year")
    ref = Reference(
        key=entry.key,
        anchor=anchor,
        entry_type=entry.entry_type,
        title=fields.text("title"),
        authors=[display_name(n) for n in author_names],
        editors=[display_name(n) for n in editor_names],
        year=year,
        container=_container(fields),
        volume=fields.text("volume"),
        number=fields.text("number"),
        pages=_pages(fields.text("pages")),
        publisher=fields.text("publisher") or fields.text("organization"),
        doi=ids.normalize_doi(fields.get("doi")) or "",
        arxiv=_arxiv_id(fields),
        links=_links(fields),
        legacy=entry.legacy_labels,
        abstract=fields.text("abstract"),
        note=decode(entry.get("dlg-note")),
        topics=entry.topics,
        placeholder=entry.is_placeholder,
        citation=_citation(author_names or editor_names, year, _label_of(entry, fields)),
    )
    ref.segments = reference_segments(ref, fields)
    return ref


def anchor_of(key: str, taken: set[str]) -> str:
    """`ref-<key>` with only [a-z0-9-]: safe as an HTML id and a URL fragment."""
    base = "ref-" + (re.sub(r"[^a-z0-9]+", "-", ascii_fold(key).lower()).strip("-") or "x")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def _fold(text: str) -> str:
    # Decomposed and case-folded: `Pękalska` sorts with `Pekalska`, cheaply.
    return unicodedata.normalize("NFKD", text).casefold()


def _sort_key(ref: Reference) -> tuple[str, str, str, str]:
    family = ref.citation.split(" (")[0]
    return (_fold(family), ref.year, _fold(ref.title), ref.key)


# ---- sessions --------------------------------------------------------------------------------


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

    @property
    def is_next(self) -> bool:
        return self.status == "next"

    @property
    def all_readings(self) -> list[Reference]:
        return [*self.main, *self.readings, *self.prerequisites]


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
        status=status,
    )


# ---- the whole context -----------------------------------------------------------------------


@dataclass
class TopicView:
    id: str
    title: str
    sessions: list[str]  # dates


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
    )
