"""The direction of the imports (README, "Development"): cli → ops, enrich, render, export,
links → the library and the BibTeX format → errors; `sources/` (one client per API)
imports nothing of the core but the neutral modules, and no two parts of dlg_bib import each
other, directly or around a loop. Read from the source with ast: no module is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dlg_bib"
# What any layer may import: errors, the transport rules, the Retry-After parser, the version.
NEUTRAL = frozenset(
    {"dlg_bib", "dlg_bib.errors", "dlg_bib.transport", "dlg_bib.retry_after", "dlg_bib.background"}
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The dlg_bib modules a module imports (`from dlg_bib import x` names dlg_bib.x when x
    is a module, else dlg_bib itself), at any depth: a function-level import counts too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "dlg_bib")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "dlg_bib":
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_the_import_reader_sees_the_imports() -> None:
    # The check below is only as good as this reader: it must see a known edge.
    assert "dlg_bib.sources.http" in imports_of(MODULES["dlg_bib.sources.crossref"])
    assert "dlg_bib.sources.dblp" in imports_of(MODULES["dlg_bib.enrich.published"])


@pytest.mark.parametrize(
    "name", sorted(n for n in MODULES if n.startswith("dlg_bib.sources")), ids=str
)
def test_sources_import_only_sources_and_the_neutral_modules(name: str) -> None:
    outside = {
        m
        for m in imports_of(MODULES[name])
        if not m.startswith("dlg_bib.sources") and m not in NEUTRAL
    }
    assert not outside, f"{name} imports the core: {sorted(outside)}"


# The BibTeX format and the library are one layer (README, "Development"): the store builds
# the library's entries, which read the format's values. Inside it they may import each other.
ONE_LAYER = {"dlg_bib.bibtex": "dlg_bib.library"}


def part_of(module: str) -> str:
    """The top-level package or module of dlg_bib a module belongs to (`dlg_bib.enrich`)."""
    part = ".".join(module.split(".")[:2])
    return ONE_LAYER.get(part, part)


def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        here = part_of(name)
        if here == "dlg_bib":
            continue  # the package's __init__ (the version) imports nothing
        targets = {part_of(m) for m in imports_of(path)} - {here, "dlg_bib"}
        graph.setdefault(here, set()).update(targets)
    return graph


def test_no_import_cycles_between_the_parts_of_dlg_bib() -> None:
    graph = part_graph()
    cycles = []
    # A part is in a cycle when it can reach itself; report each with the path found.
    for start in sorted(graph):
        trail = _path(graph, start, start)
        if trail:
            cycles.append(" -> ".join(trail))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str]:
    todo: list[list[str]] = [[start, n] for n in sorted(graph.get(start, ()))]
    seen: set[str] = set()
    while todo:
        trail = todo.pop()
        node = trail[-1]
        if node == goal:
            return trail
        if node in seen:
            continue
        seen.add(node)
        todo.extend([*trail, n] for n in sorted(graph.get(node, ())))
    return []


# Who may import whom, bottom up: a module imports its own rank and the ranks below it.
NEUTRAL_RANK, SOURCES_RANK, FORMAT_RANK, PIPELINE_RANK, CLI_RANK = range(5)
RANKS = {
    "dlg_bib": NEUTRAL_RANK,  # the version
    "dlg_bib.errors": NEUTRAL_RANK,
    "dlg_bib.transport": NEUTRAL_RANK,
    "dlg_bib.retry_after": NEUTRAL_RANK,
    "dlg_bib.sources": SOURCES_RANK,
    "dlg_bib.bibtex": FORMAT_RANK,
    "dlg_bib.library": FORMAT_RANK,
    "dlg_bib.cli": CLI_RANK,
    "dlg_bib.__main__": CLI_RANK,
}


def rank_of(module: str) -> int:
    """ops/, enrich/, render/, export/, links/ and add are the pipeline, above the library."""
    return RANKS.get(".".join(module.split(".")[:2]), PIPELINE_RANK)


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{name} imports {target}"
        for name, path in sorted(MODULES.items())
        for target in sorted(imports_of(path))
        if rank_of(target) > rank_of(name)
    ]
    assert not upward, "\n".join(upward)


def test_the_layer_check_sees_an_upward_import() -> None:
    # The library must not know the renderer: such an edge would be reported.
    assert rank_of("dlg_bib.render.context") > rank_of("dlg_bib.library.matching")
    assert rank_of("dlg_bib.library.model") > rank_of("dlg_bib.sources.http")
