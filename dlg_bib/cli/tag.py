"""`dlg-bib tag`: add or remove session and topic tags."""

from __future__ import annotations

import click

from dlg_bib.bibtex import store
from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.errors import UnknownKeyError
from dlg_bib.library.model import ROLES
from dlg_bib.ops.tagging import (
    TagRequest,
    apply_tag,
    entry_diff,
    resolve_keys,
    split_keys,
    validate_request,
)


@click.command("tag")
@click.argument("keys", nargs=-1, required=True)
@click.option("--session", metavar="DATE", help="Session by ISO date, e.g. 2021-11-12.")
@click.option("--role", type=click.Choice(ROLES), help="Role of the reading in that session.")
@click.option("--topic", metavar="ID", help="Meta-topic id from group.toml, e.g. nlp.")
@click.option("--remove", is_flag=True, help="Remove the session/topic tag instead.")
@dry_run_option
@pass_app
def command(
    app: AppContext,
    keys: tuple[str, ...],
    session: str | None,
    role: str | None,
    topic: str | None,
    remove: bool,
    dry_run: bool,
) -> None:
    """Tag entries with a session (and their role there) or a meta-topic.

    KEY may be a citation key, an alias or a legacy label ("Ref 14"). Only those
    entries' bytes change in bib/. Tagging a session also adds its meta-topic.

    \b
    Examples:
      dlg-bib tag vaswani2017attention --session 2021-11-12 --role main
      dlg-bib tag "Ref xvi" --session 2021-11-19 --role prerequisite
      dlg-bib tag devlin2019bert --session 2021-11-19 --remove
    """
    ws = app.workspace()
    request = TagRequest(session=session, role=role, topic=topic, remove=remove)
    validate_request(ws.db, request)
    try:
        entries = resolve_keys(ws.db, split_keys(keys))
    except UnknownKeyError:
        # A key in an entry that does not parse is "unknown": name the real cause.
        for bib in ws.files:
            store.refuse_syntax_errors(bib)
        raise
    changed = []
    report = []
    for entry in entries:
        old_raw = ws.file_of(entry).block_of(entry).raw
        if apply_tag(ws.db, entry, request):
            changed.append(entry)
            if dry_run:
                report.append(entry_diff(old_raw, entry, f"{entry.where} ({entry.key})"))
            else:
                report.append(f"tagged {entry.key}")
        else:
            report.append(f"unchanged {entry.key} (already tagged so)")
    if changed and not dry_run:
        ws.save(changed)  # before any "tagged": a failed write reports only the failure
    for line in report:
        click.echo(line)
    if dry_run:
        noun = "entry" if len(changed) == 1 else "entries"
        click.echo(f"dry run: {len(changed)} {noun} would change; nothing written", err=True)
