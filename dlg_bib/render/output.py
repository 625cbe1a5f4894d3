"""Writing rendered files: parents created, atomic replace (never a half-written file)."""

from __future__ import annotations

from pathlib import Path

from dlg_bib import store
from dlg_bib.errors import DlgBibError


def write_file(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store.atomic_replace(path, data)
    except OSError as exc:
        raise DlgBibError(f"cannot write file: {exc.strerror}", where=str(path)) from exc
