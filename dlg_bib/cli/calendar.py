"""`dlg-bib calendar`: the sessions as an iCalendar (.ics) file to subscribe to."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.render import ical
from dlg_bib.render.environment import project_root
from dlg_bib.render.output import write_file


@click.command("calendar")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=None,
    help="File to write, - for stdout (default: dist/dlg.ics next to the database folder).",
)
@click.option("--term", "term_id", default=None, metavar="ID", help="Only this term's sessions.")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="UTC time stamped on changed events (default: now); for reproducible runs.",
)
@pass_app
def command(
    app: AppContext, output: Path | None, term_id: str | None, now: dt.datetime | None
) -> None:
    """Write one event per session, in the group's time zone (`timezone` in group.toml).

    \b
    UIDs come from the group and the session date, so calendar apps update events
    instead of duplicating them. When the output file exists, an event whose content
    changed since gets SEQUENCE + 1 and LAST-MODIFIED = now; the others keep theirs.
    Without `timezone`, times are floating: each app shows them at that clock time.
    Exit 2 for an unknown --term ID, or when group.toml or the previous file is unreadable.
    """
    db = app.workspace().db
    to_stdout = output is not None and str(output) == "-"
    path = output or project_root(app.bib) / "dist" / "dlg.ics"
    previous = {} if to_stdout else ical.read_previous(path)
    stamp = now.replace(tzinfo=dt.UTC) if now is not None else None
    data = ical.build_calendar(db, term_id=term_id, previous=previous, now=stamp)
    if not db.group.timezone:
        click.echo(
            "note: group.toml has no `timezone`: event times are floating (local wherever "
            'the calendar is read); add timezone = "America/Los_Angeles" to [group]',
            err=True,
        )
    if to_stdout:
        sys.stdout.buffer.write(data)
        return
    write_file(path, data)
    click.echo(f"wrote {path}")
