"""The printable handout: a Jinja template produces Typst source; the data goes in as JSON.

The data never becomes Typst source. It is passed as one JSON string in `sys_inputs` and
read by the template with `json(bytes(sys.inputs.data))`, so a title such as
`#import "/etc/passwd"` is a string to Typst, printed as it is. The Jinja step only shapes
the document (session or term layout, paper size); a template author who does insert a
value with `{{ … }}` gets it as an escaped Typst string.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from dlg_bib.errors import TemplateError, UnknownNameError
from dlg_bib.model import Database, Session
from dlg_bib.render import environment
from dlg_bib.render.context import (
    Context,
    Reference,
    SessionView,
    build_context,
    next_session,
)
from dlg_bib.render.escape import safe_url
from dlg_bib.render.output import write_file

TEMPLATE = "handout.typ.j2"
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


def reference_data(ref: Reference) -> dict[str, Any]:
    return {
        "key": ref.key,
        "citation": ref.citation,
        "title": ref.title,
        "authors": ref.authors,
        "text": ref.text,
        "segments": [{"text": s.text, "style": s.style, "url": s.url} for s in ref.segments],
        "links": [{"kind": k.kind, "label": k.label, "url": k.url} for k in ref.links],
        "url": ref.paper_url,
        "abstract": ref.abstract,
        "legacy": ref.legacy,
        "placeholder": ref.placeholder,
    }


def session_data(session: SessionView) -> dict[str, Any]:
    return {
        "date": session.date,
        "date_label": session.date_label,
        "title": session.title,
        "topic": session.topic_title,
        "notes": session.notes,
        "main": [reference_data(r) for r in session.main],
        "readings": [reference_data(r) for r in session.readings],
        "prerequisites": [reference_data(r) for r in session.prerequisites],
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


def render_source(data: dict[str, Any], dirs: list[Path], paper: str = "a4") -> HandoutSource:
    env = typst_environment(dirs)
    source = environment.render(env, TEMPLATE, mode=data["mode"], paper=paper)
    filename = env.get_template(TEMPLATE).filename or TEMPLATE
    return HandoutSource(
        source=source,
        data=json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1),
        root=Path(filename).parent,
        template=filename,
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


def compile_pdf(handout: HandoutSource, timestamp: int) -> bytes:
    import typst  # imported here: keeps `dlg-bib --help` and the README path fast

    # The stub's `Input` type variable would force `root` to be bytes like the source.
    compile_typst: Any = typst.compile
    try:
        pdf = compile_typst(
            handout.source.encode("utf-8"),
            root=str(handout.root),
            sys_inputs={"data": handout.data},
            timestamp=timestamp,
            ignore_system_fonts=True,
            font_paths=[],
        )
    except typst.TypstError as exc:
        raise typst_error(exc, handout.template) from exc
    if not isinstance(pdf, bytes):  # pragma: no cover - PDF output is always one document
        raise TemplateError("typst returned no PDF", where=handout.template)
    return pdf


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
) -> Handout:
    name, chosen = choose_sessions(db, today, session, term)
    keys = None if term else {r.key for s in chosen for r in s.readings}
    ctx = build_context(db, today, keys)
    views = [v for v in ctx.sessions if v.date in {s.id for s in chosen}]
    source = render_source(
        handout_data(ctx, views, term), environment.template_dirs(bib, templates)
    )
    return Handout(name, source, compile_pdf(source, timestamp_for(views)))


def write(result: Handout, path: Path, *, with_source: bool = False) -> list[Path]:
    write_file(path, result.pdf)
    written = [path]
    if with_source:
        for suffix, text in ((".typ", result.source.source), (".json", result.source.data)):
            extra = path.with_suffix(suffix)
            write_file(extra, text.encode("utf-8"))
            written.append(extra)
    return written
