"""One `enrich` run: choose the entries, ask the sources (metadata, then free copies), plan
and apply each entry's change, write the changed entries; the outcome is a `Summary` for the
CLI to print. Progress is reported through a callback: no terminal here."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from dlg_bib.enrich import merge, setup
from dlg_bib.enrich.freecopy import FreeCopyFinder
from dlg_bib.enrich.resolver import VENUE_NOT_FOUND, resolve_all
from dlg_bib.errors import UNKNOWN_KEY_HINT, UnknownKeyError
from dlg_bib.library.database import Workspace
from dlg_bib.library.model import Database, Entry
from dlg_bib.sources.http import Mode, Outage

METADATA = "metadata"
FREE_COPY = "free-copy"
STEPS = (METADATA, FREE_COPY)
# The reason given for entries held up only by a source given up (reported once, above).
GIVEN_UP = "held up by a source given up above"


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
    # Each change planned (or disagreement found), with its entry, in the entries' order.
    changes: list[tuple[merge.EntryChange, Entry]] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)  # sent over the network, by source

    @property
    def findings(self) -> bool:
        """An entry failed or a source was given up: the run's exit status says so."""
        return bool(self.failed or self.outages)

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


def select_entries(db: Database, keys: tuple[str, ...]) -> list[Entry]:
    """The named entries, or all of them (placeholders too: they get a free-copy note, and
    are never sent to the metadata sources)."""
    if not keys:
        return list(db.entries)
    chosen = []
    for key in keys:
        entry = db.find(key)
        if entry is None:
            raise UnknownKeyError(f"unknown key: {key}", hint=UNKNOWN_KEY_HINT)
        chosen.append(entry)
    return chosen


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
    """Plan each entry's change (and its free copy); the changes are kept in
    `summary.changes`, to be shown once the work (and its progress bar) is done."""
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
            summary.changes.append((change, entry))
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


# A progress reporter: given the number of steps and a label, a context whose value moves
# the progress on by one (or None when nothing is shown).
Progress = Callable[[int, str], AbstractContextManager[Callable[[], None] | None]]


def no_progress(length: int, label: str) -> AbstractContextManager[Callable[[], None] | None]:
    return nullcontext(None)


@dataclass(frozen=True)
class Request:
    """What the user asked of a run (the CLI's options)."""

    keys: tuple[str, ...] = ()
    overwrite: frozenset[str] = frozenset()
    mode: Mode = Mode.NORMAL
    use: tuple[str, ...] = setup.ALL_SOURCES
    steps: tuple[str, ...] = STEPS
    jobs: int = 1
    dry_run: bool = False


def run(workspace: Workspace, request: Request, progress: Progress = no_progress) -> Summary:
    """Enrich the requested entries and write those that changed (unless a dry run)."""
    entries = select_entries(workspace.db, request.keys)
    chosen = request.steps or STEPS
    sources = setup.make_run(
        mode=request.mode,
        contact=setup.contact_address(workspace.metadata_path),
        use=request.use or setup.ALL_SOURCES,
        workers=request.jobs,
        api_key=setup.openalex_key(workspace.metadata_path),
    )
    asked = [e for e in entries if not e.is_placeholder] if METADATA in chosen else []
    with progress(len(asked), "enrich") as tick:
        evidence = resolve_all(
            sources.resolver,
            asked,
            workers=request.jobs,
            on_done=(lambda _e: tick()) if tick is not None else None,
        )
    for entry in entries:
        evidence.setdefault(entry.key, merge.Evidence(entry.key))
    free_copy = sources.free_copy if FREE_COPY in chosen else None
    # The free copies are asked for entry by entry (OpenAlex, Unpaywall): a bar of its own.
    with progress(len(entries) if free_copy else 0, "free copies") as tick:
        on_done = tick if free_copy is not None else None
        summary, to_write = apply_all(entries, evidence, request.overwrite, free_copy, on_done)
    summary.outages = sources.client.outages
    # A source given up by the HTTP layer is reported once, among the outages.
    summary.notes = [n for n in sources.notes() if not any(o.message in n for o in summary.outages)]
    summary.requests = dict(sources.client.requests)
    if to_write and not request.dry_run:
        workspace.save(to_write)
    return summary
