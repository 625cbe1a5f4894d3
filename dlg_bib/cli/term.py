"""`dlg-bib term new`: add a term (and, with --weekly, its sessions) to group.toml."""

from __future__ import annotations

import datetime as dt

import click

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.library.model import Term
from dlg_bib.ops.terms import TBA, plan_new_term, write_plan

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group("term")
def command() -> None:
    """Terms of the group (`[[terms]]` in group.toml)."""


@command.command("new")
@click.argument("term_id", metavar="ID")
@click.option("--name", required=True, help='Shown name, such as "Spring 2022".')
@click.option("--first", required=True, type=_DATE, help="First day (YYYY-MM-DD).")
@click.option("--last", required=True, type=_DATE, help="Last day (YYYY-MM-DD).")
@click.option(
    "--weekly",
    is_flag=True,
    help=f'Also add a session (title "{TBA}") on every meeting day of the term.',
)
@click.option("--day", default="", help="Meeting day, when it differs from the group's.")
@click.option("--start-time", default="", help="Start time (HH:MM), if not the group's.")
@click.option("--end-time", default="", help="End time (HH:MM), if not the group's.")
@click.option("--room", default="", help="Room, when it differs from the group's.")
@dry_run_option
@pass_app
def new(
    app: AppContext,
    term_id: str,
    name: str,
    first: dt.datetime,
    last: dt.datetime,
    weekly: bool,
    day: str,
    start_time: str,
    end_time: str,
    room: str,
    dry_run: bool,
) -> None:
    """Add term ID to group.toml, inserting text only: every other byte stays as it is.

    \b
    A file without [[terms]] has one implicit term spanning its sessions (named by
    [group] term); the first `term new` writes that term out too, so its sessions
    keep a term. The new term may not overlap an existing one nor reuse its id.
    With --weekly, each meeting day from --first to --last without a session gets
    one titled "TBA", to fill in.
    """
    wanted = Term(term_id, name, first.date(), last.date(), day, start_time, end_time, room)
    plan = plan_new_term(app.workspace(), wanted, weekly=weekly)
    verb = "would insert" if dry_run else "inserted"
    for insertion in plan.insertions:
        click.echo(f"{plan.path}:{plan.line_of(insertion)}: {verb}:")
        click.echo(insertion.text.replace("\r\n", "\n").strip("\n"))
        click.echo()
    if dry_run:
        click.echo("dry run: nothing was written", err=True)
        return
    write_plan(plan)
    ids = ", ".join(t.id for t in plan.terms)
    click.echo(
        f"added term(s) {ids} and {len(plan.sessions)} session(s) to {plan.path}"
        + (f"; fill in the {TBA} titles" if plan.sessions else ""),
        err=True,
    )
