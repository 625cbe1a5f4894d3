"""Load, a one-entry `tag` and `lint` on 10,000 entries vs bare bibtexparser.parse_file.

Whole processes, interleaved runs, medians; targets: load <= 1.3x, tag <= 1.5x (issue 2),
lint <= 1.5x with every rule of issue 13 in place.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.common import python, report, time_process, write_database

N = 10_000
RUNS = 7


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = write_database(Path(tmp) / "db", N)
        bib = db / "references.bib"
        print(f"{N} entries, {bib.stat().st_size / 1e6:.1f} MB, {RUNS} runs each")
        baseline_cmd = python(f"import bibtexparser; bibtexparser.parse_file({str(bib)!r})")
        load_cmd = python(
            "from pathlib import Path; from dlg_bib.library.database import open_workspace; "
            f"open_workspace(Path({str(db)!r}))"
        )
        state = {"add": True}

        def flip() -> None:
            state["add"] = not state["add"]

        def tag_cmd() -> list[str]:
            args = [sys.executable, "-m", "dlg_bib", "--bib", str(db), "tag", "bench05000"]
            return [*args, "--topic", "nlp"] + ([] if state["add"] else ["--remove"])

        # Findings exit 1: the benchmark times the run whatever lint finds, and fails on 2.
        lint_cmd = ["sh", "-c", '"$0" -m dlg_bib --bib "$1" lint >/dev/null; [ $? -le 1 ]']
        lint_cmd += [sys.executable, str(db)]

        baseline, load, tag, lint = [], [], [], []
        for _ in range(RUNS):  # interleaved, so machine noise hits all four alike
            baseline += time_process(baseline_cmd, runs=1)
            load += time_process(load_cmd, runs=1)
            tag += time_process(tag_cmd(), runs=1)
            lint += time_process(lint_cmd, runs=1)
            flip()
        report("bare bibtexparser.parse_file", baseline)
        report("dlg-bib load (open_workspace)", load, baseline)
        report("dlg-bib tag (one entry, whole CLI)", tag, baseline)
        report("dlg-bib lint (whole CLI)", lint, baseline)
