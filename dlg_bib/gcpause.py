"""Pausing Python's cycle collector while a command builds many long-lived objects.

Loading a 10,000-entry database or building its view model creates about a million
objects that all stay alive until the command ends. The cycle collector would scan them
again and again as they pile up (a third of the run time) and find nothing: these objects
form no reference cycles, and plain reference counting still frees everything else.

When the collector resumes, its first pass would still scan every object made while it was
paused (~50 ms for a 10,000-entry README or index, measured with gc.callbacks). A short
process (the CLI: `freeze_after_pauses`) hands those objects to `gc.freeze` instead, out of
the collector's sight for good; a long-lived caller (the tests) keeps the default.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_freeze = False


def freeze_after_pauses() -> None:
    """For a short process: objects alive when a paused block ends are frozen (`gc.freeze`)
    rather than scanned by the collector's next pass."""
    global _freeze
    _freeze = True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cycle collector inside the block (as a decorator: inside the call)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if _freeze:
                gc.freeze()
            gc.enable()
