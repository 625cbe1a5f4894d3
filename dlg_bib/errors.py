"""One exception family, caught once in the CLI and turned into a message and an exit code."""

from __future__ import annotations

# Exit codes documented in `dlg-bib --help`.
EXIT_OK = 0
EXIT_FINDINGS = 1  # findings, dead links, partial failure
EXIT_USAGE = 2  # usage error or unreadable input
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class DlgBibError(Exception):
    """A failure the user can act on: what is wrong, where, and how to fix it."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ParseError(DlgBibError):
    """A .bib or metadata file that cannot be read as written."""


class UnknownNameError(DlgBibError):
    """An unknown session, topic, term, role, style or paper size given on the command line:
    a usage error (exit 2). Unknown keys are findings instead (UnknownKeyError, exit 1)."""


UNKNOWN_KEY_HINT = "`dlg-bib keys` lists every key, legacy label (like 'Ref 14') and alias"


class UnknownKeyError(UnknownNameError):
    """A citation key (or alias, or legacy label) that is not in the database: a finding."""

    exit_code = EXIT_FINDINGS


class WriteError(DlgBibError):
    """A file that cannot be written (read-only, missing folder, disk full): nothing changed."""


class ConcurrentEditError(DlgBibError):
    """Another writer changed the file between our read and our write."""


class TemplateError(DlgBibError):
    """A template that fails to load or render."""


class SourceError(DlgBibError):
    """A remote source that answered with something we cannot use."""

    exit_code = EXIT_FINDINGS
