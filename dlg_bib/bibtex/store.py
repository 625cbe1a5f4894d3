"""Read `.bib` files losslessly and write back only the entries that changed.

Each file keeps its exact text; each block knows its span in that text. A write splices
re-serialized entries into the original text, so every other byte (comments, @string,
blank lines, alignment, quotes, macros, entry-type case) stays identical. Writes are atomic
(temp file in the same folder, fsync, rename) and refuse to overwrite a file that another
writer changed since we read it, or a file with syntax errors.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import model as bpm

from dlg_bib.bibtex import fastsplit, values
from dlg_bib.bibtex.syntax import SyntaxProblem, block_problems, lacks_type
from dlg_bib.errors import ConcurrentEditError, ParseError, WriteError
from dlg_bib.library.model import Entry

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock, the digest check remains
    fcntl = None  # type: ignore[assignment]

# bibtexparser logs aborted blocks as warnings; we report them ourselves, with hints.
logging.getLogger("bibtexparser").setLevel(logging.ERROR)

# The type exactly as bibtexparser reads it (`@` then word characters: `@web_page`, `@Book`).
_TYPE_AS_WRITTEN = re.compile(r"@(\w*)")


@dataclass
class Block:
    """One block of a file: its exact text, where it sits, and what it parsed to."""

    raw: str
    start: int  # offset in the file's text
    line: int  # 1-based
    parsed: bpm.Block
    entry: Entry | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass
class BibFile:
    path: Path
    text: str
    digest: str
    blocks: list[Block]
    strings: dict[str, str] = field(default_factory=dict)
    _problems: list[SyntaxProblem] | None = field(default=None, repr=False)

    @property
    def problems(self) -> list[SyntaxProblem]:
        """Syntax problems, found on first use: only writers and lint need them."""
        if self._problems is None:
            found = [p for b in self.blocks for p in block_problems(b.parsed, b.line)]
            found.extend(duplicate_key_problems(self.blocks))
            self._problems = sorted(found, key=lambda p: p.line)
        return self._problems

    @property
    def entries(self) -> list[Entry]:
        return [b.entry for b in self.blocks if b.entry is not None]

    def block_of(self, entry: Entry) -> Block:
        for block in self.blocks:
            if block.entry is entry:
                return block
        raise KeyError(entry.key)


def read_text(path: Path) -> tuple[str, str]:
    """The file's text (newlines untouched) and the digest of its bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read file: {exc.strerror}", where=str(path)) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            "file is not valid UTF-8",
            where=f"{path}:{line}",
            hint="save the file as UTF-8 (or write accents as LaTeX, e.g. {\\'a})",
        ) from exc
    return text, hashlib.sha256(data).hexdigest()


def parse_bib(path: Path, text: str, digest: str = "") -> BibFile:
    """Split `text` into blocks with bibtexparser (no middleware: values stay as written)."""
    # The fast splitter answers only for text it fully understands, with the very blocks
    # bibtexparser would give (tests/test_fastsplit.py); on 10k entries it takes about half
    # of bibtexparser's time, the largest phase of `index` (bench/NOTES.md).
    blocks = fastsplit.split(text)
    if blocks is None:
        blocks = bibtexparser.parse_string(text, parse_stack=[]).blocks  # type: ignore[attr-defined]
    bib = BibFile(path=path, text=text, digest=digest, blocks=[])
    pos = 0
    line, counted = 1, 0  # blocks come in order: count newlines up to each, once
    for parsed in blocks:
        raw = parsed.raw or ""
        start = text.find(raw, pos) if raw else -1
        if start < 0:
            # Never guess where a block sits: a file we cannot map exactly is never written.
            raise ParseError(
                "cannot map a parsed block back to the file's text",
                where=f"{path}:{(parsed.start_line or 0) + 1}",
                hint="run `dlg-bib lint` and fix the syntax around this line",
            )
        line += text.count("\n", counted, start)
        counted = start
        block = Block(raw=raw, start=start, line=line, parsed=parsed)
        if isinstance(parsed, bpm.String):
            bib.strings[parsed.key.lower()] = values.resolve(parsed.value, bib.strings)
        bib.blocks.append(block)
        pos = start + len(raw)
    for block in bib.blocks:
        parsed = block.parsed
        if lacks_type(parsed):
            continue  # no entry to BibTeX or biber; a syntax problem
        if isinstance(parsed, bpm.Entry):
            block.entry = _entry_of(parsed, path, block, bib.strings)
        elif isinstance(parsed, bpm.DuplicateFieldKeyBlock):
            # BibTeX and biber keep such an entry and ignore the repeated field (with a
            # warning): so do we, or it would vanish from exports and `cite`. The block stays
            # a syntax problem, so lint reports it and writers refuse the file.
            entry = parsed.ignore_error_block
            if isinstance(entry, bpm.Entry):
                block.entry = _entry_of(entry, path, block, bib.strings)
    return bib


def duplicate_key_problems(blocks: list[Block]) -> list[SyntaxProblem]:
    """Keys repeated in one file, compared case-insensitively as BibTeX does."""
    first: dict[str, tuple[str, int]] = {}
    problems = []
    for block in blocks:
        if not isinstance(block.parsed, (bpm.Entry, bpm.DuplicateBlockKeyBlock)):
            continue
        if lacks_type(block.parsed):
            continue
        key = block.parsed.key
        if key.lower() in first:
            other, line = first[key.lower()]
            problems.append(
                SyntaxProblem(
                    block.line,
                    "duplicate-key",
                    f"key {key!r} is already used by {other!r} on line {line} "
                    "(BibTeX compares keys case-insensitively)",
                    "rename one of them, or merge the two entries",
                    key,
                )
            )
        else:
            first[key.lower()] = (key, block.line)
    return problems


