"""A finished run's worker is freed: napari's window keeps every task it was told of (to
ask before closing while one runs), and its cancel callback held the worker, so one worker
per Segment run and Train round stayed alive all day."""

import gc
import weakref

import pytest

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_a_finished_segment_runs_worker_is_freed(corrected, segment_panel_of, qtbot):
    from qtpy.QtCore import QCoreApplication, QEvent

    panel = segment_panel_of(corrected)
    workers = []
    for _ in range(2):
        panel.output_combo.setCurrentText("labels")
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run()
            workers.append(weakref.ref(panel.worker))
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    tasks = corrected.viewer.window._task_status_manager
    assert len(tasks._tasks) >= 2  # (napari was told of both runs)
    qtbot.wait(100)  # (the last run's queued signals: it may still be held while they run)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert len(workers) == 2 and workers[0]() is None  # (the earlier run's: not kept for good)
