"""The citations of a compiled paper, read from its `.aux` files.

LaTeX writes, per `\\cite`/`\\nocite`:
- BibTeX: `\\citation{a,b}` (`\\nocite{*}` gives `\\citation{*}`);
- biblatex: `\\abx@aux@cite{REFSECTION}{key}` (biblatex >= 3.8; older versions wrote
  `\\abx@aux@cite{key}`), and `\\abx@aux@nociteall` for `\\nocite{*}`;
- `\\include`d chapters get their own `.aux`, pulled in by `\\@input{chapter.aux}`.
Included files are read recursively, relative to the main `.aux` (LaTeX writes them from the
folder the main file was compiled in), each at most once, so cycles terminate. An included
file that does not exist is skipped, as LaTeX does, and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlg_bib.errors import ParseError

_TOKENS = re.compile(
    r"\\citation\{(?P<citation>[^{}]*)\}"
    r"|\\abx@aux@cite\{(?P<abx>[^{}]*)\}(?:\{(?P<abx_key>[^{}]*)\})?"
    r"|(?P<nocite_all>\\abx@aux@nociteall)\b"
    r"|\\@input\{(?P<input>[^{}]*)\}"
)


@dataclass
class AuxCitations:
    """Cited keys in order of first citation, `\\nocite{*}`, and the files read."""

    keys: list[str] = field(default_factory=list)
    cite_all: bool = False
    files: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    # Where each key was first cited ("paper.aux:12"), for warnings about that citation.
    where: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, where: str = "") -> None:
        key = key.strip()
        if not key:
            return
        if key == "*":
            self.cite_all = True
        elif key not in self._seen:
            self._seen.add(key)
            self.keys.append(key)
            if where:
                self.where[key] = where

    def __post_init__(self) -> None:
        self._seen: set[str] = set(self.keys)


def parse_aux_text(
    text: str,
    citations: AuxCitations,
    include: Callable[[str], None] | None = None,
    source: str = "",
) -> list[str]:
    """Add the citations in one `.aux` text; return the `\\@input` file names, in order.

    `include` is called for each `\\@input` where it occurs, so citations keep LaTeX's order.
    `source` (the file's name) makes each citation remember its `file:line`.
    """
    inputs: list[str] = []
    line, counted = 1, 0
    for match in _TOKENS.finditer(text):
        where = ""
        if source:
            line += text.count("\n", counted, match.start())
            counted = match.start()
            where = f"{source}:{line}"
        if match["citation"] is not None:
            for key in match["citation"].split(","):
                citations.add(key, where)
        elif match["abx"] is not None:
            # Two arguments: {refsection}{key}; one argument (biblatex < 3.8): {key}.
            key = match["abx_key"] if match["abx_key"] is not None else match["abx"]
            citations.add(key, where)
        elif match["nocite_all"] is not None:
            citations.cite_all = True
        else:
            inputs.append(match["input"])
            if include is not None:
                include(match["input"])
    return inputs


def read_aux(paths: list[Path]) -> AuxCitations:
    """Citations of one or more top-level `.aux` files and everything they `\\@input`."""
    citations = AuxCitations()
    seen: set[Path] = set()
    for path in paths:
        if not path.is_file():
            raise ParseError(
                "no such .aux file",
                where=str(path),
                hint="compile the paper once (pdflatex paper.tex) and pass paper.aux",
            )
        _read_one(path, path.parent, citations, seen)
    return citations


def _read_one(path: Path, root: Path, citations: AuxCitations, seen: set[Path]) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return  # already read: an \include cycle or a file included twice
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ParseError(f"cannot read .aux file: {exc.strerror}", where=str(path)) from exc
    citations.files.append(path)

    def include(name: str) -> None:
        child = _locate(name, root, path.parent)
        if child is None:
            citations.missing.append(root / name)
        else:
            _read_one(child, root, citations, seen)

    parse_aux_text(text, citations, include, source=str(path))


def _locate(name: str, root: Path, folder: Path) -> Path | None:
    for base in (root, folder):
        candidate = base / name
        if candidate.is_file():
            return candidate
    return None
