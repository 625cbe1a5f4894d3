"""`dlg-bib enrich`: fill missing fields from arXiv and Crossref, record published versions
(arXiv, Crossref, then dblp) and the best legal free copy (the entry's arXiv PDF or open
proceedings page, OpenAlex, Unpaywall)."""

from __future__ import annotations

import sys
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click
from click._termui_impl import ProgressBar

from dlg_bib.cli import AppContext, pass_app
from dlg_bib.cli._common import dry_run_option
from dlg_bib.enrich import merge, setup
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.resolver import VENUE_NOT_FOUND, resolve_all
from dlg_bib.errors import EXIT_FINDINGS, UNKNOWN_KEY_HINT, UnknownKeyError
from dlg_bib.model import Entry
from dlg_bib.sources.http import Mode, Outage

METADATA = "metadata"
FREE_COPY = "free-copy"
STEPS = (METADATA, FREE_COPY)
GIVEN_UP = "held up by a source given up above"


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


@dataclass
class Summary:
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unconfirmed: dict[str, str] = field(default_factory=dict)
    free_copy_unknown: dict[str, str] = field(default_factory=dict)
    venue_unknown: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    described: list[str] = field(default_factory=list)

    def outage_lines(self) -> list[str]:
        """One line per source given up in the run, with the entries it left undone."""
        lines = []
        for outage in self.outages:
            hit = sum(outage.message in reason for reason in self.failed.values())
            lines.append(outage.message + (f"; {hit} entries not enriched" if hit else ""))
        return lines

    def without_outages(self, reason: str, instead: str = "") -> str:
        """A reason without the outages, which are reported once, above the lists."""
        parts = [p for p in reason.split("; ") if not any(o.message in p for o in self.outages)]
        return "; ".join(parts) or instead


def select_entries(app: AppContext, keys: tuple[str, ...]) -> list[Entry]:
    """The named entries, or all of them (placeholders too: they get a free-copy note, and
    are never sent to the metadata sources)."""
    db = app.workspace().db
    if not keys:
        return list(db.entries)
    chosen = []
    for key in keys:
        entry = db.find(key)
        if entry is None:
            raise UnknownKeyError(f"unknown key: {key}", hint=UNKNOWN_KEY_HINT)
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
    mode = mode_of(offline, refresh)
    workspace = app.workspace()
    entries = select_entries(app, keys)
    chosen = steps or STEPS
    run = setup.make_run(
        mode=mode,
        contact=setup.contact_address(workspace.metadata_path),
        use=use or setup.ALL_SOURCES,
        workers=jobs,
        api_key=setup.openalex_key(workspace.metadata_path),
    )
    asked = [e for e in entries if not e.is_placeholder] if METADATA in chosen else []
    with progress(len(asked), "enrich") as bar:
        evidence = resolve_all(
            run.resolver,
            asked,
            workers=jobs,
            on_done=(lambda _e: bar.update(1)) if bar is not None else None,
        )
    for entry in entries:
        evidence.setdefault(entry.key, merge.Evidence(entry.key))
    free_copy = run.free_copy if FREE_COPY in chosen else None
    # The free copies are asked for entry by entry (OpenAlex, Unpaywall): a bar of its own.
    with progress(len(entries) if free_copy else 0, "free copies") as bar:
        summary, to_write = apply_all(
            entries,
            evidence,
            split_fields(overwrite),
            free_copy,
            on_done=(lambda: bar.update(1)) if bar is not None else None,
        )
    if summary.described:
        click.echo("\n".join(summary.described))
    summary.outages = run.client.outages
    # A source given up by the HTTP layer is reported once, among the outages.
    summary.notes = [n for n in run.notes() if not any(o.message in n for o in summary.outages)]
    if to_write and not dry_run:
        workspace.save(to_write)
    print_summary(summary, dry_run, run.client.requests)
    if summary.failed or summary.outages:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def free_copy_of(
    entry: Entry,
    change: merge.EntryChange,
    finder: FreeCopyFinder,
    overwrite: frozenset[str],
    summary: Summary,
) -> None:
    """Add the free-copy fields to the entry's change (judged on the merged entry)."""
    fields = merge.merged(entry, change)
    if not merge.wants_free_copy(fields, overwrite):
        return  # a free copy is recorded already (or a person's note): nothing to ask
    merged = Entry(entry.key, change.new_type or entry.entry_type, fields)
    answer = finder.find(merged)
    extra = merge.free_copy_changes(
        fields, answer.copy, conclusive=answer.conclusive, overwrite=overwrite
    )
    merge.add_free_copy(entry, change, extra)
    if not answer.conclusive and not merged.get("oaurl").strip():
        summary.free_copy_unknown[entry.key] = "; ".join(answer.unavailable)


def apply_all(
    entries: list[Entry],
    evidence: dict[str, merge.Evidence],
    overwrite: frozenset[str],
    free_copy: FreeCopyFinder | None = None,
    on_done: Callable[[], None] | None = None,
) -> tuple[Summary, list[Entry]]:
    """Plan each entry's change (and its free copy); the changes are described in
    `summary.described`, printed once the work (and its progress bar) is done."""
    summary = Summary(checked=len(entries))
    to_write = []
    for entry in entries:
        found = evidence[entry.key]
        change = merge.plan(entry, found, overwrite)
        # A placeholder is no work yet: there is nothing to have a copy of, nor to note.
        if free_copy is not None and not entry.is_placeholder:
            free_copy_of(entry, change, free_copy, overwrite, summary)
        if on_done is not None:
            on_done()
        if found.unconfirmed:
            summary.unconfirmed[entry.key] = found.unconfirmed
        for note in found.notes:
            if note.startswith(VENUE_NOT_FOUND):
                summary.venue_unknown[entry.key] = note.removeprefix(VENUE_NOT_FOUND)
        if found.failures:
            summary.failed[entry.key] = "; ".join(found.failures)
        if change.changed or change.disagreements:
            summary.described.extend(describe(change, entry))
        if change.problems:
            summary.failed[entry.key] = "not written: " + "; ".join(change.problems)
            continue
        if change.changed and not found.failures:
            merge.apply(entry, change)
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
