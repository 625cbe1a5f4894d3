"""Options shared by several commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dlg_bib.ops.lint import require_clean

if TYPE_CHECKING:
    from dlg_bib.cli import AppContext
    from dlg_bib.library.model import Database

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for scripts and CI.",
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show what would change; write nothing."
)


def linted_db(app: AppContext) -> Database:
    """The database for rendering: refused (exit 2, each lint error) when lint finds errors,
    since a broken entry or tag would silently vanish from the output; warnings are shown."""
    ws = app.workspace()
    for finding in require_clean(ws):
        click.echo(finding.as_text().partition("\n")[0], err=True)
    return ws.db
