"""A worker whose signals object is deleted while it runs (what PySide's teardown does to
every parentless QObject when the program exits without quitting Qt's application) stops
quietly: its generator is closed (the engine's cleanup runs), no traceback reaches the
hooks or stderr, and it is no longer counted as running."""

from __future__ import annotations

import sys
import threading

import pytest

from unet_studio.app.qt.workers import EngineWorker, engine_pool, engine_work_running

pytestmark = pytest.mark.qt


def test_deleted_signals_end_the_work_quietly(qtbot, monkeypatch, capfd):
    shiboken = pytest.importorskip("shiboken6")  # (PySide's own way of deleting it)
    go_on, closed, errors = threading.Event(), threading.Event(), []
    monkeypatch.setattr(sys, "excepthook", lambda *error: errors.append(error[1]))
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))

    def engine():
        try:
            yield 0
            go_on.wait(10)  # (the signals are deleted meanwhile: no emit races the deletion)
            yield from range(1, 1000)
        finally:
            closed.set()

    seen = []
    worker = EngineWorker(engine())
    worker.yielded.connect(seen.append)
    worker.start()
    try:
        qtbot.waitUntil(lambda: seen == [0], timeout=5000)
        shiboken.delete(worker.signals)
        go_on.set()
        assert engine_pool().waitForDone(10_000)
        assert errors == [] and "Signal source" not in capfd.readouterr().err
        assert closed.is_set() and not engine_work_running()
    finally:
        EngineWorker._worker_set.discard(worker)