def _entry_of(parsed: bpm.Entry, path: Path, block: Block, strings: dict[str, str]) -> Entry:
    match = _TYPE_AS_WRITTEN.match(block.raw)
    return Entry(
        key=parsed.key,
        entry_type=parsed.entry_type.lower(),
        fields=_first_values(parsed.fields),
        file=path,
        line=block.line,
        type_as_written=match.group(1) if match else parsed.entry_type,
        strings=strings,
        names_as_written={f.key.lower(): f.key for f in parsed.fields if not f.key.islower()},
    )


def _first_values(fields: list[bpm.Field]) -> dict[str, str]:
    """Field values by lowercased name; of a repeated field the first, as BibTeX keeps."""
    by_name = {f.key.lower(): f.value for f in fields}
    if len(by_name) == len(fields):
        return by_name  # no name twice: the usual entry, built the fast way
    first: dict[str, str] = {}
    for f in fields:
        first.setdefault(f.key.lower(), f.value)
    return first


def repeated_fields(block: Block) -> list[tuple[str, int]]:
    """The repeated fields of an entry's block, (name as written, 1-based line) of each
    repetition after the first; [] for the usual entry."""
    parsed: bpm.Block | None = block.parsed
    if isinstance(parsed, bpm.DuplicateFieldKeyBlock):
        parsed = parsed.ignore_error_block
    if not isinstance(parsed, bpm.Entry):
        return []
    seen: set[str] = set()
    repeated = []
    for f in parsed.fields:
        name = f.key.lower()
        if name in seen:
            repeated.append((f.key, (f.start_line or 0) + 1))
        seen.add(name)
    return repeated


def load_file(path: Path) -> BibFile:
    text, digest = read_text(path)
    return parse_bib(path, text, digest)


# ---- writing ---------------------------------------------------------------------------

HOUSE_INDENT = "  "


def format_entry(entry: Entry) -> str:
    """An entry in the house style: two-space indent, `name = value,` per line.

    Raw values are written as stored, so `month = jul` and `"quoted"` values survive, and
    the type and field names as the file spells them (`@book_section`, `YEAR`).
    """
    lines = [f"@{entry.type_as_written or entry.entry_type}{{{entry.key},"]
    written = entry.names_as_written
    for name, raw in entry.fields.items():
        lines.append(f"{HOUSE_INDENT}{written.get(name, name)} = {raw},")
    lines.append("}")
    return "\n".join(lines)


def splice(bib: BibFile, changed: list[Entry], added: list[Entry]) -> str:
    """The file's new text: changed entries re-serialized in place, new ones appended."""
    newline = "\r\n" if "\r\n" in bib.text else "\n"
    replacements = {id(bib.block_of(e)): format_entry(e).replace("\n", newline) for e in changed}
    out: list[str] = []
    pos = 0
    for block in bib.blocks:
        out.append(bib.text[pos : block.start])
        out.append(replacements.get(id(block), block.raw))
        pos = block.end
    tail = bib.text[pos:]
    if added:
        body = "".join(out) + tail
        if body and not body.endswith("\n"):
            body += newline
        if body.strip():
            body += newline
        new = (newline + newline).join(format_entry(e).replace("\n", newline) for e in added)
        return body + new + newline
    out.append(tail)
    return "".join(out)


def refuse_syntax_errors(bib: BibFile) -> None:
    """A file with syntax errors is never written: its broken entries would be lost."""
    if bib.problems:
        first = bib.problems[0]
        raise ParseError(
            f"refusing to write a file with syntax errors ({first.message})",
            where=f"{bib.path}:{first.line}",
            hint="run `dlg-bib lint` and fix the errors first; nothing was written",
        )


def write_changes(bib: BibFile, changed: list[Entry], added: list[Entry] | None = None) -> bool:
    """Write the changed/added entries of one file atomically. Returns False if nothing changed."""
    refuse_syntax_errors(bib)
    new_text = splice(bib, changed, added or [])
    if new_text == bib.text:
        return False
    atomic_replace(bib.path, new_text.encode("utf-8"), expected_digest=bib.digest)
    bib.text = new_text
    bib.digest = hashlib.sha256(new_text.encode("utf-8")).hexdigest()
    return True


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialise writers in one folder, so the digest check and the rename are one step."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def atomic_replace(path: Path, data: bytes, *, expected_digest: str | None = None) -> None:
    """Replace `path` with `data`: temp file in the same folder, fsync, rename, fsync folder.

    With `expected_digest`, fail with ConcurrentEditError when the file on disk is no longer
    the one we read, instead of overwriting another writer's change. Any OSError (read-only
    file or folder, missing folder, disk full) is a WriteError naming the path; the file is
    then as it was.
    """
    try:
        if _is_special(path):
            # A device or pipe (/dev/stdout, a FIFO) is written into: renaming over it would
            # replace the device node itself.
            with path.open("wb") as handle:
                handle.write(data)
            return
        _replace(path, data, expected_digest)
    except OSError as exc:
        cause = exc.strerror or str(exc)
        raise WriteError(
            f"cannot write file: {cause}; nothing was written", where=str(path)
        ) from exc


def _is_special(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:  # missing (or unreachable): the atomic path creates or reports it
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _replace(path: Path, data: bytes, expected_digest: str | None) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    with _folder_lock(folder):
        if expected_digest is not None and path.exists():
            current = hashlib.sha256(path.read_bytes()).hexdigest()
            if current != expected_digest:
                raise ConcurrentEditError(
                    "the file changed on disk since it was read; nothing was written",
                    where=str(path),
                    hint="another command or editor wrote it; run the command again",
                )
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, mode)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
