"""The static site: one page per term, meta-topic and reference, searchable with Pagefind.

Pages come from the Jinja templates in `dlg_bib/data/site/` (overridable file by file like
every template, see `environment.template_dirs`), with autoescape on: every value a
template prints is HTML-escaped unless it is `Markup` built here from escaped pieces (the
formatted citations, re-serialised from pandoc's HTML through a whitelist). Links to the
outside are the context's, already limited to http(s) by `safe_url`.

Deterministic: the same database, day and templates give the same bytes (no build time is
printed; the handouts and the calendar are deterministic themselves, and Pagefind's index
is a function of the pages).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from dlg_bib.errors import DlgBibError, WriteError
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import Database, Term
from dlg_bib.render import environment
from dlg_bib.render.context import (
    ROLE_LABELS,
    Context,
    Reference,
    SessionView,
    TermLink,
    build_context,
    free_copy_note,
)
from dlg_bib.render.output import write_file

TEMPLATE_DIR = "site"
CALENDAR = "dlg.ics"
INDEX_JSON = "index.json"
HANDOUTS = "handouts"
PAGEFIND_DIR = "pagefind"
CITATION_STYLES = ("apa", "ieee")
STYLE_NAMES = {"apa": "APA", "ieee": "IEEE"}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class SearchIndexError(DlgBibError):
    """Pagefind could not build the search index (the pages themselves were written)."""

    exit_code = 1


# ---- the site's model ---------------------------------------------------------------------


@dataclass
class TermPage:
    id: str
    name: str
    first: str  # "September 3, 2021"
    last: str
    path: str  # "terms/2021-fall.html"
    meeting: str
    sessions: list[SessionView]
    first_date: dt.date
    current: bool = False


@dataclass
class TopicPage:
    id: str
    title: str
    path: str
    sessions: list[SessionView]
    references: list[Reference]


@dataclass
class ReadIn:
    """A session a reference was read in, with its role there."""

    session: SessionView
    role: str
    label: str
    term: TermPage | None


@dataclass
class ReferencePage:
    ref: Reference
    path: str
    read_in: list[ReadIn] = field(default_factory=list)
    topics: list[TopicPage] = field(default_factory=list)
    citations: dict[str, Markup] = field(default_factory=dict)  # style -> formatted
    bibtex: str = ""
    free_copy: str = ""  # URL of the legal free copy
    free_copy_note: str = ""  # "no legal free copy known"


@dataclass
class Site:
    ctx: Context
    terms: list[TermPage]
    current: TermPage | None
    topics: list[TopicPage]
    references: list[ReferencePage]
    handouts: dict[str, str]  # session date or "term" -> path
    has_calendar: bool
    has_index: bool
    search: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def earlier_terms(self) -> list[TermPage]:
        if self.current is None:
            return []
        return [t for t in self.terms if t.first_date < self.current.first_date]


def slug(text: str, taken: set[str]) -> str:
    """A file name made of [a-z0-9-], unique among `taken`."""
    base = _NOT_SLUG.sub("-", text.lower()).strip("-") or "x"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def current_term(terms: list[Term], today: dt.date) -> Term | None:
    """The term holding `today`, else the latest that has begun, else the first to come."""
    if not terms:
        return None
    ordered = sorted(terms, key=lambda t: (t.first, t.last))
    for term in ordered:
        if term.contains(today):
            return term
    begun = [t for t in ordered if t.first <= today]
    return begun[-1] if begun else ordered[0]


def term_paths(terms: list[Term]) -> dict[str, str]:
    """Each term's page on the site ("terms/2021-fall.html"), by term id."""
    taken: set[str] = set()
    ordered = sorted(terms, key=lambda t: (t.first, t.last))
    return {t.id: f"terms/{slug(t.id, taken)}.html" for t in ordered}


_GITHUB_REPO = re.compile(r"^https?://github\.com/([^/]+)/([^/#?]+?)(?:\.git)?/?$", re.IGNORECASE)


