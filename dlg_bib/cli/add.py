"""`dlg-bib add ID…`: new entries from arXiv ids and DOIs, enriched, keyed and tagged."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import click
from click._termui_impl import ProgressBar

from dlg_bib import add
from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.cli.enrich import clean, mode_of, progress
from dlg_bib.enrich import setup
from dlg_bib.errors import EXIT_FINDINGS
from dlg_bib.library.model import ROLES, Entry

T = TypeVar("T")


def ticking(items: Iterable[T], bar: ProgressBar[int] | None) -> Iterator[T]:
    """The items, moving the bar on as each one is done (whichever way its turn ended)."""
    for item in items:
        yield item
        if bar is not None:
            bar.update(1)


def parse_all(identifiers: tuple[str, ...]) -> list[add.Identifier]:
    parsed = []
    for text in identifiers:
        identifier = add.parse_identifier(text)
        if identifier is None:
            raise click.BadParameter(
                f"{text!r} is neither an arXiv id nor a DOI "
                "(e.g. 1706.03762, arXiv:math/0211159, 10.1145/3457607, https://doi.org/…)",
                param_hint="ID",
            )
        parsed.append(identifier)
    return parsed


@click.command("add")
@click.argument("identifiers", nargs=-1, required=True, metavar="ID...")
@click.option("--session", default="", metavar="DATE", help="Tag for this session (YYYY-MM-DD).")
@click.option("--role", type=click.Choice(ROLES), default=None, help="Role in the session.")
@click.option("--topic", default="", metavar="ID", help="Tag with this meta-topic.")
@dry_run_option
@click.option("--offline", is_flag=True, help="Use only the HTTP cache; no network.")
@click.option("--refresh", is_flag=True, help="Ignore the HTTP cache.")
@pass_app
def command(
    app: AppContext,
    identifiers: tuple[str, ...],
    session: str,
    role: str | None,
    topic: str,
    dry_run: bool,
    offline: bool,
    refresh: bool,
) -> None:
    """Add papers by arXiv id or DOI (any common form, or a publisher URL with a DOI).

    Each becomes a complete entry with a house-rule key, enriched from arXiv and Crossref
    (published version also from dblp), with its free copy (oaurl…), tagged as asked. A
    paper already in the database is reported with its key and skipped. Exit 1 if a paper
    could not be added or a source was given up (unreachable, or failing 3 times in a row).
    """
    if role and not session:
        raise click.UsageError("--role needs --session")
    workspace = app.workspace()
    tags = add.check_tags(workspace.db, session, role or "", topic)
    wanted = parse_all(identifiers)
    run = setup.make_run(
        mode=mode_of(offline, refresh),
        contact=setup.contact_address(workspace.metadata_path),
        api_key=setup.openalex_key(workspace.metadata_path),
    )
    added: list[Entry] = []
    failed = 0
    said: list[tuple[str, bool]] = []
    with progress(len(wanted), "add") as bar:

        def say(text: str, err: bool = False) -> None:
            # While the bar is drawn, messages wait for it: lines would tear it apart.
            if bar is None:
                click.echo(text, err=err)
            else:
                said.append((text, err))

        for step in ticking(add.add_all(workspace.db, wanted, tags, run), bar):
            identifier = step.identifier
            if step.outcome == add.REPEATED:
                say(f"{identifier}: given more than once; considered once")
            elif step.outcome == add.PRESENT:
                say(f"{identifier}: already in the database as {step.detail}; not added")
            elif step.outcome == add.FAILED:
                say(f"{identifier}: failed: {clean(step.detail, 200)}", err=True)
                failed += 1
            elif step.outcome == add.REJECTED:
                say(f"{identifier}: not added: {step.detail}", err=True)
                failed += 1
            elif step.entry is not None:
                added.append(step.entry)
                say(add.render(step.entry))
                if step.published_via:
                    say(f"% published version confirmed via {step.published_via}")
                elif step.unconfirmed:
                    say(f"% preprint: {clean(step.unconfirmed, 200)}")
    for text, err in said:
        click.echo(text, err=err)
    if added and not dry_run:
        paths = workspace.save([], added)
        where = ", ".join(str(p) for p in paths)
        click.echo(f"add: {len(added)} added to {where}")
    elif added:
        click.echo(f"add: {len(added)} would be added (dry run: nothing written)")
    outages = run.client.outages
    for outage in outages:
        click.echo(f"add: {clean(outage.message, 200)}", err=True)
    if failed or outages:
        sent = ", ".join(f"{n} {name}" for name, n in sorted(run.client.requests.items()))
        click.echo(f"add: {failed} failed; requests sent: {sent or 'none'}", err=True)
        raise click.exceptions.Exit(EXIT_FINDINGS)
