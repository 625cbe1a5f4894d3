"""Syntax problems bibtexparser accepts silently, found from the blocks it returns.

Shared by `store` (a file with any of these is never written) and `lint` (which reports them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bibtexparser import model as bpm

from dlg_bib.bibtex import values

# What BibTeX or biber refuse in a key, or what ends it early: whitespace, the comma that
# ends it, braces and quotes that delimit values, `#` (concatenation), `%` (a TeX comment in
# `\cite{…}` and the .aux file) and `\` (a TeX command). Anything else
# (`1982A&A...114..278B` from NASA ADS, `IJCAI01*425`) is a key both read and cite.
_REJECTED_IN_KEY = re.compile(r'[\s,{}"#%\\]')


def is_valid_key(key: str) -> bool:
    """Accepted by BibTeX and biber and citable from LaTeX: not empty; no whitespace, commas,
    braces, quotes, `#`, `%` or `\\`."""
    return bool(key) and _REJECTED_IN_KEY.search(key) is None


def lacks_type(block: bpm.Block) -> bool:
    """An `@` with no entry type (`@{key, …}`, the `@(#)` of an old SCCS `$Id$` line), which
    bibtexparser reads as an entry: BibTeX skips it ("You're missing an entry type") and
    biber rejects the whole file, so no command may list, export or cite it."""
    inner = getattr(block, "ignore_error_block", None)  # a duplicate key or field wraps it
    entry = inner if isinstance(inner, bpm.Entry) else block
    return isinstance(entry, bpm.Entry) and not entry.entry_type


# A value that swallowed the next field: `{One}\n  year = 2020` (missing comma).
_SWALLOWED_FIELD = re.compile(r"[}\"\d]\s*\n\s*([A-Za-z][\w-]*)\s*=")


@dataclass(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    rule: str
    message: str
    hint: str
    key: str = ""


def block_problems(block: bpm.Block, raw_line: int) -> list[SyntaxProblem]:
    """Problems of one parsed block; `raw_line` is the block's 1-based first line."""
    if lacks_type(block):
        return [
            SyntaxProblem(
                raw_line,
                "missing-entry-type",
                "`@` without an entry type: BibTeX skips what follows up to the next `@`, "
                "and biber cannot read the file at all (the bibliography comes out empty)",
                "write the type (`@article{key,`), or drop the `@` from text outside entries",
            )
        ]
    if isinstance(block, bpm.DuplicateFieldKeyBlock):
        fields = ", ".join(sorted(block.duplicate_keys))
        return [
            SyntaxProblem(
                raw_line,
                "duplicate-field",
                f"field {fields} appears twice in one entry",
                "keep one of the two values and delete the other",
                getattr(block.ignore_error_block, "key", ""),
            )
        ]
    if isinstance(block, bpm.DuplicateBlockKeyBlock):
        return []  # reported by the duplicate-key rule, case-insensitively
    if isinstance(block, bpm.ParsingFailedBlock):
        return [_failed_block_problem(block, raw_line)]
    if isinstance(block, bpm.ImplicitComment):
        return _stray_text_problems(block.raw or "", raw_line)
    if isinstance(block, bpm.Entry):
        return _entry_problems(block, raw_line)
    return []


def _failed_block_problem(block: bpm.ParsingFailedBlock, raw_line: int) -> SyntaxProblem:
    error = block.error
    reason = getattr(error, "abort_reason", "") or str(error) or type(error).__name__
    line = raw_line
    if "Expected comma after entry key" in reason:
        line = raw_line
        return SyntaxProblem(
            line,
            "missing-comma-after-key",
            "missing comma after the entry key",
            "write `@type{key,` with a comma right after the key",
        )
    if "end of file" in reason:
        return SyntaxProblem(
            line,
            "unterminated-entry",
            "entry is not closed before the end of the file",
            "add the closing `}` and check the braces inside its values",
        )
    if "Unexpected block start" in reason or "closing" in reason:
        return SyntaxProblem(
            raw_line + _first_unbalanced_line(block.raw or ""),
            "unbalanced-braces",
            f"unbalanced braces or quotes in this entry ({reason.strip()})",
            "every `{` in a value needs its `}`; the entry ends before the next `@`",
        )
    return SyntaxProblem(
        line, "syntax", f"cannot parse this block: {reason.strip()}", "fix the entry"
    )


def _first_unbalanced_line(raw: str) -> int:
    """Offset of the first `name = value` line whose braces do not balance (else 0)."""
    for offset, text in enumerate(raw.split("\n")):
        if "=" in text and text.count("{") != text.count("}"):
            if offset == 0 and text.lstrip().startswith("@"):
                continue
            return offset
    return 0


def _stray_text_problems(raw: str, raw_line: int) -> list[SyntaxProblem]:
    problems = []
    for offset, text in enumerate(raw.split("\n")):
        stripped = text.strip()
        if stripped and not stripped.startswith("%") and set(stripped) <= set("{}"):
            problems.append(
                SyntaxProblem(
                    raw_line + offset,
                    "stray-brace",
                    f"stray `{stripped}` outside any entry",
                    "delete it; an entry ends at its first balanced `}`",
                )
            )
    return problems


def _entry_problems(entry: bpm.Entry, raw_line: int) -> list[SyntaxProblem]:
    problems = []
    if not is_valid_key(entry.key):
        problems.append(
            SyntaxProblem(
                raw_line,
                "invalid-key",
                f"key {entry.key!r} is rejected by BibTeX and biber "
                "(whitespace, `,`, braces, quotes, `#`, `%` or `\\` in a key, or no key)",
                "rename it, e.g. to the house key `dlg-bib import` would give "
                "(vaswani2017attention), and cite it by the new key",
                entry.key,
            )
        )
    seen: dict[str, str] = {}
    for f in entry.fields:  # one pass: entries are many, their problems few
        value = f.value
        match = _SWALLOWED_FIELD.search(value) if "\n" in value else None
        if match:
            line = (f.start_line or 0) + 1 + value[: match.start() + 1].count("\n") + 1
            problems.append(
                SyntaxProblem(
                    line,
                    "missing-comma",
                    f"missing comma between fields: `{match.group(1)} =` is inside "
                    f"the value of `{f.key}`",
                    f"add a comma at the end of the line before `{match.group(1)} =`",
                    entry.key,
                )
            )
        # A braced value without `#` or a number is what values.resolve takes as it is.
        if not ((value[:1] == "{" and value[-1:] == "}" and "#" not in value) or value.isdigit()):
            try:
                values.resolve(value, None)
            except values.ValueSyntaxError as exc:
                problems.append(
                    SyntaxProblem(
                        (f.start_line or 0) + 1,
                        "malformed-value",
                        f"value of `{f.key}` is not valid BibTeX ({exc.message})",
                        'a value is {text}, "text", a number or a @string name, joined by `#`',
                        entry.key,
                    )
                )
        low = f.key.lower()
        if low in seen:
            problems.append(
                SyntaxProblem(
                    (f.start_line or 0) + 1,
                    "duplicate-field",
                    f"field `{f.key}` appears twice in one entry (as `{seen[low]}` too)",
                    "keep one of the two values and delete the other",
                    entry.key,
                )
            )
        seen[low] = f.key
    return problems
