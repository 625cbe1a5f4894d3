"""The printable handout: a Jinja template produces Typst source; the data goes in as JSON.

The data never becomes Typst source. It is passed as one JSON string in `sys_inputs` and
read by the template with `json(bytes(sys.inputs.data))`, so a title such as
`#import "/etc/passwd"` is a string to Typst, printed as it is. The Jinja step only shapes
the document (session or term layout, paper size); a template author who does insert a
value with `{{ … }}` gets it as an escaped Typst string.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2

from dlg_bib.errors import TemplateError, UnknownNameError
from dlg_bib.library.ids import safe_url
from dlg_bib.library.model import Database, Session
from dlg_bib.render import environment
from dlg_bib.render.context import (
    ROLE_LABELS,
    Context,
    Link,
    Reference,
    Segment,
    SessionView,
    build_context,
    next_session,
    reference_segments,
)
from dlg_bib.render.output import write_file

TEMPLATE = "handout.typ.j2"
PAPERS = ("a4", "us-letter")
DEFAULT_PAPER = "a4"
_TYPST_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DIAGNOSTIC_PLACE = re.compile(r"┌─ (?:\S+?):(\d+):(\d+)")


def typst_string(value: Any) -> str:
    """A Typst string literal (code mode): only `\\ " newline CR tab` need escaping."""
    return '"' + "".join(_TYPST_ESCAPES.get(c, c) for c in str(value)) + '"'


def typst_text(value: Any) -> str:
    """A value inserted in markup: `#"…"` prints the string verbatim."""
    return "#" + typst_string(value)


FILTERS: dict[str, Any] = {
    "typst_string": environment.markup(typst_string),
    "json": environment.markup(lambda v: typst_string(json.dumps(v, sort_keys=True))),
}


def typst_environment(dirs: list[Path]) -> jinja2.Environment:
    return environment.make_environment(dirs, FILTERS, environment.escaping_finalize(typst_text))


# ---- data -------------------------------------------------------------------------------------


def short_url(url: str) -> str:
    """The URL as printed beside its QR code, to be typed: without `https://`, `www.` or a
    final `/`, percent-escapes decoded (`10.1016/S0888-613X(03)00021-5`)."""
    text = re.sub(r"^https?://(?:www\.)?", "", unquote(url))
    return text[:-1] if text.endswith("/") and text.count("/") > 1 else text


@lru_cache(maxsize=1024)
def qr_png(url: str) -> bytes:
    """A QR code of the URL: one pixel per module, which the template scales up without
    smoothing. PNG rather than SVG: Typst draws an SVG into the page's own content, while a
    PNG stays one image per code that a reader (and a test) can find. segno: pure Python,
    the same bytes every time."""
    import segno  # imported here: only the handout needs it

    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", border=2, scale=1)
    return buffer.getvalue()


def qr_codes(data: dict[str, Any]) -> dict[str, list[int]]:
    """The QR code of every link the data prints, by URL, as Typst's `bytes()` reads it."""
    urls = sorted({text for text, key, _ in _leaves(data) if key == "open_url" and text})
    return {url: list(qr_png(url)) for url in urls}


def _leaves(
    value: Any, key: str = "", where: str = "the handout"
) -> Iterator[tuple[str, str, str]]:
    """Every printed string of the data, with its key and the place it comes from."""
    if isinstance(value, str):
        yield value, key, where
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key, where)
    elif isinstance(value, dict):
        inner = f"the {value['date']} session" if "date_label" in value else where
        for name, item in value.items():
            yield from _leaves(item, name, inner)


# Links whose label says only "there is a link here" (README: "link", "PDF").
_BARE_LINK_KINDS = frozenset(("url", "pdf"))


def printed_links(links: list[Link], open_url: str) -> list[Link]:
    """The links as a reader of paper can use them. A bare "link" or "PDF" means nothing in
    print: it becomes its short URL, or goes when it is the link printed in full (and as a QR
    code) under the reference. Labels that name the target (doi:…, arXiv:…) stay."""
    return [
        link._replace(label=short_url(link.url)) if link.kind in _BARE_LINK_KINDS else link
        for link in links
        if not (link.kind in _BARE_LINK_KINDS and link.url == open_url)
    ]


def printed_segments(ref: Reference, open_url: str) -> list[Segment]:
    links = printed_links(ref.links, open_url)
    if links == ref.links or ref.fields is None:
        return ref.segments
    return reference_segments(replace(ref, links=links), ref.fields)


