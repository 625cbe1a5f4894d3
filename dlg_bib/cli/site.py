"""`dlg-bib site`: the static site (terms, meta-topics, references, search) in one folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import linted_db
from dlg_bib.cli._render_options import templates_option, today_of, today_option
from dlg_bib.errors import EXIT_FINDINGS
from dlg_bib.render import site
from dlg_bib.render.environment import project_root


@click.command("site")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the site into (default: site/ next to the database folder).",
)
@click.option("--no-search", is_flag=True, help="Skip Pagefind's search index.")
@click.option("--no-handouts", is_flag=True, help="Skip the PDF handouts (faster).")
@today_option
@templates_option
@pass_app
def command(
    app: AppContext,
    output: Path | None,
    no_search: bool,
    no_handouts: bool,
    today: dt.datetime | None,
    templates: Path | None,
) -> None:
    """Write the group's static site: the current term with its next session first, a page
    per term, meta-topic and reference (APA, IEEE, BibTeX), the calendar (dlg.ics), the
    JSON index and the handouts, with a Pagefind search index.

    \b
    The pages come from the templates in site/ (same lookup as the README's). The calendar
    keeps SEQUENCE/LAST-MODIFIED of unchanged events when the folder holds an earlier
    dlg.ics. Files no longer produced are not deleted. Exit 2 when lint finds errors or
    the folder cannot be written; exit 1 when the site was written without a part (no
    pandoc: no formatted citations; Pagefind failed: no search index).
    """
    out = output or project_root(app.bib) / "site"
    built = site.build_site(
        linted_db(app),
        app.bib,
        today_of(today),
        out,
        templates,
        search=not no_search,
        handouts=not no_handouts,
    )
    for warning in built.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {out}/ ({len(built.written)} files)")
    if built.partial:
        raise click.exceptions.Exit(EXIT_FINDINGS)