def site_url(db: Database) -> str:
    """Where the site is published: `site_url` in group.toml, else the GitHub Pages address
    of `repository` (https://OWNER.github.io/REPO/), else ""."""
    explicit = safe_url(db.group.site_url)
    if explicit:
        return explicit if explicit.endswith("/") else explicit + "/"
    match = _GITHUB_REPO.match(db.group.repository.strip())
    if match is None:
        return ""
    owner, repo = match.group(1).lower(), match.group(2)
    host = f"{owner}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def focus_on_current_term(ctx: Context, db: Database, today: dt.date) -> None:
    """The README of a group with several terms: the current term's sessions (or the latest
    past term's), its meeting time, and links to the earlier terms' pages on the site."""
    term = current_term(db.terms, today)
    if term is None:
        return
    dates = {s.id for s in db.sessions_in(term)}
    ctx.sessions = [s for s in ctx.sessions if s.date in dates]
    for topic in ctx.topics:
        topic.sessions = [d for d in topic.sessions if d in dates]
    ctx.term_name = term.name
    ctx.term_over = ctx.term_over and today > term.last
    ctx.meeting = _meeting(db, term)
    ctx.term_start = long_date(term.first)
    base, paths = site_url(db), term_paths(db.terms)
    earlier = sorted((t for t in db.terms if t.first < term.first), key=lambda t: t.first)
    ctx.earlier_terms = [
        TermLink(t.name, base + paths[t.id] if base else "") for t in reversed(earlier)
    ]


def long_date(day: dt.date) -> str:
    return day.strftime("%B ") + f"{day.day}, {day.year}"


def _meeting(db: Database, term: Term) -> str:
    day, start, end, room = term.meeting(db.group)
    day = f"{day}s" if day and not day.endswith("s") else day
    hours = "–".join(t for t in (start, end) if t)
    return ", ".join(p for p in (day, hours, room) if p)


def build_model(db: Database, today: dt.date) -> Site:
    ctx = build_context(db, today)
    views = {s.date: s for s in ctx.sessions}
    paths = term_paths(db.terms)
    now = current_term(db.terms, today)
    terms: list[TermPage] = []
    term_of_session: dict[str, TermPage] = {}
    for term in sorted(db.terms, key=lambda t: (t.first, t.last)):
        term_page = TermPage(
            id=term.id,
            name=term.name,
            first=long_date(term.first),
            last=long_date(term.last),
            path=paths[term.id],
            meeting=_meeting(db, term),
            sessions=[views[s.id] for s in db.sessions_in(term) if s.id in views],
            first_date=term.first,
            current=term == now,
        )
        terms.append(term_page)
        for s in term_page.sessions:
            term_of_session[s.date] = term_page
    taken: set[str] = set()
    topics = [
        TopicPage(t.id, t.title, f"topics/{slug(t.id, taken)}.html", [], []) for t in ctx.topics
    ]
    topic_by_id = {t.id: t for t in topics}
    for s in ctx.sessions:
        if s.topic in topic_by_id:
            topic_by_id[s.topic].sessions.append(s)
    pages: list[ReferencePage] = []
    by_key: dict[str, ReferencePage] = {}
    for ref in ctx.references:
        page = ReferencePage(ref, f"refs/{ref.anchor.removeprefix('ref-')}.html")
        page.topics = [topic_by_id[t] for t in ref.topics if t in topic_by_id]
        for topic in page.topics:
            topic.references.append(ref)
        fields = ref.fields
        page.free_copy = next((k.url for k in ref.links if k.kind == "free"), "")
        if not page.free_copy and fields is not None:
            page.free_copy = safe_url(fields.get("oaurl"))
        page.free_copy_note = free_copy_note(fields) if fields is not None else ""
        pages.append(page)
        by_key[ref.key] = page
    for s in ctx.sessions:
        for item in s.labelled:
            target = by_key.get(item.ref.key)
            if target is not None:
                target.read_in.append(ReadIn(s, item.role, item.label, term_of_session.get(s.date)))
    current = next((t for t in terms if t.current), None)
    return Site(ctx, terms, current, topics, pages, {}, False, False)