def reference_data(ref: Reference) -> dict[str, Any]:
    link = ref.open_link
    url = link.url if link is not None else ""
    return {
        "key": ref.key,
        "citation": ref.citation,
        # A work without authors is cited by its title: printing both would repeat it.
        "show_title": bool(ref.authors or ref.editors) and bool(ref.title),
        "title": ref.title,
        "authors": ref.authors,
        "text": ref.text,
        "segments": [
            {"text": s.text, "style": s.style, "url": s.url} for s in printed_segments(ref, url)
        ],
        "links": [{"kind": k.kind, "label": k.label, "url": k.url} for k in ref.links],
        "url": ref.paper_url,
        # The link to open first (the free copy when there is one), printed and as a QR code.
        "open_url": url,
        "short_url": short_url(url) if url else "",
        "abstract": ref.abstract,
        "note": ref.note,
        "legacy": ref.legacy,
        "placeholder": ref.placeholder,
    }


def session_data(session: SessionView) -> dict[str, Any]:
    return {
        "date": session.date,
        "date_label": session.date_label,
        "title": session.title,
        "topic": session.topic_title,
        "distinct_topic": session.distinct_topic,  # "" when the title already says it
        "curator": session.curator,
        "notes": session.notes,
        "main": [reference_data(r) for r in session.main],
        "readings": [reference_data(r) for r in session.readings],
        "prerequisites": [reference_data(r) for r in session.prerequisites],
        "supplementary": [reference_data(r) for r in session.supplementary],
    }


def handout_data(ctx: Context, sessions: list[SessionView], term: bool) -> dict[str, Any]:
    """Everything the Typst template reads from `sys.inputs.data` (no `today`: deterministic)."""
    g = ctx.group
    return {
        "mode": "term" if term else "session",
        "group": {
            "name": g.name,
            "short_name": g.short_name,
            "term": g.term,
            "organiser": g.organiser,
            "organiser_url": safe_url(g.organiser_url),
            "meeting": ctx.meeting,
            "day": g.day,
            "time": "–".join(t for t in (g.start_time, g.end_time) if t),
            "room": g.room,
            "repository": safe_url(g.repository),
        },
        "topics": [{"id": t.id, "title": t.title} for t in ctx.topics],
        # How each role is printed in front of a reading: Main, Also, Background, Supplementary.
        "labels": ROLE_LABELS,
        "sessions": [session_data(s) for s in sessions],
        "references": [reference_data(r) for r in ctx.references] if term else [],
    }


# ---- source and PDF ---------------------------------------------------------------------------


@dataclass
class HandoutSource:
    source: str  # Typst source produced by the Jinja template
    data: str  # JSON passed as sys.inputs.data
    root: Path  # Typst's root: the folder of the template (for images a template includes)
    template: str  # the template file, for error messages
    qr: str = "{}"  # JSON passed as sys.inputs.qr: each printed URL's QR code (PNG bytes)


# ---- glyphs no font has ------------------------------------------------------------------------

# A character no font has (plane 16 private use): how a missing glyph (the "tofu" box) looks.
_NO_GLYPH = "\U0010fffd"
_PROBE = """#set page(width: auto, height: auto, margin: 0pt)
#set text(font: "Libertinus Serif")
#for (i, c) in json(bytes(sys.inputs.chars)).enumerate() { if i > 0 { pagebreak() }; box(c) }
"""
_SVG_IDS = re.compile(rb'(?:id|href)="[^"]*"')


def missing_glyphs(chars: set[str]) -> set[str]:
    """The characters that would print as an empty box: Typst says nothing about them, so
    each is typeset alone (as SVG) and compared with a character that no font has."""
    import typst

    probe = sorted(chars)
    compile_typst: Any = typst.compile
    pages = compile_typst(
        _PROBE.encode("utf-8"),
        format="svg",
        sys_inputs={"chars": json.dumps([_NO_GLYPH, *probe])},
        ignore_system_fonts=True,
        font_paths=[],
    )
    tofu = _SVG_IDS.sub(b"", pages[0])
    return {c for c, page in zip(probe, pages[1:], strict=True) if _SVG_IDS.sub(b"", page) == tofu}


def _without(value: Any, missing: set[str]) -> Any:
    if isinstance(value, str):
        return "".join(c for c in value if c not in missing)
    if isinstance(value, list):
        return [_without(item, missing) for item in value]
    if isinstance(value, dict):
        return {k: _without(v, missing) for k, v in value.items()}
    return value


def drop_missing_glyphs(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The data without characters no font has, and a warning per character and place."""
    places: dict[str, list[str]] = {}
    for text, _, where in _leaves(data):
        for c in text:
            if not c.isascii() and not c.isspace():
                found = places.setdefault(c, [])
                if where not in found:
                    found.append(where)
    missing = missing_glyphs(set(places)) if places else set()
    warnings = [
        f"dropped {c} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}) from {where}: "
        "no font of the handout has it"
        for c in sorted(missing)
        for where in places[c]
    ]
    return (_without(data, missing) if missing else data), warnings


def render_source(
    data: dict[str, Any], dirs: list[Path], paper: str = DEFAULT_PAPER
) -> HandoutSource:
    env = typst_environment(dirs)
    source = environment.render(env, TEMPLATE, mode=data["mode"], paper=paper)
    filename = env.get_template(TEMPLATE).filename or TEMPLATE
    return HandoutSource(
        source=source,
        data=json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1),
        root=Path(filename).parent,
        template=filename,
        qr=json.dumps(qr_codes(data), sort_keys=True, separators=(",", ":")),
    )


def timestamp_for(sessions: list[SessionView]) -> int:
    """A fixed PDF date, so the bytes only change when the data does.

    SOURCE_DATE_EPOCH wins (the reproducible-builds convention); else noon UTC of the
    (last) session's day.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    if not sessions:
        return 0
    day = dt.date.fromisoformat(sessions[-1].date)
    return int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).timestamp())


