"""`dlg-bib index`: the JSON index (or plain CSL-JSON) of the group and its references."""

from __future__ import annotations

from pathlib import Path

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import linted
from dlg_bib.render import index
from dlg_bib.render.environment import project_root


@click.command("index")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="File to write, - for stdout (default: dist/index.json or dist/references.json).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["dlg", "csl-json"]),
    default="dlg",
    show_default=True,
    help="dlg: the whole index; csl-json: the references alone, for pandoc --citeproc.",
)
@pass_app
def command(app: AppContext, output: Path | None, output_format: str) -> None:
    """Write the group, meta-topics, sessions and references (CSL-JSON items) as JSON."""
    csl_only = output_format == "csl-json"
    text = linted(app, lambda db: index.build_index(db, csl_only=csl_only))
    if output is not None and str(output) == "-":
        click.echo(text, nl=False)
        return
    name = "references.json" if output_format == "csl-json" else "index.json"
    path = output or project_root(app.bib) / "dist" / name
    index.write(path, text)
    click.echo(f"wrote {path}")
