"""Exit codes as the shell sees them: the installed `dlg-bib` in a subprocess."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import REPO, dlg_bib_script, run_cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_readme_check_on_a_stale_readme_exits_1(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    text = (REPO / "README.md").read_text(encoding="utf-8")
    begin = text.index("\n", text.index("<!-- dlg-bib:begin")) + 1
    readme.write_text(text[:begin] + "stale line\n" + text[begin:])
    before = _digest(readme)
    result = run_cli("--bib", str(REPO / "bib"), "readme", "--check", "-o", str(readme))
    assert result.returncode == 1, result.stderr
    assert "make readme" in result.stderr
    assert _digest(readme) == before


def test_version_exits_0() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert "dlg-bib" in result.stdout


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    # `import` of a FIFO blocks on open until a writer comes: a run we can interrupt.
    fifo = tmp_path / "incoming.bib"
    os.mkfifo(fifo)
    shutil.copytree(REPO / "bib", tmp_path / "bib")
    process = subprocess.Popen(
        [*dlg_bib_script(), "--bib", str(tmp_path / "bib"), "import", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
