"""What BibTeX or biber choke on although bibtexparser reads it without a word.

Each hazard names the tool that fails and how, with the 1-based line where it sits. These
are lint findings only: unlike `syntax` problems they never stop a write, because dlg-bib
re-serializes such an entry without losing anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bibtexparser import model as bpm

from dlg_bib.bibtex.datamodel import KEY_FIELDS, PRINTED_FIELDS, reaches_bbl
from dlg_bib.bibtex.store import BibFile
from dlg_bib.library.model import Entry

ERROR = "error"
WARNING = "warning"

# `@comment` followed on its line by anything but a delimiter: biber's parser expects
# `{` or `(` there and gives up on the whole file.
_COMMENT_WITH_TEXT = re.compile(r"(?i)@comment\b[ \t]*(?=[^\s{(])")
_LINE_STARTS_WITH_PERCENT = re.compile(r"\n[ \t]*%")
_OPENING = re.compile(r"@\w*[ \t]*([{(])")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
# `\url{…}` and `\href{…}` read their argument verbatim: a `&` there is no alignment tab.
_URL_ARGUMENT = re.compile(r"\\(?:url|href)\s*\{[^{}]*\}")
_UNESCAPED_AMPERSAND = re.compile(r"(?<!\\)&")
_INTEGER = re.compile(r"\s*[{\s]*\d+[}\s]*")
# Verbatim fields: biber passes them through as they are, so `%` (`%20` in a URL) is safe.
VERBATIM_FIELDS = frozenset(
    {"url", "urlraw", "doi", "eprint", "file", "pdf", "verba", "verbb", "verbc"}
)
# Types whose entries BibTeX's standard styles (plain, abbrv, alpha, unsrt, natbib's
# plainnat) print with only one of author and editor: `@article` and `@misc` ignore the
# editor, `@book` and `@inbook` print the editor only without an author, `@proceedings` only
# the editor. `@incollection` and `@inproceedings` print both ("In Editor, Booktitle").
ONE_OF_AUTHOR_EDITOR = frozenset(
    {
        "article",
        "book",
        "booklet",
        "inbook",
        "manual",
        "mastersthesis",
        "misc",
        "phdthesis",
        "proceedings",
        "techreport",
        "unpublished",
    }
)


@dataclass(frozen=True)
class Hazard:
    line: int  # 1-based
    key: str
    severity: str
    rule: str
    message: str
    hint: str


def file_hazards(bib: BibFile) -> Iterator[Hazard]:
    """NUL bytes and `@comment` with text on its line, anywhere in the file."""
    if "\0" in bib.text:
        for number, text in enumerate(bib.text.split("\n"), start=1):
            if "\0" in text:
                yield Hazard(
                    number,
                    "",
                    ERROR,
                    "nul-byte",
                    "NUL byte in the file: biber aborts and the bibliography comes out empty",
                    "delete it (often left by a broken copy-paste or a binary export)",
                )
    for block in bib.blocks:
        if isinstance(block.parsed, bpm.ImplicitComment) and "@" in block.raw:
            for match in _COMMENT_WITH_TEXT.finditer(block.raw):
                yield Hazard(
                    block.line + block.raw.count("\n", 0, match.start()),
                    "",
                    ERROR,
                    "comment-text",
                    "text after `@comment` on its line: biber cannot parse the file and "
                    "the bibliography comes out empty",
                    "write @comment{...} with braces, or drop the `@` (BibTeX ignores text "
                    "outside entries)",
                )
        elif isinstance(block.parsed, bpm.Entry) and block.entry is not None:
            yield from _entry_text_hazards(block.parsed, block.entry, block.line, block.raw)


def _entry_text_hazards(parsed: bpm.Entry, entry: Entry, line: int, raw: str) -> Iterator[Hazard]:
    has_percent, has_ampersand = "%" in raw, "&" in raw
    if not (has_percent or has_ampersand):
        return
    lines = _comment_lines(raw) if has_percent and _LINE_STARTS_WITH_PERCENT.search(raw) else ()
    for offset in lines:
        yield Hazard(
            line + offset,
            entry.key,
            ERROR,
            "comment-in-entry",
            "a `%` line inside an entry is no comment to BibTeX: it stops reading the entry "
            "there and loses every field after it",
            "delete the line, or move it outside the entry (BibTeX ignores text between entries)",
        )
    for f in parsed.fields:
        # A field neither biber nor a BibTeX style writes (`adsurl = {…2013A%26A…}` from
        # NASA ADS) never reaches the .bbl: LaTeX never reads what it holds.
        name = f.key.lower()
        if name in VERBATIM_FIELDS or name in KEY_FIELDS or "%" in name or not reaches_bbl(name):
            continue
        value = f.value
        match = _UNESCAPED_PERCENT.search(value) if has_percent else None
        if match:
            yield _value_hazard(
                f,
                entry,
                match.start(),
                "unescaped-percent",
                f"unescaped `%` in `{f.key}`: LaTeX reads the rest of that line of the "
                ".bbl as a comment (fatal under biblatex: runaway argument)",
                "write `\\%`",
            )
        if has_ampersand and "&" in value and name in PRINTED_FIELDS:
            match = _UNESCAPED_AMPERSAND.search(_URL_ARGUMENT.sub(_blanked, value))
            if match:
                yield _value_hazard(
                    f,
                    entry,
                    match.start(),
                    "unescaped-ampersand",
                    f'unescaped `&` in `{f.key}`: LaTeX stops with "Misplaced alignment tab '
                    'character" and drops it, under BibTeX and biblatex alike',
                    "write `\\&` (a URL belongs in `url`, or inside \\url{…})",
                )


def _value_hazard(
    f: bpm.Field, entry: Entry, at: int, rule: str, message: str, hint: str
) -> Hazard:
    """An error at offset `at` of field `f`'s value, on the line where it sits."""
    line = (f.start_line or 0) + 1 + f.value.count("\n", 0, at)
    return Hazard(line, entry.key, ERROR, rule, message, hint)