# ---- formatted citations and BibTeX --------------------------------------------------------


_KEEP_TAGS = frozenset(("em", "i", "strong", "b", "sup", "sub"))


class _CitationParser(HTMLParser):
    """pandoc's bibliography HTML, re-serialised: text escaped, only inline emphasis kept,
    links only to http(s); each `csl-entry` by the key in its id; IEEE's `[n]` dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: dict[str, list[str]] = {}
        self._key: str | None = None
        self._depth = 0
        self._skip_depth = 0  # > 0 inside the number column of a numbered style
        self._open: list[str] = []  # for every open tag: the end tag to write, or ""
        self._in_script = False  # pandoc writes none; a script's text is dropped, not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._in_script = True
            return
        if self._key is None:
            if tag == "div" and "csl-entry" in values.get("class", "").split():
                self._key = values.get("id", "").removeprefix("ref-")
                self.entries[self._key] = []
                self._depth = 1
            return
        if tag == "div":
            self._depth += 1
            if self._skip_depth or "csl-left-margin" in values.get("class", "").split():
                self._skip_depth += 1
        if self._skip_depth:
            self._open.append("")
            return
        out = self.entries[self._key]
        if tag in _KEEP_TAGS:
            out.append(f"<{tag}>")
            self._open.append(f"</{tag}>")
        elif tag == "a" and safe_url(values.get("href", "")):
            out.append(f'<a href="{escape(safe_url(values["href"]))}">')
            self._open.append("</a>")
        else:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in_script = False
            return
        if self._key is None:
            return
        if tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self._key = None
                self._open = []
                return
            if self._skip_depth:
                self._skip_depth -= 1
                if self._open:
                    self._open.pop()
                return
        if self._open:
            closing = self._open.pop()
            if closing and not self._skip_depth:
                self.entries[self._key].append(closing)

    def handle_data(self, data: str) -> None:
        if self._key is not None and not self._skip_depth and not self._in_script:
            self.entries[self._key].append(str(escape(data)))


def parse_bibliography(html: str) -> dict[str, Markup]:
    """Each entry of a pandoc HTML bibliography as safe markup, by lowercased key."""
    parser = _CitationParser()
    parser.feed(html)
    parser.close()
    return {
        key.lower(): Markup(" ".join("".join(parts).split()))
        for key, parts in parser.entries.items()
    }


# pandoc's APA grows faster than linearly with the number of references (about 2 s for
# 1,000 generated ones, 5.5 s for 2,000): references go to pandoc in batches of this size.
CITE_BATCH = 500


def _signature(item: dict[str, Any]) -> tuple[str, str]:
    """What author-date styles disambiguate on (first author, year): works sharing it stay in
    one batch, so "2016a"/"2016b" come out as from a single run over all references."""
    people = item.get("author") or item.get("editor") or [{}]
    first = people[0]
    name = str(first.get("family") or first.get("literal") or item.get("title") or "")
    issued = item.get("issued", {}).get("date-parts", [[""]])[0]
    return name.casefold(), str(issued[0] if issued else "")


def batches(items: list[dict[str, Any]], size: int = CITE_BATCH) -> list[list[dict[str, Any]]]:
    """`items` in batches of about `size`, never splitting works of one signature."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(_signature(item), []).append(item)
    out: list[list[dict[str, Any]]] = [[]]
    for group in groups.values():
        if out[-1] and len(out[-1]) + len(group) > size:
            out.append([])
        out[-1].extend(group)
    return [b for b in out if b]


