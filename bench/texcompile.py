"""Compile a bibliography with pdflatex + bibtex or pdflatex + biber and count what went
wrong (LaTeX errors, undefined citations, BibTeX/biber warnings, entries listed).

Shared by the compile tests (tests/test_export_compile.py) and `make corpus`
(bench/corpus.py): one harness, read from the .log, .blg and .bbl files.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# A `\nocite{*}` document per engine, for files that come without one.
NATBIB_DOCUMENT = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{url}
\usepackage{natbib}
\begin{document}
All references.\nocite{*}
\bibliographystyle{plainnat}
\bibliography{refs}
\end{document}
"""
BIBLATEX_DOCUMENT = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage[backend=biber,style=authoryear]{biblatex}
\addbibresource{refs.bib}
\begin{document}
All references.\nocite{*}
\printbibliography
\end{document}
"""
BIBTEX_WARNING = re.compile(r"^Warning--|^\(There (?:was|were) \d+ warnings?\)")
BIBER_WARNING = re.compile(r"WARN -")


@dataclass
class Report:
    errors: list[str]
    undefined: list[str]
    bib_warnings: list[str]
    log: str
    entries: int = 0  # entries in the .bbl

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.undefined == [], self.undefined
        assert self.bib_warnings == [], self.bib_warnings

    @property
    def problems(self) -> int:
        """Errors and warnings, counted the way a member meets them."""
        return len(self.errors) + len(self.undefined) + len(self.bib_warnings)


def run(args: list[str], cwd: Path, timeout: float = 300) -> None:
    subprocess.run(args, cwd=cwd, capture_output=True, timeout=timeout, check=False)


def pdflatex(cwd: Path, job: str, style: str | None) -> None:
    prefix = f"\\def\\bibstylename{{{style}}}" if style else ""
    run(
        ["pdflatex", "-interaction=nonstopmode", f"-jobname={job}", f"{prefix}\\input{{{job}}}"],
        cwd,
    )


def latex_report(cwd: Path, job: str, blg_warning: re.Pattern[str]) -> Report:
    log = _read(cwd / f"{job}.log")
    blg = _read(cwd / f"{job}.blg")
    bbl = _read(cwd / f"{job}.bbl")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    errors += [line for line in blg.splitlines() if re.search(r"error message|ERROR -", line)]
    undefined = re.findall(r"Citation [`']([^']*)' .*undefined", log)
    if "There were undefined references" in log:
        undefined.append("(there were undefined references)")
    undefined += re.findall(r"Package biblatex Warning: [^\n]*", log)
    warnings = [line for line in blg.splitlines() if blg_warning.search(line)]
    entries = bbl.count("\\bibitem") + bbl.count("\\entry{")
    return Report(errors, undefined, warnings, log, entries)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def compile_bibtex(
    cwd: Path, job: str, style: str | None, *, already_ran_latex: bool = False
) -> Report:
    if not already_ran_latex:
        pdflatex(cwd, job, style)
    run(["bibtex", job], cwd)
    pdflatex(cwd, job, style)
    pdflatex(cwd, job, style)
    return latex_report(cwd, job, BIBTEX_WARNING)


def compile_biber(cwd: Path, job: str, *, already_ran_latex: bool = False) -> Report:
    if not already_ran_latex:
        pdflatex(cwd, job, None)
    run(["biber", job], cwd)
    pdflatex(cwd, job, None)
    pdflatex(cwd, job, None)
    # A bibliography that grows by a page moves biblatex's page records once more: one more
    # pass, as latexmk would do; a request that survives it is reported.
    if "Please rerun LaTeX" in (cwd / f"{job}.log").read_text(errors="replace"):
        pdflatex(cwd, job, None)
    return latex_report(cwd, job, BIBER_WARNING)
