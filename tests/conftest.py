"""Shared test helpers: fixture copies and running the real CLI in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/fixtures/<name> (file or folder) into tmp_path and return the copy."""

    def copy(name: str) -> Path:
        source = FIXTURES / name
        target = tmp_path / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target

    return copy


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m dlg_bib ARGS` as a user would, capturing output."""
    return subprocess.run(
        [sys.executable, "-m", "dlg_bib", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
