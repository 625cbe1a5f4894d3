"""Issue 3: `dlg-bib readme` and `dlg-bib index` vs bare bibtexparser.parse_file; handout.

Whole processes, interleaved runs, medians. On a generated 10,000-entry database (LaTeX in a
third of titles and authors) and on the shipped bib/. Targets: 10k README + index within
2x bare parsing; the shipped `make readme` well under 1 s; a session handout under 0.5 s.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import python, report, time_process, write_database

N = 10_000
RUNS = 5
REPO = Path(__file__).resolve().parent.parent


def _dlg(bib: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dlg_bib", "--bib", str(bib), *args]


def _compare(label: str, bib: Path, bibfile: Path, out: Path) -> None:
    baseline_cmd = python(f"import bibtexparser; bibtexparser.parse_file({str(bibfile)!r})")
    readme_cmd = _dlg(bib, "readme", "-o", str(out / "README.md"), "--today", "2021-11-10")
    index_cmd = _dlg(bib, "index", "-o", str(out / "index.json"))
    baseline: list[float] = []
    readme: list[float] = []
    index: list[float] = []
    serial: list[float] = []
    both: list[float] = []
    for _ in range(RUNS):  # interleaved, so machine noise hits all alike
        baseline += time_process(baseline_cmd, runs=1)
        r = time_process(readme_cmd, runs=1)
        (out / "README.md").unlink()
        i = time_process(index_cmd, runs=1)
        # Lint in the same process, as on one core (the default lints in a child: background)
        serial += time_process(index_cmd, runs=1, env={"DLG_BIB_JOBS": "1"})
        readme += r
        index += i
        both.append(r[0] + i[0])
    print(f"-- {label}")
    report("bare bibtexparser.parse_file", baseline)
    report("dlg-bib readme (whole CLI)", readme, baseline)
    report("dlg-bib index (whole CLI)", index, baseline)
    report("dlg-bib index, one process (DLG_BIB_JOBS=1)", serial, baseline)
    report("readme + index (two processes)", both, baseline)


def _handout(bib: Path, out: Path) -> None:
    cmd = _dlg(bib, "handout", "--session", "2021-11-12", "-o", str(out / "h.pdf"))
    term = _dlg(bib, "handout", "--term", "-o", str(out / "t.pdf"))
    report("dlg-bib handout --session (whole CLI)", time_process(cmd, runs=RUNS))
    report("dlg-bib handout --term (whole CLI)", time_process(term, runs=RUNS))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = write_database(root / "big" / "bib", N)
        print(f"{N} entries, {(db / 'references.bib').stat().st_size / 1e6:.1f} MB, {RUNS} runs")
        _compare(f"generated {N} entries", db, db / "references.bib", root / "big")
        shipped = REPO / "bib"
        if shipped.is_dir():
            copy = root / "shipped" / "bib"
            shutil.copytree(shipped, copy)
            count = (copy / "references.bib").read_text(encoding="utf-8").count("\n@")
            _compare(f"shipped bib/ (~{count} entries)", copy, copy / "references.bib", copy.parent)
            _handout(copy, copy.parent)
        print(f"(python {sys.version.split()[0]}, medians of {RUNS} whole-process runs)")
