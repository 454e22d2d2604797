"""EngineWorker hands the heap memory its work freed back to the system when the work ends."""

from __future__ import annotations

import threading

import pytest

from unet_studio.app import heap_release
from unet_studio.app.qt.workers import EngineWorker

pytestmark = pytest.mark.qt


def engine(log: list):
    try:
        yield 1
        yield 2
        return "done"
    finally:
        log.append("cleaned up")


def test_freed_heap_is_released_when_the_work_ends(qtbot, monkeypatch):
    # A Segment run or Train round frees hundreds of MB that glibc would keep resident
    # (benchmarks/bench_session_drift.py): released once, in the worker's own thread.
    log, releases = [], []
    monkeypatch.setattr(heap_release, "release_freed_heap",
                        lambda: releases.append((threading.get_ident(), list(log))) or True)
    worker = EngineWorker(engine(log))
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert len(releases) == 1
    thread, log_then = releases[0]
    assert thread != threading.get_ident()  # never the GUI thread
    assert log_then == ["cleaned up"]  # after the engine's cleanup: its memory is freed


def test_an_edit_worker_leaves_the_heap_alone(qtbot, monkeypatch):
    # (an edit runs while the user paints: a trim holding malloc's locks would stall the brush)
    from unet_studio.app.qt.workers import EditWorker

    releases = []
    monkeypatch.setattr(heap_release, "release_freed_heap", lambda: releases.append(1) or True)
    worker = EditWorker(engine([]))
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert releases == []
