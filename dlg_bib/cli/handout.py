"""`dlg-bib handout`: the PDF handout of one session or of the whole term."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import linted
from dlg_bib.cli._render_options import templates_option, today_of, today_option
from dlg_bib.render import handout
from dlg_bib.render.environment import project_root


@click.command("handout")
@click.option("--session", "session", metavar="DATE", help="The session (YYYY-MM-DD).")
@click.option("--term", is_flag=True, help="Every session of the term, and a bibliography.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PDF to write (default: dist/handout-<date>.pdf, or dist/handout-term.pdf).",
)
@click.option("--source", is_flag=True, help="Also write the Typst source and its JSON data.")
@click.option(
    "--paper",
    type=click.Choice(handout.PAPERS),
    default=None,
    help="Paper size (default: `paper` in group.toml, else a4).",
)
@today_option
@templates_option
@pass_app
def command(
    app: AppContext,
    session: str | None,
    term: bool,
    output: Path | None,
    source: bool,
    paper: str | None,
    today: dt.datetime | None,
    templates: Path | None,
) -> None:
    """Typeset a printable handout (default: the next session, else the latest one)."""
    if session and term:
        raise click.UsageError("give --session DATE or --term, not both")
    result = linted(
        app,
        lambda db: handout.build_handout(
            db, app.bib, today_of(today), session, term, templates, paper
        ),
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    path = output or project_root(app.bib) / "dist" / f"handout-{result.name}.pdf"
    written = handout.write(result, path, with_source=source)
    for item in written:
        click.echo(f"wrote {item}")
