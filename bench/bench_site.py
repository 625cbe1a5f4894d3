"""Issue 15: `dlg-bib site` (with the Pagefind index) beside `dlg-bib readme` of the same
database, in the same run: the shipped bib/, and generated databases of 1,000 and 10,000
entries. Whole processes, interleaved runs, medians; ratios against the README render.

The site formats every reference in APA and IEEE through pandoc (batches of 500), writes a
page per reference, the calendar, the JSON index and the handouts (the term handout
typesets a bibliography of every reference), then runs Pagefind over the pages.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import report, time_process, write_database

REPO = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000)
RUNS = {"shipped": 5, 1_000: 3, 10_000: 3}
TODAY = "2021-11-10"


def _dlg(bib: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dlg_bib", "--bib", str(bib), *args]


def _compare(label: str, bib: Path, out: Path, runs: int) -> None:
    readme_cmd = _dlg(bib, "readme", "-o", str(out / "README.md"), "--today", TODAY)
    site_cmd = _dlg(bib, "site", "-o", str(out / "site"), "--today", TODAY)
    bare_cmd = [*site_cmd, "--no-handouts"]
    readme: list[float] = []
    site: list[float] = []
    bare: list[float] = []

    def fresh() -> None:  # every site run builds from an empty folder
        shutil.rmtree(out / "site", ignore_errors=True)
        (out / "README.md").unlink(missing_ok=True)

    for _ in range(runs):  # interleaved, so machine noise hits all alike
        readme += time_process(readme_cmd, runs=1, setup=fresh)
        site += time_process(site_cmd, runs=1, setup=fresh)
        bare += time_process(bare_cmd, runs=1, setup=fresh)
    print(f"-- {label} ({runs} run{'s' if runs > 1 else ''})")
    report("dlg-bib readme (whole CLI)", readme)
    report("dlg-bib site (everything, with search)", site, readme)
    report("dlg-bib site --no-handouts", bare, readme)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shipped = REPO / "bib"
        if shipped.is_dir():
            copy = root / "shipped" / "bib"
            shutil.copytree(shipped, copy)
            count = (copy / "references.bib").read_text(encoding="utf-8").count("\n@")
            _compare(f"shipped bib/ (~{count} entries)", copy, copy.parent, RUNS["shipped"])
        for n in SIZES:
            db = write_database(root / f"gen{n}" / "bib", n)
            _compare(f"generated {n} entries", db, db.parent, RUNS[n])
        print(f"(python {sys.version.split()[0]}, medians of whole-process runs)")
