"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from dlg_bib.errors import DlgBibError
from dlg_bib.ops.lint import Finding, require_clean, start_lint, without_errors

if TYPE_CHECKING:
    from dlg_bib.cli import AppContext
    from dlg_bib.library.model import Database

T = TypeVar("T")

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
    """The database, linted first: for renders that write as they go (the site)."""
    ws = app.workspace()
    _show_warnings(require_clean(ws))
    return ws.db


def linted(app: AppContext, render: Callable[[Database], T]) -> T:
    """`render(db)`, refused (exit 2, each lint error) when lint finds errors, since a broken
    entry or tag would silently vanish from the output; warnings are shown.

    Lint runs beside the render on a large database (`start_lint`), so `render` must not
    write: nothing is written before lint's answer is in, and a refused render writes nothing.
    """
    ws = app.workspace()
    pending = start_lint(ws)
    try:
        rendered = render(ws.db)
    except DlgBibError:
        # Bad data can make the render fail too: lint's errors say more, so they win.
        _show_warnings(without_errors(pending.result()))
        raise
    except BaseException:
        pending.cancel()
        raise
    _show_warnings(without_errors(pending.result()))
    return rendered


def _show_warnings(findings: list[Finding]) -> None:
    for finding in findings:
        click.echo(finding.as_text().partition("\n")[0], err=True)
