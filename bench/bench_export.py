"""Issue 6: `dlg-bib export` of 10,000 entries and of a 200-key `.aux` subset, whole CLI
processes, vs bare bibtexparser.parse_file in the same run. Interleaved runs, medians;
target: within 1.5x of the bare parse.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from bench.common import python, report, time_process, write_database

N = 10_000
SUBSET = 200
RUNS = 7


def write_aux(folder: Path, n: int, k: int) -> Path:
    """A paper citing `k` of the `n` generated keys: BibTeX lines in the main file, biber
    lines in an \\@input'd chapter, as LaTeX writes them."""
    keys = [f"bench{i:05d}" for i in sorted(random.Random(6).sample(range(n), k))]
    half = k // 2
    main = ["\\relax"] + [f"\\citation{{{key}}}" for key in keys[:half]]
    main += ["\\@input{chapter.aux}", "\\bibstyle{plain}", "\\bibdata{refs}"]
    chapter = ["\\relax"] + [f"\\abx@aux@cite{{0}}{{{key}}}" for key in keys[half:]]
    (folder / "chapter.aux").write_text("\n".join(chapter) + "\n")
    (folder / "paper.aux").write_text("\n".join(main) + "\n")
    return folder / "paper.aux"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = write_database(Path(tmp) / "db", N)
        bib = db / "references.bib"
        aux = write_aux(Path(tmp), N, SUBSET)
        out = Path(tmp) / "out.bib"
        print(f"{N} entries, {bib.stat().st_size / 1e6:.1f} MB, {RUNS} runs each")
        cli = [sys.executable, "-m", "dlg_bib", "--bib", str(db), "export", "-o", str(out)]
        commands = {
            "baseline": python(f"import bibtexparser; bibtexparser.parse_file({str(bib)!r})"),
            "bibtex": cli,
            "biblatex": [*cli, "--format", "biblatex"],
            "csl": [*cli, "--format", "csl-json"],
            "aux": [*cli, "--aux", str(aux)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):  # interleaved, so machine noise hits all alike
            for name, argv in commands.items():
                times[name] += time_process(argv, runs=1)
        baseline = times["baseline"]
        report("bare bibtexparser.parse_file", baseline)
        report(f"export --format bibtex ({N} entries)", times["bibtex"], baseline)
        report(f"export --format biblatex ({N} entries)", times["biblatex"], baseline)
        report(f"export --format csl-json ({N} entries)", times["csl"], baseline)
        report(f"export --aux ({SUBSET} keys)", times["aux"], baseline)
