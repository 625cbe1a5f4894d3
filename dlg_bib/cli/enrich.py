"""`dlg-bib enrich`: fill missing fields from arXiv and Crossref, record published versions
(arXiv, Crossref, then dblp) and the best legal free copy (the entry's arXiv PDF or open
proceedings page, OpenAlex, Unpaywall)."""

from __future__ import annotations

import sys
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from click._termui_impl import ProgressBar

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.enrich import merge, setup
from dlg_bib.enrich.run import GIVEN_UP, STEPS, Request, Summary, run
from dlg_bib.errors import EXIT_FINDINGS
from dlg_bib.library.model import Entry
from dlg_bib.sources.http import Mode


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


@contextmanager
def ticker(length: int, label: str) -> Iterator[Callable[[], None] | None]:
    """`progress` as the run loop takes it: a function that moves the bar by one."""
    with progress(length, label) as bar:
        yield (lambda: bar.update(1)) if bar is not None else None


def describe(change: merge.EntryChange, entry: Entry) -> list[str]:
    lines = [f"{entry.key}  ({entry.where})"]
    if change.new_type:
        lines.append(f"  type: @{change.old_type} -> @{change.new_type}")
    if change.published_via:
        lines.append(f"  published version confirmed via {change.published_via}")
    for c in change.changes:
        if c.new is None and c.source == "published version":
            lines.append(f"  - {c.name} = {clean(c.old or '')}  (preprint placeholder)")
        elif c.new is None:
            lines.append(f"  - {c.name} = {clean(c.old or '')}  [{c.source}]")
        elif c.old is None or not c.old.strip("{} "):
            lines.append(f"  + {c.name} = {clean(c.new)}  [{c.source}]")
        else:
            lines.append(f"  ~ {c.name} = {clean(c.old)} -> {clean(c.new)}  [{c.source}]")
    for d in change.disagreements:
        lines.append(
            f"  ! {d.name}: database {clean(d.ours, 60)!r}, {d.source} {clean(d.theirs, 60)!r}"
        )
    return lines


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
    "--only",
    "steps",
    multiple=True,
    type=click.Choice(STEPS),
    help="Run only this step: metadata (fields and published versions) or free-copy "
    "(oaurl/oanote; with --offline it needs no network). Default: both.",
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
    steps: tuple[str, ...],
    jobs: int,
) -> None:
    """Fill missing fields, record published versions and free copies.

    Metadata comes from arXiv and Crossref; the published version of a preprint from arXiv's
    doi/journal_ref, Crossref, then dblp (venues without DOIs: NeurIPS, ICLR, PMLR); the free
    copy (oaurl, oaversion, oalicense, oahost, or oanote when none is known) from the entry's
    arXiv id or open proceedings link, then OpenAlex and Unpaywall. Never overwrites a filled
    field unless named in --overwrite; prints what it adds and where the sources disagree;
    writes only the entries it changed. Answers are cached on disk. A source that cannot be
    reached, or fails 3 times in a row, is given up for the run and reported once; dblp's bot
    check and a spent OpenAlex budget are reported too, but are not failures. Exit 1 if any
    entry failed or a source was given up.
    """
    request = Request(
        keys=keys,
        overwrite=split_fields(overwrite),
        mode=mode_of(offline, refresh),
        use=use,
        steps=steps,
        jobs=jobs,
        dry_run=dry_run,
    )
    summary = run(app.workspace(), request, ticker)
    for change, entry in summary.changes:
        click.echo("\n".join(describe(change, entry)))
    print_summary(summary, dry_run, summary.requests)
    if summary.findings:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def print_summary(summary: Summary, dry_run: bool, requests: dict[str, int]) -> None:
    verb = "would change" if dry_run else "changed"
    sent = ", ".join(f"{n} {name}" for name, n in sorted(requests.items())) or "none"
    click.echo(
        f"enrich: {summary.checked} entries, {len(summary.changed)} {verb}, "
        f"{len(summary.failed)} failed, {len(summary.unconfirmed)} preprints unconfirmed; "
        f"requests sent: {sent}" + (" (dry run: nothing written)" if dry_run else "")
    )
    if summary.outages:
        click.echo("sources given up in this run (run again when they answer):")
        for line in summary.outage_lines():
            click.echo(f"  {clean(line, 200)}")
    shown = {k: summary.without_outages(m) for k, m in sorted(summary.failed.items())}
    if any(shown.values()):
        click.echo("failed:")
        for key, message in shown.items():
            if message:
                click.echo(f"  {key}: {clean(message, 200)}")
    if summary.notes:
        click.echo("sources unavailable in this run (not failures):")
        for note in summary.notes:
            click.echo(f"  {clean(note, 200)}")
    if summary.unconfirmed:
        click.echo("preprints without a confirmed published version:")
        for key, reason in sorted(summary.unconfirmed.items()):
            click.echo(f"  {key}: {clean(reason, 200)}")
    if summary.venue_unknown:
        click.echo("papers without a venue that dblp could not supply:")
        for key, reason in sorted(summary.venue_unknown.items()):
            click.echo(f"  {key}: {clean(reason, 200)}")
    if summary.free_copy_unknown:
        click.echo("free copy not decided (a source was unavailable; nothing written):")
        held_up = []  # by a source given up above: listed once, not one line per entry
        for key, reason in sorted(summary.free_copy_unknown.items()):
            reason = summary.without_outages(reason)
            if reason:
                click.echo(f"  {key}: {clean(reason, 200)}")
            else:
                held_up.append(key)
        if held_up:
            click.echo(
                textwrap.fill(
                    f"{len(held_up)} entries, {GIVEN_UP}: {', '.join(held_up)}",
                    width=100,
                    initial_indent="  ",
                    subsequent_indent="    ",
                )
            )