def _blanked(match: re.Match[str]) -> str:
    """The match as spaces (newlines kept), so offsets and lines stay where they were."""
    return re.sub(r"[^\n]", " ", match.group())


def _comment_lines(raw: str) -> Iterator[int]:
    """Offsets of lines that start with `%` between an entry's fields (not inside a value)."""
    # Fields sit at depth 1 in `@type{…}` and at depth 0 in `@type(…)`.
    opening = _OPENING.match(raw)
    fields_depth = 0 if opening and opening.group(1) == "(" else 1
    depth = 0
    in_quote = False
    at_line_start = False
    offset = 0
    for ch in raw:
        if ch == "\n":
            offset += 1
            at_line_start = True
            continue
        if at_line_start and not ch.isspace():
            at_line_start = False
            if ch == "%" and depth == fields_depth and not in_quote:
                yield offset
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == fields_depth:
            in_quote = not in_quote


def entry_hazards(entry: Entry, keys: dict[str, Entry]) -> Iterator[Hazard]:
    """Value-level hazards of one readable entry; `keys` maps lower-cased keys to entries."""
    fields = entry.fields
    year = fields.get("year")
    if year is not None and not year.isdigit() and not _INTEGER.fullmatch(entry.get("year")):
        yield Hazard(
            entry.line,
            entry.key,
            WARNING,
            "year-not-number",
            f"year {entry.get('year')!r} is not a number: biber ignores it, so under "
            "biblatex the entry has no year",
            "write the year alone (year = {1978}) and the month in `month`; biblatex also "
            "takes `date = {1978-01}`",
        )
    for alias in entry.aliases if "ids" in fields else ():
        other = keys.get(alias.lower())
        if other is not None and other is not entry:
            yield Hazard(
                entry.line,
                entry.key,
                ERROR,
                "alias-is-key",
                f"`ids` alias {alias!r} is the key of another entry ({other.where}): "
                "biber treats both as one entry and drops one",
                f"remove {alias!r} from `ids`, or merge the two entries",
            )
    if entry.entry_type in ONE_OF_AUTHOR_EDITOR and entry.has("author") and entry.has("editor"):
        shown = "editor" if entry.entry_type == "proceedings" else "author"
        yield Hazard(
            entry.line,
            entry.key,
            WARNING,
            "author-and-editor",
            f"@{entry.entry_type} has both `author` and `editor`: BibTeX's standard styles "
            f"print only the {shown}",
            "keep the one that is right for this work; for a chapter in an edited book use "
            "@incollection (author of the chapter, editor of the book)",
        )
    journal = next((n for n in ("journal", "journaltitle") if n in fields), "")
    if journal and "booktitle" in fields and entry.has(journal) and entry.has("booktitle"):
        yield Hazard(
            entry.line,
            entry.key,
            WARNING,
            "two-venues",
            f"@{entry.entry_type} names two venues, `{journal}` and `booktitle`: BibTeX and "
            "biblatex styles and `cite` print only one of them",
            "keep the venue this entry's type uses (journal for @article, booktitle for "
            "@inproceedings and @incollection) and delete the other",
        )
