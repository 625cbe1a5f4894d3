"""`dlg-bib readme`: render README.md from the database (only the marked part)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import linted
from dlg_bib.cli._render_options import templates_option, today_of, today_option
from dlg_bib.errors import EXIT_FINDINGS
from dlg_bib.render import freshness, markdown
from dlg_bib.render.environment import project_root


@click.command("readme")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff if stale.")
@click.option(
    "--strict-date",
    is_flag=True,
    help="With --check: a README the calendar has moved past is stale too (exit 1).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="README to update (default: README.md next to the database folder).",
)
@today_option
@templates_option
@pass_app
def command(
    app: AppContext,
    check: bool,
    strict_date: bool,
    output: Path | None,
    today: dt.datetime | None,
    templates: Path | None,
) -> None:
    """Render the group's README from bib/ through the README.md.j2 template.

    Only the part between the <!-- dlg-bib:begin --> and <!-- dlg-bib:end --> markers is
    rewritten; text outside them is kept. Without markers the part is appended.

    --check renders again for the day the README records: a changed database or template
    exits 1 with a diff; a README that only the calendar has moved past exits 0 with a
    notice (--strict-date: exit 1).
    """
    if strict_date and not check:
        raise click.UsageError("--strict-date goes with --check")
    path = output or project_root(app.bib) / "README.md"
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    new = linted(
        app, lambda db: markdown.build_readme(db, app.bib, today_of(today), existing, templates)
    )
    if check:
        found = freshness.check_readme(
            app.workspace().db,
            app.bib,
            today_of(today),
            existing,
            templates,
            strict=strict_date,
            name=path.name,
            rendered=new,
        )
        if found.kind is freshness.Kind.STALE:
            click.echo(found.diff)
            click.echo("run `make readme` (dlg-bib readme) and commit the result", err=True)
            raise click.exceptions.Exit(EXIT_FINDINGS)
        if found.kind is freshness.Kind.CALENDAR_MOVED:
            click.echo(found.notice, err=True)
        click.echo(f"{path} is up to date")
        return
    if markdown.same_content(existing, new):
        click.echo(f"{path} is up to date")
        return
    markdown.write(path, new)
    click.echo(f"wrote {path}")
