"""Read-only work done by a forked child while the process goes on: a second core.

The renderers refuse a database with lint errors, so lint runs before every render; on
10,000 entries it is about a fifth of `dlg-bib index` (bench/NOTES.md). Lint only reads the
database, so a child forked once it is loaded can lint while the parent renders; the parent
writes nothing before the child's answer is in.

A child is forked only where that is safe and gives what the in-process call would give:
on Linux (macOS's system libraries are not fork-safe without exec; Windows has no fork),
with one thread in the process (a fork copies the locks other threads hold), with more
than one usable core, and unless `DLG_BIB_JOBS=1`. Otherwise, or when the child fails in
any way (an exception, a signal, an answer that does not unpickle), the parent runs the
work itself: the result, and any exception, are those of the in-process call.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

JOBS_VARIABLE = "DLG_BIB_JOBS"


def can_fork() -> bool:
    """Whether `start` may run work in a child here (see the module's docstring)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    if os.environ.get(JOBS_VARIABLE, "").strip() == "1":
        return False
    return threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1


class Pending(Generic[T]):
    """The answer of `work`, from the child when there is one, else from calling it."""

    def __init__(self, work: Callable[[], T], pid: int | None, reader: int | None) -> None:
        self._work = work
        self._pid = pid
        self._reader = reader
        self.in_child = pid is not None  # whether a child was started (for tests, reports)

    def result(self) -> T:
        pid, reader = self._pid, self._reader
        self._pid = self._reader = None
        if pid is None or reader is None:
            return self._work()
        with os.fdopen(reader, "rb") as stream:
            payload = stream.read()
        _, status = os.waitpid(pid, 0)
        if status == 0 and payload:
            with contextlib.suppress(Exception):
                answer: T = pickle.loads(payload)
                return answer
        return self._work()

    def cancel(self) -> None:
        """Stop the child, if any (the parent stopped: Ctrl-C, an error)."""
        pid, reader = self._pid, self._reader
        self._pid = self._reader = None
        if pid is None or reader is None:
            return
        os.close(reader)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def start(work: Callable[[], T], *, worth_it: bool = True) -> Pending[T]:
    """Start `work` (no side effects, a picklable answer) in a child when it is `worth_it`
    and safe here; `result()` waits for it. Without a child, `result()` calls it."""
    if not (worth_it and can_fork()):
        return Pending(work, None, None)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return Pending(work, pid, reader)
    status = 1  # the child: never returns, never runs the parent's exit handlers
    try:
        os.close(reader)
        payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(writer, "wb") as stream:
            stream.write(payload)
        status = 0
    except BaseException:  # the parent runs the work again, and sees what went wrong
        pass
    finally:
        os._exit(status)
