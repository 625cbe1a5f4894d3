"""Shared benchmark tools: a generated database and whole-process timing."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

GROUP_TOML = """\
[group]
name = "Bench Group"
term = "Fall 2021"

[[topics]]
id = "uat"
title = "Universal Approximation Theorem"

[[topics]]
id = "nlp"
title = "Deep Learning in Natural Language Processing"

[[sessions]]
date = 2021-09-03
title = "Universal Approximation Theorem"
topic = "uat"

[[sessions]]
date = 2021-11-12
title = "Attention is All You Need"
topic = "nlp"
"""

_FAMILIES = ["Smith", "Nguyen", "Garcia", "Müller", "Okafor", "Tanaka", "Rossi", "Kowalski"]
_LATEX_FAMILIES = ["P{\\k{e}}kalska", "K{\\'o}czy", 'Gy{\\"o}rfi', 'Sch{\\"o}lkopf', "Erd\\H{o}s"]
_WORDS = "deep neural learning networks approximation universal operators gradient adaptive".split()


def generate_bib(n: int, seed: int = 7) -> str:
    """`n` entries shaped like a real group bib; LaTeX in a third of titles and authors."""
    rng = random.Random(seed)
    out = [
        "% generated benchmark database\n@string{jmlr = {Journal of Machine Learning Research}}\n"
    ]
    seen: set[tuple[str, str]] = set()
    for i in range(n):
        latex = i % 3 == 0
        names = []
        for _ in range(rng.randint(2, 6)):
            family = rng.choice(_LATEX_FAMILIES if latex else _FAMILIES)
            names.append(f"{family}, {rng.choice('ABCDEFGH')}.")
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 10))]
        title = " ".join(words).capitalize()
        # A real database has no duplicate works (lint would refuse to render it): the rare
        # random clash of title and first author gets a distinct title.
        if (title, names[0].split(",")[0]) in seen:
            title += f" part {i}"
        seen.add((title, names[0].split(",")[0]))
        if latex:
            title = "{BERT}-style " + title + " with $\\ell_1$ and \\'{e}t{\\'e} -- \\& more"
        year = 1990 + i % 35
        kind = ("article", "inproceedings", "misc")[i % 3]
        fields = [
            f"  author = {{{' and '.join(names)}}},",
            f"  title = {{{title}}},",
            f"  year = {year},",
            "  month = jul,",
        ]
        if kind == "article":
            fields += [
                "  journal = jmlr,",
                f"  volume = {{{i % 40}}}",
                f"  pages = {{{i}--{i + 9}}},",
            ]
            fields[-2] += ","
        elif kind == "inproceedings":
            fields.append("  booktitle = {Advances in Neural Information Processing Systems},")
        else:
            fields += [
                f"  eprint = {{{1000 + i % 9000}.{10000 + i:05d}}},",
                "  archiveprefix = {arXiv},",
            ]
        fields.append(f"  doi = {{10.5555/bench.{i}}},")
        if i % 10 == 0:
            fields.append(
                "  abstract = {" + " ".join(rng.choice(_WORDS) for _ in range(150)) + "},"
            )
        if i % 50 == 0:
            fields.append("  dlg-topics = {uat},")
            fields.append("  dlg-sessions = {2021-09-03:reading},")
        out.append(f"@{kind}{{bench{i:05d},\n" + "\n".join(fields) + "\n}\n")
    return "\n".join(out)


def write_database(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "group.toml").write_text(GROUP_TOML)
    (folder / "references.bib").write_text(generate_bib(n))
    return folder


def time_process(
    argv: list[str], runs: int = 5, setup: object = None, env: dict[str, str] | None = None
) -> list[float]:
    """Wall times of `runs` fresh processes (optionally calling `setup()` before each;
    `env`: variables added to the environment)."""
    times = []
    full_env = {**os.environ, **env} if env else None
    for _ in range(runs):
        if callable(setup):
            setup()
        start = time.perf_counter()
        subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env
        )
        times.append(time.perf_counter() - start)
    return times


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def report(name: str, times: list[float], baseline: list[float] | None = None) -> float:
    median = statistics.median(times)
    line = f"{name:<44} median {median:7.3f} s  (min {min(times):.3f}, max {max(times):.3f})"
    if baseline:
        line += f"  ratio {median / statistics.median(baseline):.2f}x"
    print(line, flush=True)
    return median