def citations(db: Database, keys: list[str]) -> tuple[dict[str, dict[str, Markup]], list[str]]:
    """APA and IEEE of every key: pandoc's citeproc over all references at once (in batches
    of CITE_BATCH for large databases). Without pandoc: none, and a warning."""
    from dlg_bib.export import Criteria, cited_items
    from dlg_bib.export.cite import ToolMissingError, format_references, style_path
    from dlg_bib.export.select import select

    if not keys:
        return {}, []
    selection = select(db, Criteria(keys=keys))
    jobs = []
    for style in CITATION_STYLES:
        path = style_path(style)
        items = cited_items(db, keys, selection, events=path.name == "ieee.csl")
        jobs += [(style, path, batch) for batch in batches(items)]
    # Batches are independent pandoc processes: run them side by side, one per core.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        futures = [pool.submit(format_references, batch, path, "html") for _, path, batch in jobs]
        out: dict[str, dict[str, Markup]] = {}
        for (style, _, _), future in zip(jobs, futures, strict=True):
            try:
                html = future.result()
            except ToolMissingError as exc:
                return {}, [f"no formatted citations: {exc.message}"]
            except subprocess.TimeoutExpired:
                return {}, ["no formatted citations: pandoc took too long"]
            for key, text in parse_bibliography(html).items():
                out.setdefault(key, {})[style] = text
    return out, []


def bibtex_records(db: Database) -> dict[str, str]:
    """Each entry as `dlg-bib export --keys KEY` writes it (with its crossref parents), by
    lowercased key: one export of the whole database, split, and a separate export only for
    the few entries that are crossref parents (written alone, they inherit nothing down)."""
    from dlg_bib.export import Criteria, export, render
    from dlg_bib.export.select import select

    selection = select(db, Criteria())
    text = render(selection, "bibtex")
    # The writer puts every field on one line and separates entries by one blank line.
    own: dict[str, str] = {}
    for chunk in text.split("\n\n"):
        chunk = chunk.strip()
        head = chunk.partition("\n")[0]
        if head.startswith("@") and "{" in head:
            own[head.partition("{")[2].rstrip(",").lower()] = chunk
    targets = selection.crossref_targets
    out: dict[str, str] = {}
    for key, record in own.items():
        if key in targets:
            out[key] = export(db, Criteria(keys=[key])).text
            continue
        parts, seen, current = [record], {key}, key
        while (parent := selection.parents.get(current)) and parent.lower() not in seen:
            current = parent.lower()
            seen.add(current)
            if current in own:
                parts.append(own[current])
        out[key] = "\n\n".join(parts) + "\n"
    return out


# ---- rendering -------------------------------------------------------------------------------


def site_environment(dirs: list[Path]) -> jinja2.Environment:
    filters = {
        "host": lambda url: urlsplit(url).hostname or url,
        "safe_url": safe_url,
        "doi_of": lambda url: url.partition("doi.org/")[2] or url,
        "paragraphs": paragraphs,
    }
    return environment.make_environment(dirs, filters, autoescape=True)


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs (the template escapes each)."""
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def relative(path: str, target: str) -> str:
    """The link from page `path` to site file `target` (both relative to the site root)."""
    depth = len(PurePosixPath(path).parts) - 1
    return "../" * depth + target


def _pages(site: Site) -> list[tuple[str, str, dict[str, Any]]]:
    pages: list[tuple[str, str, dict[str, Any]]] = [
        ("index.html", "index.html.j2", {"term": site.current}),
        ("search.html", "search.html.j2", {}),
        ("references.html", "references.html.j2", {}),
    ]
    pages += [(t.path, "term.html.j2", {"term": t}) for t in site.terms]
    pages += [(t.path, "topic.html.j2", {"topic": t}) for t in site.topics]
    pages += [(r.path, "reference.html.j2", {"page": r}) for r in site.references]
    return pages


def render_pages(site: Site, dirs: list[Path]) -> dict[str, bytes]:
    env = site_environment(dirs)
    ref_paths = {r.ref.key: r.path for r in site.references}
    files: dict[str, bytes] = {}
    for path, template, variables in _pages(site):

        def link(target: str, _path: str = path) -> str:
            return relative(_path, target)

        def ref_link(ref: Reference, _path: str = path) -> str:
            return relative(_path, ref_paths.get(ref.key, "references.html"))

        text = environment.render(
            env,
            f"{TEMPLATE_DIR}/{template}",
            site=site,
            ctx=site.ctx,
            group=site.ctx.group,
            role_labels=ROLE_LABELS,
            style_names=STYLE_NAMES,
            link=link,
            ref_link=ref_link,
            page_path=path,
            **variables,
        )
        files[path] = text.encode("utf-8")
    files["style.css"] = environment.render(env, f"{TEMPLATE_DIR}/style.css.j2").encode("utf-8")
    return files


# ---- the command's work ----------------------------------------------------------------------


@dataclass
class Built:
    written: list[Path]
    warnings: list[str]
    partial: bool = False  # something was left out (no formatted citations): exit 1


Progress = Callable[[str], None]


def prepare_output(out: Path) -> None:
    """The output folder exists and is a folder (WriteError, exit 2, before any work)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        cause = "a file is in the way" if isinstance(exc, FileExistsError) else exc.strerror
        raise WriteError(f"cannot create the site folder: {cause}", where=str(out)) from exc
    if not out.is_dir():
        raise WriteError("cannot create the site folder: a file is in the way", where=str(out))


