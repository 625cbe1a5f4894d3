"""Formatted references (APA, IEEE, Chicago, …) for pasting into slides, emails and chat.

Engine: **pandoc's citeproc**, with CSL styles vendored in `dlg_bib/data/csl/`.
Why this one, after trying the options on the shipped database:
- pandoc's citeproc is a complete CSL 1.0.2 processor and gets APA and IEEE right on every
  kind of entry we have (articles, proceedings, books, chapters via crossref, reports, web
  pages, arXiv preprints). It comes from the `pypandoc-binary` wheel (`pip install
  'dlg-bib[cite]'`; the `test` extra has it, so every test runs one pinned pandoc), and a
  `pandoc` on PATH is the fallback. Its cost per call is in bench/NOTES.md.
- citeproc-py (the pure-Python option) prints visible defects with the same `.csl` files:
  IEEE `[5]E. Pękalska` (no space), commas outside quotes, Chicago initials. Its style
  package is 89 MB for three files we need.
- Typst's built-in CSL (hayagriva) formats only inside a typeset document (PDF/PNG), not as
  text, and reads no CSL-JSON.
When no pandoc is found, `cite --format bibtex` still works and the other formats fail
(exit 1: a missing tool, not a usage error) with a hint to install it.

The styles are unmodified copies of the official CSL styles (Creative Commons BY-SA 3.0,
citationstyles.org), taken from TeX Live's citation-style-language package; see
`dlg_bib/data/csl/README.md`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from dlg_bib.errors import EXIT_FINDINGS, DlgBibError, UnknownNameError
from dlg_bib.export.csl import Item

CSL_DIR = Path(__file__).resolve().parent.parent / "data" / "csl"
STYLES = {
    "apa": "apa.csl",
    "ieee": "ieee.csl",
    "chicago": "chicago-author-date.csl",
    "mla": "modern-language-association.csl",
    "harvard": "harvard-cite-them-right.csl",
    "nature": "nature.csl",
    "vancouver": "vancouver.csl",
}
PANDOC_TARGETS = {"text": "plain", "markdown": "commonmark-raw_html", "html": "html"}


class ToolMissingError(DlgBibError):
    """An external program a command needs is not installed (the command is fine as typed)."""

    exit_code = EXIT_FINDINGS


class FormatterError(DlgBibError):
    """The formatter ran but failed."""


def style_path(style: str) -> Path:
    """The `.csl` file for a style name (`apa`, `ieee`, …) or a path to a `.csl` file."""
    if style.lower() in STYLES:
        return CSL_DIR / STYLES[style.lower()]
    path = Path(style)
    if path.suffix == ".csl" and path.is_file():
        return path
    raise UnknownNameError(
        f"unknown citation style {style!r}",
        hint=f"styles: {', '.join(STYLES)}; or the path of a .csl file",
    )


def pandoc_path() -> str | None:
    """The pandoc of the `cite` extra (pypandoc-binary's own copy), else a pandoc on PATH."""
    try:
        import pypandoc
    except ImportError:
        return shutil.which("pandoc")
    try:
        return str(pypandoc.get_pandoc_path())
    except OSError:  # pypandoc without the binary wheel, and no pandoc on PATH
        return shutil.which("pandoc")


def format_references(items: list[Item], style: Path, fmt: str) -> str:
    """The bibliography of `items`, in their order (for numbered styles), as `fmt`."""
    pandoc = pandoc_path()
    if pandoc is None:
        raise ToolMissingError(
            "pandoc is not installed; it formats references in CSL styles",
            hint="pip install 'dlg-bib[cite]' (brings pandoc), or install pandoc "
            "(apt install pandoc, brew install pandoc), or use --format bibtex",
        )
    with tempfile.TemporaryDirectory(prefix="dlg-cite-") as folder:
        work = Path(folder)
        (work / "refs.json").write_text(json.dumps(items, ensure_ascii=False), "utf-8")
        # nocite in a YAML block: pandoc ignores `-M nocite=…` (jgm/pandoc#10858).
        keys = ", ".join(f"@{{{item['id']}}}" for item in items)
        (work / "doc.md").write_text(f"---\nnocite: '{keys}'\n...\n", "utf-8")
        command = [
            pandoc, "--citeproc", "--bibliography=refs.json", f"--csl={style}",
            "-f", "markdown", "-t", PANDOC_TARGETS[fmt], "--wrap=none", "doc.md",
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=120, check=False
        )
    if done.returncode != 0:
        raise FormatterError(f"pandoc failed: {done.stderr.strip()}", where=str(style))
    return done.stdout
