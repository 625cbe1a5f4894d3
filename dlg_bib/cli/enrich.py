"""`dlg-bib enrich`: fill missing fields from arXiv and Crossref, record published versions."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from click._termui_impl import ProgressBar

from dlg_bib import enrich
from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.errors import EXIT_FINDINGS, UnknownNameError
from dlg_bib.model import Entry
from dlg_bib.sources import setup
from dlg_bib.sources.http import Mode
from dlg_bib.sources.resolver import resolve_all


def clean(text: str, limit: int = 100) -> str:
    """Remote text for a terminal: no control characters, one line, shortened."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mode_of(offline: bool, refresh: bool) -> Mode:
    if offline and refresh:
        raise click.UsageError("--offline and --refresh exclude each other")
    return Mode.OFFLINE if offline else Mode.REFRESH if refresh else Mode.NORMAL


def split_fields(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.strip().lower() for item in values for v in item.split(",") if v.strip())


@contextmanager
def progress(length: int, label: str) -> Iterator[ProgressBar[int] | None]:
    """A progress bar on a terminal only: pipes and CI logs stay clean."""
    if not sys.stderr.isatty() or length < 2:
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar


def describe(change: enrich.EntryChange, entry: Entry) -> list[str]:
    lines = [f"{entry.key}  ({entry.where})"]
    if change.new_type:
        lines.append(f"  type: @{change.old_type} -> @{change.new_type}")
    if change.published_via:
        lines.append(f"  published version confirmed via {change.published_via}")
    for c in change.changes:
        if c.new is None:
            lines.append(f"  - {c.name} = {clean(c.old or '')}  (preprint placeholder)")
        elif c.old is None or not c.old.strip("{} "):
            lines.append(f"  + {c.name} = {clean(c.new)}  [{c.source}]")
        else:
            lines.append(f"  ~ {c.name} = {clean(c.old)} -> {clean(c.new)}  [{c.source}]")
    for d in change.disagreements:
        lines.append(
            f"  ! {d.name}: database {clean(d.ours, 60)!r}, {d.source} {clean(d.theirs, 60)!r}"
        )
    return lines


@dataclass
class Summary:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unconfirmed: dict[str, str] = field(default_factory=dict)


def select_entries(app: AppContext, keys: tuple[str, ...]) -> list[Entry]:
    db = app.workspace().db
    if not keys:
        return [e for e in db.entries if not e.is_placeholder]
    chosen = []
    for key in keys:
        entry = db.find(key)
        if entry is None:
            raise UnknownNameError(f"no entry {key!r}", hint="see `dlg-bib list` for the keys")
        chosen.append(entry)
    return chosen


@click.command("enrich")
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@dry_run_option
@click.option(
    "--overwrite",
    multiple=True,
    metavar="FIELD",
    help="Replace these fields even when filled (repeat, or comma-separate).",
)
@click.option("--offline", is_flag=True, help="Use only the HTTP cache; no network.")
@click.option("--refresh", is_flag=True, help="Ignore the HTTP cache (answers are re-cached).")
@click.option(
    "--source",
    "use",
    multiple=True,
    type=click.Choice(setup.ALL_SOURCES),
    help="Ask only these sources (default: all).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 8),
    default=1,
    show_default=True,
    help="Crossref requests at once (never more than Crossref announces).",
)
@pass_app
def command(
    app: AppContext,
    keys: tuple[str, ...],
    dry_run: bool,
    overwrite: tuple[str, ...],
    offline: bool,
    refresh: bool,
    use: tuple[str, ...],
    jobs: int,
) -> None:
    """Fill missing fields from arXiv and Crossref and record published versions.

    Never overwrites a filled field unless named in --overwrite; prints what it adds and
    where the sources disagree with the database; writes only the entries it changed.
    Answers are cached on disk (a second run sends nothing new). Exit 1 if any entry failed.
    """
    mode = mode_of(offline, refresh)
    workspace = app.workspace()
    entries = select_entries(app, keys)
    run = setup.make_run(
        mode=mode,
        contact=setup.contact_address(workspace.metadata_path),
        use=use or setup.ALL_SOURCES,
        workers=jobs,
    )
    with progress(len(entries), "enrich") as bar:
        evidence = resolve_all(
            run.resolver,
            entries,
            workers=jobs,
            on_done=(lambda _e: bar.update(1)) if bar is not None else None,
        )
    summary, to_write = apply_all(entries, evidence, split_fields(overwrite))
    if to_write and not dry_run:
        workspace.save(to_write)
    print_summary(summary, dry_run, run.client.requests)
    if summary.failed:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def apply_all(
    entries: list[Entry], evidence: dict[str, enrich.Evidence], overwrite: frozenset[str]
) -> tuple[Summary, list[Entry]]:
    summary = Summary(checked=len(entries))
    to_write = []
    for entry in entries:
        found = evidence[entry.key]
        change = enrich.plan(entry, found, overwrite)
        if found.unconfirmed:
            summary.unconfirmed[entry.key] = found.unconfirmed
        if found.failures:
            summary.failed[entry.key] = "; ".join(found.failures)
        if change.changed or change.disagreements:
            click.echo("\n".join(describe(change, entry)))
        if change.problems:
            summary.failed[entry.key] = "not written: " + "; ".join(change.problems)
            continue
        if change.changed and not found.failures:
            enrich.apply(entry, change)
            to_write.append(entry)
            summary.changed.append(entry.key)
        elif change.changed:
            # Half the evidence is missing: do not write a half-merged entry.
            summary.failed[entry.key] += " (nothing written for it)"
    return summary, to_write


def print_summary(summary: Summary, dry_run: bool, requests: dict[str, int]) -> None:
    verb = "would change" if dry_run else "changed"
    sent = ", ".join(f"{n} {name}" for name, n in sorted(requests.items())) or "none"
    click.echo(
        f"enrich: {summary.checked} entries, {len(summary.changed)} {verb}, "
        f"{len(summary.failed)} failed, {len(summary.unconfirmed)} preprints unconfirmed; "
        f"requests sent: {sent}" + (" (dry run: nothing written)" if dry_run else "")
    )
    if summary.failed:
        click.echo("failed:")
        for key, message in sorted(summary.failed.items()):
            click.echo(f"  {key}: {clean(message, 200)}")
    if summary.unconfirmed:
        click.echo("preprints without a confirmed published version:")
        for key, reason in sorted(summary.unconfirmed.items()):
            click.echo(f"  {key}: {clean(reason, 200)}")
