"""Writing rendered files: parents created, atomic replace (never a half-written file)."""

from __future__ import annotations

from pathlib import Path

from dlg_bib.bibtex import store
from dlg_bib.errors import WriteError


def write_file(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # mkdir says "File exists" when a file sits where a folder should be.
        cause = "a file is in the way" if isinstance(exc, FileExistsError) else exc.strerror
        raise WriteError(
            f"cannot create its folder: {cause}; nothing was written", where=str(path)
        ) from exc
    store.atomic_replace(path, data)
