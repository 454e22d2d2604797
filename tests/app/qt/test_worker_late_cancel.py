"""A cancel that arrives while the engine generator does its last step: the work is done,
so its result is reported (superqt alone reports neither ``returned`` nor ``aborted``, and a
fine-tune that trained to its end vanished, the Train panel stuck on "Cancelling…")."""

from __future__ import annotations

import threading
import time

import pytest

from unet_studio.app.qt.workers import EngineWorker

pytestmark = pytest.mark.qt


def _last_step_outlasts_a_cancel(box: list, entered: threading.Event):
    """Yields once, then does a last step that waits until the user has cancelled."""
    yield "step"
    entered.set()  # (the worker is past its cancel check: this is the last step running)
    deadline = time.monotonic() + 10
    while not box[0].abort_requested and time.monotonic() < deadline:
        time.sleep(0.001)
    return "result"


def test_a_cancel_during_the_last_step_still_reports_the_result(qtbot):
    box, entered = [], threading.Event()
    worker = EngineWorker(_last_step_outlasts_a_cancel(box, entered))
    box.append(worker)
    seen = []
    for name in ("returned", "aborted", "errored"):
        getattr(worker, name).connect(lambda *args, name=name: seen.append((name, *args)))
    # The user clicks Cancel while the last step runs.
    worker.yielded.connect(lambda _: (entered.wait(10), worker.quit()))
    with qtbot.waitSignal(worker.finished, timeout=15_000):
        worker.start()
    assert seen == [("returned", "result")]


def test_a_cancel_after_the_return_is_ignored(qtbot):
    worker = EngineWorker(iter(()))  # returns at once
    seen = []
    worker.returned.connect(lambda result: (seen.append(result), worker.quit()))
    worker.aborted.connect(lambda: seen.append("aborted"))
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert seen == [None] and not worker.abort_requested
