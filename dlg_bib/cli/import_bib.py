"""`dlg-bib import`: merge BibTeX from anywhere into the database."""

from __future__ import annotations

from pathlib import Path

import click

from dlg_bib.bibtex import store
from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.library.model import ROLES
from dlg_bib.ops.importer import changed_entries, plan_import, read_incoming
from dlg_bib.ops.tagging import TagRequest, validate_request


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--session", metavar="DATE", help="Also tag every imported entry with a session.")
@click.option("--role", type=click.Choice(ROLES), help="Their role in that session.")
@click.option("--topic", metavar="ID", help="Also tag them with a meta-topic.")
@dry_run_option
@pass_app
def command(
    app: AppContext,
    file: Path,
    session: str | None,
    role: str | None,
    topic: str | None,
    dry_run: bool,
) -> None:
    """Merge FILE.bib (a publisher export, Google Scholar, Zotero, the legacy records).

    Each entry is normalised (house-rule key, bare DOI, arXiv fields, bookkeeping fields
    dropped). A work already in the database (same DOI or arXiv id; or same title and
    first author, with no year, venue, volume, number or pages that disagree; or an
    incoming key that is already an entry's key or alias, with the same title (or none)
    and first author and nothing else disagreeing, as a second import of a file gives) is merged
    into the existing entry instead: the existing key wins, missing fields its type takes
    are filled (never a second venue), the incoming key is kept as an alias in `ids`. New works are
    appended to bib/references.bib. Input that fails to parse is reported with
    file:line and nothing is written.
    """
    ws = app.workspace()
    tags = None
    if session or topic:
        tags = TagRequest(session=session, role=role, topic=topic)
        validate_request(ws.db, tags)
    plan = plan_import(ws.db, read_incoming(file), tags)
    report = []
    for entry in plan.added:
        report.append(f"add {entry.key}" + (f"  (was {entry.aliases[0]})" if entry.aliases else ""))
        for added, other, why in plan.kept_apart:
            if added is entry:
                report.append(f"  not merged into {other.key} (same title and first author): {why}")
        if dry_run:
            report.append(store.format_entry(entry))
    for target, incoming, copied in plan.merged:
        what = ", ".join(copied) if copied else "nothing new"
        report.append(f"merge {incoming.key} into {target.key}: {what}")
        for source, name, why in plan.left_out:
            if source is incoming:
                report.append(f"  left out `{name}`: {why}")
    changed = changed_entries(plan)
    if not dry_run and (plan.added or changed):
        ws.save(changed, plan.added)  # first: a failed write reports only the failure
    for line in report:
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing written", err=True)
        return
    click.echo(f"{len(plan.added)} added, {len(plan.merged)} merged", err=True)
