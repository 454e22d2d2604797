"""A Segment run reads the labels it needs (the largest id outside the slice, the backup of
the region) in its worker thread just before its first write, not on the GUI thread at Run
(seconds to half a minute on a big stack); edits made between Run and then are what a
cancel puts back (in the worker too), and a finished run's backup is let go at once (never
two stacks' copies)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def reads(monkeypatch):
    """``seen``: (what, thread) of each read of the labels before a run's first write;
    ``gate``: set it to let the run's pass over the pixels for their intensity range (which
    comes before those reads) go on; it waits at most 10 s."""
    from unet_studio.app.qt import live_labels
    from unet_studio.models import normalize

    seen, gate = [], threading.Event()
    real_percentiles = normalize.iter_exact_percentiles
    real_largest = getattr(live_labels, "iter_largest_outside", None)
    real_copy = getattr(live_labels, "iter_copy_unless_empty", None)

    def percentiles(*args, **kwargs):
        gate.wait(10)
        return (yield from real_percentiles(*args, **kwargs))

    def largest(*args, **kwargs):
        seen.append(("largest", threading.current_thread()))
        return (yield from real_largest(*args, **kwargs))

    def copy(*args, **kwargs):
        seen.append(("backup", threading.current_thread()))
        return (yield from real_copy(*args, **kwargs))

    real_restore = live_labels.LiveLabelsDestination.restore

    def restore(self):
        seen.append(("restore", threading.current_thread()))
        real_restore(self)

    monkeypatch.setattr(live_labels.LiveLabelsDestination, "restore", restore)
    monkeypatch.setattr(normalize, "iter_exact_percentiles", percentiles)
    # (raising=False: without these readers the runs still go, and the asserts say why)
    monkeypatch.setattr(live_labels, "iter_largest_outside", largest, raising=False)
    monkeypatch.setattr(live_labels, "iter_copy_unless_empty", copy, raising=False)
    return SimpleNamespace(seen=seen, gate=gate)


def test_slice_run_reads_the_labels_in_the_worker(corrected, qtbot, segment_panel_of, reads):
    studio = corrected
    before = studio.host.current_labels().copy()
    studio.viewer.dims.set_current_step(0, 5)
    panel = segment_panel_of(studio)
    panel.scope_slice.setChecked(True)
    reads.gate.set()
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    main = threading.main_thread()
    assert [what for what, _ in reads.seen] == ["largest", "backup"]
    assert all(thread is not main for _, thread in reads.seen)
    live = studio.host.current_labels()
    assert live[5].any()  # (the slice was segmented)
    np.testing.assert_array_equal(np.delete(live, 5, axis=0), np.delete(before, 5, axis=0))


def test_cancel_puts_back_edits_made_after_run_and_backups_go(corrected, qtbot, segment_panel_of,
                                                              reads, after_each_step):
    studio = corrected
    host = studio.host
    panel = segment_panel_of(studio)
    panel.tile_combo.setCurrentText("16")  # many small tiles: time to cancel
    written = []
    after_each_step(panel, lambda step: written.append(step) if step.stage == "predict" else None)
    panel.run()
    live = panel._live
    host.current_labels()[0, :4, :4] = 77  # the user's edit while the run starts
    expected = host.current_labels().copy()
    reads.gate.set()
    qtbot.waitUntil(lambda: len(written) > 0, timeout=60_000)
    with qtbot.waitSignal(panel.cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    np.testing.assert_array_equal(host.current_labels(), expected)
    assert live.backup is None  # let go when the run ended, not when collected
    # (the whole stack: no offset to find; put back by the worker as it stopped, seconds
    # of copying on a big stack; the GUI thread's call then has nothing left to do)
    assert [what for what, _ in reads.seen] == ["backup", "restore", "restore"]
    assert [thread is threading.main_thread() for _, thread in reads.seen] == [False, False, True]
