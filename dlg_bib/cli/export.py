"""`dlg-bib export`: a standalone bibliography for a paper, a session or a topic."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dlg_bib.bibtex.store import atomic_replace
from dlg_bib.cli import AppContext, pass_app
from dlg_bib.errors import EXIT_FINDINGS, UNKNOWN_KEY_HINT
from dlg_bib.export import FORMATS, Criteria, export

HELP = """Write a standalone bibliography: BibTeX, biblatex or CSL-JSON.

\b
With no selection, the whole database. Selections add up:
  --session DATE   readings of a session (any role)
  --topic ID       entries tagged with a meta-topic
  --keys K,...     keys, aliases (ids) or legacy labels ("Ref 14")
  --aux FILE.aux   what a compiled paper cites: \\citation (BibTeX),
                   \\abx@aux@cite (biber), \\@input'd chapter .aux files,
                   \\nocite{*}

Placeholders (dlg-placeholder: no real record yet) are left out unless
--include-placeholders is given; naming one explicitly is reported.
crossref'd parents come along, after their children. dlg-* fields are
dropped; values are LaTeX-safe (accents as {\\'a}, acronyms in titles
braced). BibTeX: arXiv preprints as @misc "arXiv preprint arXiv:ID", web
links as \\url{...} (load the url or hyperref package). biblatex: @online
with eprinttype = arxiv, ISO date.

Exit code 1 when a requested key is not in the database (they are listed;
the known ones are still written).
"""


@click.command("export", help=HELP, short_help="Write a BibTeX/biblatex/CSL-JSON bibliography.")
@click.option("--session", "sessions", multiple=True, metavar="DATE", help="Session date.")
@click.option("--topic", "topics", multiple=True, metavar="ID", help="Meta-topic id.")
@click.option("--keys", "keys", multiple=True, metavar="K,...", help="Comma-separated keys.")
@click.option(
    "--aux",
    "aux_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE.aux",
    help="A compiled paper's .aux (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="bibtex",
    show_default=True,
    help="Target: classic BibTeX, biblatex (biber) or CSL-JSON.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to FILE (atomically) instead of standard output.",
)
@click.option("--include-placeholders", is_flag=True, help="Also export placeholder entries.")
@pass_app
def command(
    app: AppContext,
    sessions: tuple[str, ...],
    topics: tuple[str, ...],
    keys: tuple[str, ...],
    aux_files: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    include_placeholders: bool,
) -> None:
    criteria = Criteria(
        sessions=list(sessions),
        topics=list(topics),
        keys=[k for item in keys for k in item.split(",")],
        aux_files=list(aux_files),
        include_placeholders=include_placeholders,
    )
    workspace = app.workspace()
    result = export(workspace.db, criteria, fmt, workspace.files)
    if output is None:
        click.echo(result.text, nl=False)
    else:
        atomic_replace(output, result.text.encode("utf-8"))
    selection = result.selection
    for warning in result.warnings:
        click.echo(warning, err=True)
    for path in selection.missing_aux:
        click.echo(f"warning: {path}: included .aux file not found (skipped)", err=True)
    for item in selection.uncitable:
        click.echo(
            f"warning: {item.where}: \\cite{{{item.cited}}} is the {item.kind} of {item.key}, "
            f"but BibTeX cannot read it as a key: write \\cite{{{item.key}}}",
            err=True,
        )
    if selection.placeholders:
        click.echo(
            "placeholders, not exported (no bibliographic record yet): "
            + ", ".join(selection.placeholders),
            err=True,
        )
    if selection.unknown:
        click.echo("unknown keys (not in the database):", err=True)
        for key in selection.unknown:
            click.echo(f"  {key}", err=True)
        click.echo(f"  hint: {UNKNOWN_KEY_HINT}", err=True)
    if not selection.complete:
        sys.exit(EXIT_FINDINGS)
