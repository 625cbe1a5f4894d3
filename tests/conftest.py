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


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 directly: a proxy set on the machine must not carry them.
    Tests of proxies set their own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


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


def dlg_bib_script() -> list[str]:
    """The installed console script, as a user runs it (falls back to `python -m dlg_bib`
    when the package was not installed with its entry point)."""
    script = Path(sys.executable).with_name("dlg-bib")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlg_bib"]


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `dlg-bib ARGS` in a subprocess, capturing output: the exit code
    and messages the shell sees, not what click's CliRunner reports."""
    return subprocess.run(
        [*dlg_bib_script(), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def pandoc() -> str:
    """The one pandoc every test runs: the `cite` extra's (pypandoc-binary, in the `test`
    extra), so expectations do not drift with whatever pandoc a machine has."""
    from dlg_bib.export.cite import pandoc_path

    path = pandoc_path()
    assert path is not None, "pandoc missing: install the test extra (make install)"
    return path
