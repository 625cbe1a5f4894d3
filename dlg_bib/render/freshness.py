"""Is the committed README what `make readme` renders? Calendar drift told apart from edits.

The README marks the next session, so a render for a later day differs from the committed
file even when nobody changed anything. The block records the day it was rendered for
(markdown.recorded_day); rendering again at that day shows whether the database or the
templates changed (stale), and a render for today whether only the calendar moved on.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path

from dlg_bib.library.model import Database
from dlg_bib.render import markdown
from dlg_bib.render.context import next_session, short_date


class Kind(enum.StrEnum):
    CURRENT = "current"  # the README is what a render for today gives
    CALENDAR_MOVED = "calendar_moved"  # same content for its day; today's render differs
    STALE = "stale"  # the database or templates changed, or the README was edited by hand


@dataclass(frozen=True)
class Rendering:
    """The README rendered for `day`, and the date of the session it marks as next."""

    day: dt.date
    text: str
    next_session: dt.date | None


@dataclass(frozen=True)
class Freshness:
    kind: Kind
    diff: str = ""  # STALE: a short unified diff, committed against rendered
    notice: str = ""  # CALENDAR_MOVED: one line saying what moved


def verdict(
    existing: str | None,
    at_recorded: Rendering | None,
    at_today: Rendering,
    name: str = "README.md",
) -> Freshness:
    """Compare the committed README with its renders.

    `at_recorded` is the render at the day the README records, None to compare strictly
    with today's render (`--strict-date`, or a README that records no day).
    """
    if at_recorded is None:
        if markdown.same_content(existing, at_today.text):
            return Freshness(Kind.CURRENT)
        return Freshness(Kind.STALE, diff=_diff(existing, at_today.text, name))
    if existing != at_recorded.text:
        # Against the render at its own day, the diff shows the edits only, no calendar noise.
        return Freshness(Kind.STALE, diff=_diff(existing, at_recorded.text, name))
    if markdown.same_content(existing, at_today.text):
        return Freshness(Kind.CURRENT)
    return Freshness(Kind.CALENDAR_MOVED, notice=calendar_notice(at_recorded, at_today, name))


def calendar_notice(before: Rendering, after: Rendering, name: str = "README.md") -> str:
    if before.next_session != after.next_session:
        what = (
            f"next session moved from {_label(before.next_session)} to {_label(after.next_session)}"
        )
    else:
        what = f"the render for {after.day} differs from the one for {before.day} by the date only"
    return f"{name}: {what}: run `make readme` (the scheduled readme-render workflow does it)"


def _label(day: dt.date | None) -> str:
    return short_date(day) if day is not None else "none (the term is over)"


def _diff(existing: str | None, rendered: str, name: str) -> str:
    return markdown.diff_summary(existing or "", rendered, name)


def render(
    db: Database,
    bib: Path,
    day: dt.date,
    existing: str | None,
    templates: Path | None = None,
    text: str | None = None,
) -> Rendering:
    """The README for `day` (`text`: that render, when the caller has it already)."""
    if text is None:
        text = markdown.build_readme(db, bib, day, existing, templates)
    upcoming = next_session(db.sessions, day)
    return Rendering(day, text, upcoming.date if upcoming is not None else None)


def check_readme(
    db: Database,
    bib: Path,
    today: dt.date,
    existing: str | None,
    templates: Path | None = None,
    *,
    strict: bool = False,
    name: str = "README.md",
    rendered: str | None = None,
) -> Freshness:
    """The verdict of `readme --check` (`strict`: `--strict-date`; `rendered`: the README
    already rendered for `today`, to spare rendering it twice)."""
    at_today = render(db, bib, today, existing, templates, rendered)
    day = None if strict or existing is None else markdown.recorded_day(existing)
    at_recorded = None
    if day is not None:
        at_recorded = at_today if day == today else render(db, bib, day, existing, templates)
    return verdict(existing, at_recorded, at_today, name)
