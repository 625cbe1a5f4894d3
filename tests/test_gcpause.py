"""collector_paused: the cycle collector is off inside, and as it was after."""

from __future__ import annotations

import gc

import pytest

from dlg_bib import gcpause
from dlg_bib.gcpause import collector_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_state_is_restored(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_as_a_decorator() -> None:
    @collector_paused()
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False


def test_a_short_process_freezes_what_a_paused_block_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After `freeze_after_pauses` (the CLI), objects alive when the block ends are frozen,
    so the collector's next pass does not scan them; by default nothing is frozen."""
    monkeypatch.setattr(gcpause, "_freeze", False)  # restored after the test
    was = gc.isenabled()
    gc.enable()
    try:
        before = gc.get_freeze_count()
        with collector_paused():
            kept = [[] for _ in range(1000)]
        assert gc.get_freeze_count() == before
        gcpause.freeze_after_pauses()
        with collector_paused():
            kept += [[] for _ in range(1000)]
        assert gc.get_freeze_count() >= before + 2000
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()
