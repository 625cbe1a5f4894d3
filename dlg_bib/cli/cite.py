"""`dlg-bib cite`: formatted references to paste into slides, emails or the group's chat."""

from __future__ import annotations

import sys

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.errors import EXIT_FINDINGS, UNKNOWN_KEY_HINT
from dlg_bib.export import Criteria, cited_items, render
from dlg_bib.export.cite import STYLES, format_references, style_path
from dlg_bib.export.select import select

HELP = f"""Print formatted references for KEY... (keys, aliases or legacy labels).

Styles: {", ".join(STYLES)}, or the path of any .csl file. Formats: text,
markdown, html (formatted by pandoc's citeproc: pip install 'dlg-bib[cite]' brings it),
or bibtex (the entries as `dlg-bib export` writes them, no pandoc needed).
Numbered styles (ieee, nature, vancouver) number in the order given.

Unknown keys and placeholders are listed and give exit code 1; `dlg-bib keys`
lists the keys, legacy labels and aliases.
"""


@click.command("cite", help=HELP, short_help="Print formatted references (APA, IEEE, ...).")
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--style",
    default="apa",
    show_default=True,
    metavar="NAME|FILE.csl",
    help=f"Citation style: {', '.join(STYLES)} or a .csl file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "bibtex"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@pass_app
def command(app: AppContext, keys: tuple[str, ...], style: str, fmt: str) -> None:
    csl_file = style_path(style) if fmt != "bibtex" else None
    requested = [k.strip() for item in keys for k in item.split(",") if k.strip()]
    db = app.workspace().db
    selection = select(db, Criteria(keys=requested))
    if csl_file is None:
        click.echo(render(selection, "bibtex"), nl=False)
    else:
        items = cited_items(db, requested, selection, events=csl_file.name == "ieee.csl")
        if items:
            click.echo(format_references(items, csl_file, fmt), nl=False)
    if selection.placeholders:
        click.echo(
            "placeholders (no bibliographic record yet): " + ", ".join(selection.placeholders),
            err=True,
        )
    if selection.unknown:
        click.echo("unknown keys (not in the database): " + ", ".join(selection.unknown), err=True)
        click.echo(f"  hint: {UNKNOWN_KEY_HINT}", err=True)
    if not selection.complete:
        sys.exit(EXIT_FINDINGS)