def compile_pdf(handout: HandoutSource, timestamp: int) -> tuple[bytes, list[str]]:
    """The PDF and Typst's warnings (each as `message (hints)`)."""
    import typst  # imported here: keeps `dlg-bib --help` and the README path fast

    # The stub's `Input` type variable would force `root` to be bytes like the source.
    compile_typst: Any = typst.compile_with_warnings
    try:
        pdf, warnings = compile_typst(
            handout.source.encode("utf-8"),
            root=str(handout.root),
            sys_inputs={"data": handout.data, "qr": handout.qr},
            timestamp=timestamp,
            ignore_system_fonts=True,
            font_paths=[],
        )
    except typst.TypstError as exc:
        raise typst_error(exc, handout.template) from exc
    if not isinstance(pdf, bytes):  # pragma: no cover - PDF output is always one document
        raise TemplateError("typst returned no PDF", where=handout.template)
    return pdf, [_warning_text(w) for w in warnings]


def _warning_text(warning: Any) -> str:
    message = str(getattr(warning, "message", "") or warning)
    hints = [str(h) for h in getattr(warning, "hints", []) or [] if h]
    return f"typst: {message}" + (f" ({'; '.join(hints)})" if hints else "")


def typst_error(exc: Exception, template: str) -> TemplateError:
    """A TypstError as a message: headline, the located snippet, the template it came from."""
    message = getattr(exc, "message", "") or str(exc) or "unknown error"
    diagnostic = str(getattr(exc, "diagnostic", "") or "")
    place = _DIAGNOSTIC_PLACE.search(diagnostic)
    where = f"{template} (generated Typst line {place.group(1)})" if place else template
    hints = [h for h in getattr(exc, "hints", []) or [] if h]
    detail = "\n".join([*hints, diagnostic.strip()]).strip()
    return TemplateError(f"typesetting the handout failed: {message}", where=where, hint=detail)


# ---- the command's work ------------------------------------------------------------------------


@dataclass
class Handout:
    name: str  # the session date, or "term"
    source: HandoutSource
    pdf: bytes
    warnings: list[str] = field(default_factory=list)  # dropped glyphs, Typst's warnings


def choose_sessions(
    db: Database, today: dt.date, session: str | None, term: bool
) -> tuple[str, list[Session]]:
    """The sessions a handout covers: one (given, next upcoming, else latest) or all."""
    if not db.sessions:
        raise UnknownNameError(
            "the database has no sessions", hint="add [[sessions]] to bib/group.toml"
        )
    if term:
        return "term", list(db.sessions)
    if session:
        found = db.session(session)
        if found is None:
            known = ", ".join(s.id for s in db.sessions)
            raise UnknownNameError(f"no session on {session}", hint=f"sessions: {known}")
        return found.id, [found]
    chosen = next_session(db.sessions, today) or max(db.sessions, key=lambda s: s.date)
    return chosen.id, [chosen]


def build_handout(
    db: Database,
    bib: Path,
    today: dt.date,
    session: str | None = None,
    term: bool = False,
    templates: Path | None = None,
    paper: str | None = None,
) -> Handout:
    """The handout; `paper` (a4, us-letter) defaults to group.toml's `paper`, else A4."""
    paper = paper or db.group.paper or DEFAULT_PAPER
    if paper not in PAPERS:
        raise UnknownNameError(f"no paper size {paper!r}", hint=f"sizes: {', '.join(PAPERS)}")
    name, chosen = choose_sessions(db, today, session, term)
    keys = None if term else {r.key for s in chosen for r in s.readings}
    ctx = build_context(db, today, keys)
    views = [v for v in ctx.sessions if v.date in {s.id for s in chosen}]
    data, warnings = drop_missing_glyphs(handout_data(ctx, views, term))
    source = render_source(data, environment.template_dirs(bib, templates), paper)
    pdf, typst_warnings = compile_pdf(source, timestamp_for(views))
    return Handout(name, source, pdf, [*warnings, *typst_warnings])


def write(result: Handout, path: Path, *, with_source: bool = False) -> list[Path]:
    write_file(path, result.pdf)
    written = [path]
    if with_source:
        for suffix, text in ((".typ", result.source.source), (".json", result.source.data)):
            extra = path.with_suffix(suffix)
            write_file(extra, text.encode("utf-8"))
            written.append(extra)
    return written