def build_site(
    db: Database,
    bib: Path,
    today: dt.date,
    out: Path,
    templates: Path | None = None,
    *,
    search: bool = True,
    handouts: bool = True,
) -> Built:
    from dlg_bib.render import handout, ical, index

    prepare_output(out)
    dirs = environment.template_dirs(bib, templates)
    site = build_model(db, today)
    site.search = search
    formatted, warnings = citations(
        db, [r.ref.key for r in site.references if not r.ref.placeholder]
    )
    partial = bool(warnings)
    records = bibtex_records(db)
    for page in site.references:
        page.citations = formatted.get(page.ref.key.lower(), {})
        page.bibtex = "" if page.ref.placeholder else records.get(page.ref.key.lower(), "")
    extra: dict[str, bytes] = {}
    previous = ical.read_previous(out / CALENDAR)
    extra[CALENDAR] = ical.build_calendar(db, previous=previous)
    extra[INDEX_JSON] = index.build_index(db).encode("utf-8")
    site.has_calendar = site.has_index = True
    if handouts and db.sessions:
        for session in db.sessions:
            made = handout.build_handout(db, bib, today, session=session.id, templates=templates)
            name = f"{HANDOUTS}/handout-{made.name}.pdf"
            extra[name], site.handouts[session.id] = made.pdf, name
            warnings += [f"handout {made.name}: {w}" for w in made.warnings]
        made = handout.build_handout(db, bib, today, term=True, templates=templates)
        extra[f"{HANDOUTS}/handout-term.pdf"] = made.pdf
        site.handouts["term"] = f"{HANDOUTS}/handout-term.pdf"
        warnings += [f"handout term: {w}" for w in made.warnings]
    files = {**render_pages(site, dirs), **extra}
    written = []
    for name, data in sorted(files.items()):
        path = out / name
        if not (path.is_file() and path.read_bytes() == data):
            write_file(path, data)
        written.append(path)
    if search:
        run_pagefind(out)
        written.append(out / PAGEFIND_DIR)
    return Built(written, [*site.warnings, *warnings], partial)


def pagefind_executable() -> str | None:
    try:
        import pagefind_bin
    except ImportError:
        return shutil.which("pagefind")
    try:
        return str(pagefind_bin.get_executable())
    except FileNotFoundError:
        return shutil.which("pagefind")


def run_pagefind(out: Path) -> None:
    """Pagefind's index into `out/pagefind/`, built afresh (no stale fragments left)."""
    exe = pagefind_executable()
    if exe is None:
        raise SearchIndexError(
            "pagefind is not installed: the pages were written, without search",
            hint="pip install 'pagefind[bin]' (a dependency of dlg-bib), or pass --no-search",
        )
    bundle = out / PAGEFIND_DIR
    if bundle.is_dir():
        shutil.rmtree(bundle)
    done = subprocess.run(
        [exe, "--site", str(out), "--silent"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SearchIndexError(
            f"pagefind failed: {(done.stderr or done.stdout).strip()}", where=str(out)
        )


__all__ = [
    "Built",
    "SearchIndexError",
    "Site",
    "build_model",
    "build_site",
    "current_term",
    "parse_bibliography",
    "relative",
]
