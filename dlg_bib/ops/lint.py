"""Lint rules over a loaded database. Findings are data; the CLI decides how to print them."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from bibtexparser import model as bpm

from dlg_bib import background
from dlg_bib.bibtex import values
from dlg_bib.bibtex.names import parse_name, split_names
from dlg_bib.bibtex.syntax import lacks_type
from dlg_bib.errors import DlgBibError
from dlg_bib.library import ids
from dlg_bib.library.database import Workspace
from dlg_bib.library.matching import WorkIndex, work_facts
from dlg_bib.library.model import F_SESSIONS, F_TOPICS, ROLES, Database, Entry
from dlg_bib.ops import hazards

ERROR = "error"
WARNING = "warning"

# BibTeX's standard types and their required fields; `a|b` means either will do.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "article": ("author", "title", "journal", "year"),
    "book": ("author|editor", "title", "publisher", "year"),
    "booklet": ("title",),
    "conference": ("author", "title", "booktitle", "year"),
    "inbook": ("author|editor", "title", "chapter|pages", "publisher", "year"),
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "manual": ("title",),
    "mastersthesis": ("author", "title", "school", "year"),
    "misc": (),
    "phdthesis": ("author", "title", "school", "year"),
    "proceedings": ("title", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "unpublished": ("author", "title", "note"),
}
# biblatex's own types and what its manual requires of them (`type` of @report and
# @thesis left out: its standard styles print these without). BibTeX's styles print them as
# @misc, so a missing field here is a warning, not an error.
BIBLATEX_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "bookinbook": ("author", "title", "booktitle", "year"),
    "collection": ("editor", "title", "year"),
    "dataset": ("author|editor", "title", "year"),
    "inreference": ("author", "title", "booktitle", "year"),
    "mvbook": ("author", "title", "year"),
    "mvcollection": ("editor", "title", "year"),
    "mvproceedings": ("title", "year"),
    "mvreference": ("editor", "title", "year"),
    "online": ("author|editor", "title", "year", "doi|eprint|url"),
    "patent": ("author", "title", "number", "year"),
    "periodical": ("editor", "title", "year"),
    "reference": ("editor", "title", "year"),
    "report": ("author", "title", "institution", "year"),
    "software": ("author|editor", "title", "year"),
    "suppbook": ("author", "title", "booktitle", "year"),
    "suppcollection": ("author", "title", "booktitle", "year"),
    "suppperiodical": ("author", "title", "journal", "year"),
    "thesis": ("author", "title", "institution", "year"),
}
# biblatex containers, not references: `@xdata` lends fields, `@set` groups entries.
DATA_ONLY_TYPES = frozenset({"xdata", "set"})
_MONTHS = set(values.MONTH_MACROS) | {m.lower() for m in values.MONTH_MACROS.values()}
_GLUED_NAME = re.compile(r"[a-z]{3,}[A-Z][a-z]")
_ONE_WORD = re.compile(r'[^{}"#\s]+')
_SHARE_HOSTS = ("sharepoint.com", "1drv.ms", "onedrive.live.com")
_EXPIRING_SHARE = re.compile("|".join(map(re.escape, _SHARE_HOSTS)), re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    key: str
    severity: str
    rule: str
    message: str
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_text(self) -> str:
        text = f"{self.file}:{self.line}: {self.severity}: {self.message} [{self.rule}]"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


def lint_workspace(ws: Workspace) -> list[Finding]:
    findings: list[Finding] = []
    for bib in ws.files:
        findings.extend(
            Finding(str(bib.path), p.line, p.key, ERROR, p.rule, p.message, p.hint)
            for p in bib.problems
        )
    findings.extend(_duplicate_keys(ws))
    findings.extend(_session_topic_findings(ws))
    # An entry with a malformed value is reported by its syntax finding; the other rules
    # read its values, so they skip it.
    malformed = {b.path for b in ws.files if any(p.rule == "malformed-value" for p in b.problems)}
    readable = [e for e in ws.db.entries if e.file not in malformed or _values_readable(e)]
    findings.extend(_duplicate_works(readable))
    for entry in readable:
        findings.extend(_entry_findings(entry, ws.db))
    findings.extend(_term_findings(ws))
    findings.extend(_tool_hazards(ws, readable))
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.key))


class LintErrors(DlgBibError):
    """The database has lint errors: rendering it would silently drop or garble readings."""

    def __init__(self, errors: list[Finding]):
        super().__init__(
            f"the database has {len(errors)} lint error(s); nothing was rendered",
            hint="fix them (`dlg-bib lint` lists them with hints), then render again",
        )
        self.errors = errors

    def __str__(self) -> str:
        lines = [self.message, *(f.as_text() for f in self.errors)]
        return "\n".join(lines) + f"\n  hint: {self.hint}"


def require_clean(ws: Workspace) -> list[Finding]:
    """Raise LintErrors if the database has lint errors; else return its warnings."""
    return without_errors(lint_workspace(ws))


def without_errors(findings: list[Finding]) -> list[Finding]:
    """The findings, which are warnings; LintErrors if any is an error."""
    errors = [f for f in findings if f.severity == ERROR]
    if errors:
        raise LintErrors(errors)
    return findings


# Below this many entries lint takes a few milliseconds: not worth a process.
BACKGROUND_FROM = 1000


def start_lint(ws: Workspace) -> background.Pending[list[Finding]]:
    """`lint_workspace(ws)`, in a child process while the caller renders (when the database
    is large and a second core is there; `background`), else when the answer is asked for."""
    return background.start(
        lambda: lint_workspace(ws), worth_it=len(ws.db.entries) >= BACKGROUND_FROM
    )


def _values_readable(entry: Entry) -> bool:
    try:
        for name in entry.fields:
            entry.get(name)
    except values.ValueSyntaxError:
        return False
    return True


def _finding(entry: Entry, severity: str, rule: str, message: str, hint: str = "") -> Finding:
    return Finding(str(entry.file or ""), entry.line, entry.key, severity, rule, message, hint)


def _session_topic_findings(ws: Workspace) -> Iterator[Finding]:
    """Sessions whose `topic` is not a [[topics]] id (the README would show the raw id)."""
    if ws.metadata_path is None:
        return
    known = {t.id for t in ws.db.topics}
    text = ws.metadata_path.read_text(encoding="utf-8")
    for session in ws.db.sessions:
        if session.topic and session.topic not in known:
            yield Finding(
                str(ws.metadata_path),
                _line_of_session_topic(text, session.id, session.topic),
                session.id,
                ERROR,
                "unknown-session-topic",
                f"session {session.id} names topic {session.topic!r}, which [[topics]] "
                "does not define",
                f"known topics: {', '.join(sorted(known)) or 'none'}",
            )


def _line_of_session_topic(text: str, date: str, topic: str) -> int:
    """The line of `topic = "..."` in the [[sessions]] table of `date` (else of the date)."""
    lines = text.splitlines()
    date_line = re.compile(rf"^\s*date\s*=\s*[\"']?{re.escape(date)}\b")
    start = next((i for i, line in enumerate(lines) if date_line.match(line)), None)
    if start is None:
        return 1
    table = re.compile(r"^\s*\[")
    topic_line = re.compile(rf"^\s*topic\s*=\s*[\"']{re.escape(topic)}[\"']")
    first = next((i for i in range(start, -1, -1) if table.match(lines[i])), start)
    for i in range(first + 1, len(lines)):
        if i > start and table.match(lines[i]):
            break
        if topic_line.match(lines[i]):
            return i + 1
    return start + 1


# ---- keys and duplicates ----------------------------------------------------------------


def _duplicate_keys(ws: Workspace) -> Iterator[Finding]:
    """Keys shared across files (in one file the store reports them as syntax problems)."""
    first_seen: dict[str, tuple[str, int, str]] = {}
    for bib in ws.files:
        in_this_file: set[str] = set()
        for block in bib.blocks:
            parsed = block.parsed
            if not isinstance(parsed, (bpm.Entry, bpm.DuplicateBlockKeyBlock)):
                continue
            if lacks_type(parsed):
                continue  # no entry to BibTeX: reported as a syntax problem
            key = parsed.key
            where = first_seen.get(key.lower())
            if where is None:
                first_seen[key.lower()] = (str(bib.path), block.line, key)
            elif where[0] != str(bib.path) and key.lower() not in in_this_file:
                yield Finding(
                    str(bib.path),
                    block.line,
                    key,
                    ERROR,
                    "duplicate-key",
                    f"key {key!r} is already used by {where[2]!r} at {where[0]}:{where[1]} "
                    "(BibTeX compares keys case-insensitively)",
                    "rename one of them, or merge the two entries",
                )
            in_this_file.add(key.lower())


def _duplicate_works(entries: list[Entry]) -> Iterator[Finding]:
    index = WorkIndex()
    for entry in entries:
        if entry.is_placeholder:
            continue
        facts = work_facts(entry)
        found = index.match(facts)
        index.add(entry, facts)
        if found.entry is None:
            continue
        other = found.entry
        yield _finding(
            entry,
            ERROR,
            "duplicate-work",
            f"same {found.why} as {other.key!r} ({other.where}): one work, two entries",
            "merge them into one entry (keep the older key, list the other in `ids`)",
        )


def _tool_hazards(ws: Workspace, readable: list[Entry]) -> Iterator[Finding]:
    """What BibTeX or biber choke on (`hazards`), each naming the tool."""
    for bib in ws.files:
        for h in hazards.file_hazards(bib):
            yield Finding(str(bib.path), h.line, h.key, h.severity, h.rule, h.message, h.hint)
    by_key = {e.key.lower(): e for e in reversed(ws.db.entries)}
    for entry in readable:
        for h in hazards.entry_hazards(entry, by_key):
            yield _finding(entry, h.severity, h.rule, h.message, h.hint)


# ---- per-entry rules ---------------------------------------------------------------------


def _entry_findings(entry: Entry, db: Database) -> Iterator[Finding]:
    if entry.is_placeholder:
        yield _finding(
            entry,
            WARNING,
            "placeholder",
            f"placeholder, incomplete by design: {entry.get('dlg-placeholder')}",
            "replace it with the real reference when it is found (`dlg-bib add DOI`)",
        )
    else:
        yield from _required_fields(entry, db)
    # Each rule only where its fields are: on a large database the calls cost more than
    # the checks.
    fields = entry.fields
    if "doi" in fields or "eprint" in fields:
        yield from _identifier_findings(entry)
    yield from _month_findings(entry)
    yield from _name_findings(entry)
    if F_TOPICS in fields or F_SESSIONS in fields:
        yield from _tag_findings(entry, db)
    yield from _macro_findings(entry)
    joined = "\n".join(fields.values()).lower()
    if not any(host in joined for host in _SHARE_HOSTS):
        return
    for name, raw in fields.items():
        if _EXPIRING_SHARE.search(raw):
            yield _finding(
                entry,
                WARNING,
                "expiring-link",
                f"`{name}` is a SharePoint/OneDrive share link, which expires",
                "link the DOI, the arXiv id or a stable public URL instead",
            )


# A required BibTeX field is satisfied by its biblatex name (`export` maps one to the other).
EQUIVALENT_FIELDS: dict[str, tuple[str, ...]] = {
    "journal": ("journaltitle",),
    "year": ("date",),
    "address": ("location",),
    "school": ("institution",),
    "institution": ("school",),
    "journaltitle": ("journal",),
    "date": ("year",),
    "location": ("address",),
}
# Fields a child takes from a parent under another name (BibTeX crossref and biblatex's
# default inheritance: a chapter's `booktitle` is the book's `title`).
_INHERITED_AS = {"booktitle": ("title", "booktitle")}


_REQUIRED_OPTIONS = {
    kind: tuple(tuple(spec.split("|")) for spec in specs)
    for kind, specs in {**REQUIRED_FIELDS, **BIBLATEX_REQUIRED_FIELDS}.items()
}


def _present(entry: Entry, name: str, db: Database) -> bool:
    """Is `name` (or its biblatex equivalent) set in `entry` or inherited through
    `crossref` or `xdata`, however deep?"""
    names = (name, *EQUIVALENT_FIELDS.get(name, ()))
    fields = entry.fields
    if any(n in fields and _filled(entry, n) for n in names):
        return True  # the common case, without the inheritance walk
    if "crossref" not in fields and "xdata" not in fields:
        return False
    seen: set[str] = set()
    todo = [(entry, names)]
    while todo:
        current, wanted = todo.pop()
        if current.key.lower() in seen:
            continue  # a crossref cycle; BibTeX and biber stop there too
        seen.add(current.key.lower())
        if any(current.has(n) for n in wanted):
            return True
        inherited = tuple(p for n in wanted for p in _INHERITED_AS.get(n, (n,)) if p not in wanted)
        for parent_key in _parent_keys(current):
            parent = db.find(parent_key)
            if parent is not None:
                todo.append((parent, wanted + inherited))
    return False


def _filled(entry: Entry, name: str) -> bool:
    """`entry.has(name)` for a field that is set, without resolving a plain braced value."""
    raw = entry.fields[name]
    if raw[:1] == "{" and raw[-1:] == "}" and "#" not in raw:
        return not raw[1:-1].isspace() and len(raw) > 2
    return entry.has(name)


def _parent_keys(entry: Entry) -> list[str]:
    parents = [entry.get("crossref").strip()] if entry.has("crossref") else []
    if entry.has("xdata"):
        parents.extend(k.strip() for k in entry.get("xdata").split(",") if k.strip())
    return parents


def _required_fields(entry: Entry, db: Database) -> Iterator[Finding]:
    if entry.entry_type in DATA_ONLY_TYPES:
        return
    severity = ERROR
    if entry.entry_type in BIBLATEX_REQUIRED_FIELDS:
        severity = WARNING
    elif entry.entry_type not in REQUIRED_FIELDS:
        yield _finding(
            entry,
            WARNING,
            "unknown-type",
            f"@{entry.entry_type} is not a standard BibTeX type",
            "classic BibTeX styles may not print it; use @misc or @online for biblatex",
        )
        return
    fields = entry.fields
    for options in _REQUIRED_OPTIONS[entry.entry_type]:
        if any(name in fields and _filled(entry, name) for name in options):
            continue  # set right here: the common case, without equivalents or inheritance
        if not any(_present(entry, name, db) for name in options):
            yield _finding(
                entry,
                severity,
                "missing-field",
                f"@{entry.entry_type} needs `{' or '.join(options)}`"
                + (" (biblatex)" if severity == WARNING else ""),
                "fill it in, or run `dlg-bib enrich " + entry.key + "`",
            )


def _identifier_findings(entry: Entry) -> Iterator[Finding]:
    doi = entry.get("doi").strip()
    if doi:
        if ids.looks_like_doi_url(doi):
            bare = ids.normalize_doi(doi)
            yield _finding(
                entry,
                ERROR,
                "doi-url",
                f"`doi` holds a URL ({doi}), not a DOI",
                f"write the bare DOI: doi = {{{bare}}}" if bare else "write the bare DOI",
            )
        elif not ids.is_valid_doi(doi):
            yield _finding(
                entry,
                ERROR,
                "malformed-doi",
                f"`doi` {doi!r} is not a DOI (10.<registrant>/<suffix>)",
                "check the DOI on the publisher's page",
            )
    eprint = entry.get("eprint").strip()
    kind = (entry.get("archiveprefix") or entry.get("eprinttype")).strip().lower()
    if eprint and kind in ("arxiv", "") and ids.parse_arxiv_id(eprint) is None:
        yield _finding(
            entry,
            ERROR,
            "malformed-arxiv",
            f"`eprint` {eprint!r} is not an arXiv id",
            "arXiv ids look like 1706.03762 or math/0211159 (no URL, no 'arXiv:')",
        )


def _month_findings(entry: Entry) -> Iterator[Finding]:
    raw = entry.fields.get("month")
    if raw is None:
        return
    text = entry.get("month").strip().lower().rstrip(".")
    if text in _MONTHS or (text.isdigit() and 1 <= int(text) <= 12):
        return
    yield _finding(
        entry,
        WARNING,
        "unknown-month",
        f"month {raw!r} is not a month",
        "write the macro (month = jul) or a number 1-12; put day ranges in `note`",
    )


def _name_findings(entry: Entry) -> Iterator[Finding]:
    for fieldname in ("author", "editor"):
        if fieldname not in entry.fields or not _GLUED_NAME.search(entry.fields[fieldname]):
            continue  # no camel case anywhere in the list: nothing to split
        for written in split_names(entry.get(fieldname)):
            word = _glued_word(written)
            if word:
                yield _finding(
                    entry,
                    WARNING,
                    "glued-names",
                    f"{fieldname} {word!r} looks like two names glued together",
                    "separate people with ` and `: Aliprantis, Charalambos D. and Border, Kim C.",
                )


def _glued_word(written: str) -> str:
    """The word where two people run together when ` and ` was lost between them
    (`Charalambos D. AliprantisKim C. Border`), else "".

    A family name may well be written in camel case (KhudaBukhsh, VanderWeele, VandenBos,
    DingDing), so the case change alone proves nothing. What gives a lost ` and ` away is
    where the word sits: inside a `First Last` name, with name words on both sides, so one
    person's name ends inside it and the next one's begins. A camel-case name is the first
    or the last word, or comes before a comma.
    """
    if "," in written or parse_name(written).literal:
        return ""  # `Last, First` form, or a braced name BibTeX keeps whole
    words = written.split()
    for word in words[1:-1]:
        if not word.startswith("{") and _GLUED_NAME.search(word):
            return word
    return ""


def _tag_findings(entry: Entry, db: Database) -> Iterator[Finding]:
    known_topics = {t.id for t in db.topics}
    for topic in entry.topics:
        if topic not in known_topics:
            yield _finding(
                entry,
                ERROR,
                "unknown-topic",
                f"`{F_TOPICS}` names topic {topic!r}, which group.toml does not define",
                f"known topics: {', '.join(sorted(known_topics)) or 'none'}",
            )
    known_sessions = {s.id for s in db.sessions}
    for tag in entry.sessions:
        if tag.date not in known_sessions:
            yield _finding(
                entry,
                ERROR,
                "unknown-session",
                f"`{F_SESSIONS}` names session {tag.date!r}, which group.toml does not define",
                f"fix the date, or add the session to group.toml: [[sessions]] date = {tag.date}",
            )
        if tag.role not in ROLES:
            yield _finding(
                entry,
                ERROR,
                "unknown-role",
                f"`{F_SESSIONS}` gives role {tag.role!r} for {tag.date}",
                f"roles: {', '.join(ROLES)}",
            )


def _macro_findings(entry: Entry) -> Iterator[Finding]:
    for name, raw in entry.fields.items():
        if raw[:1] in '{"' and "#" not in raw:
            continue  # one braced or quoted piece (the value is readable): no macro in it
        if raw.isdigit():
            continue
        if _ONE_WORD.fullmatch(raw):
            names = [raw]  # `month = jul`, `journal = jmlr`: the value is the macro
        else:
            try:
                names = values.macro_names(raw)
            except values.ValueSyntaxError:  # pragma: no cover - macro_names never raises
                continue
        for macro in names:
            if macro.lower() not in entry.strings and macro.lower() not in values.MONTH_MACROS:
                yield _finding(
                    entry,
                    ERROR,
                    "undefined-string",
                    f"`{name}` uses @string {macro!r}, which is not defined in this file",
                    "define it with @string{" + macro + " = {...}} or brace the value",
                )


# ---- terms (group.toml) ------------------------------------------------------------------


def _term_findings(ws: Workspace) -> Iterator[Finding]:
    """Sessions outside every `[[terms]]` table, overlapping terms and repeated term ids.

    A file without `[[terms]]` has one implicit term spanning its sessions: nothing to check.
    """
    db = ws.db
    explicit = [t for t in db.terms if not t.implicit]
    if not explicit:
        return
    where = str(ws.metadata_path or "group.toml")
    seen: dict[str, int] = {}
    for i, term in enumerate(explicit):
        if term.id in seen:
            yield Finding(
                where,
                term.line,
                term.id,
                ERROR,
                "term-duplicate-id",
                f"term id {term.id!r} is already used by the term on line {seen[term.id]}",
                "give each [[terms]] table its own id",
            )
        seen.setdefault(term.id, term.line)
        for other in explicit[:i]:
            if term.overlaps(other):
                yield Finding(
                    where,
                    term.line,
                    term.id,
                    ERROR,
                    "term-overlap",
                    f"term {term.id!r} ({term.first} to {term.last}) overlaps term "
                    f"{other.id!r} ({other.first} to {other.last})",
                    "move `first` or `last` so that each day is in one term at most",
                )
    spans = ", ".join(f"{t.id} ({t.first} to {t.last})" for t in explicit)
    for session in db.sessions:
        if db.term_of(session) is None:
            yield Finding(
                where,
                session.line,
                session.id,
                ERROR,
                "session-outside-term",
                f"session {session.id} is in no term; terms: {spans}",
                "widen a term's `first`/`last`, or add its term: dlg-bib term new ID "
                f'--name "Spring 2022" --first {session.id} --last YYYY-MM-DD',
            )


def summary(findings: list[Finding]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.severity] += 1
    return {"errors": counts[ERROR], "warnings": counts[WARNING]}
