"""EngineWorker: engine generators run off the GUI thread, cancel closes them, errors notify."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.qt.workers import (
    BACKGROUND_NICENESS,
    EngineWorker,
    describe_error,
    finish_engine_work,
    start_engine,
)

pytestmark = pytest.mark.qt


def counting(n: int, log: list, delay: float = 0.0):
    """A stand-in engine generator: yields i, records the thread it runs in and its cleanup."""
    try:
        for i in range(n):
            log.append(("step", threading.get_ident()))
            time.sleep(delay)
            yield i
        return "done"
    finally:
        log.append(("closed", threading.get_ident()))


def test_progress_and_result_arrive_in_gui_thread(qtbot):
    log, seen, threads = [], [], []

    def on_progress(i):
        seen.append(i)
        threads.append(threading.get_ident())

    worker = EngineWorker(counting(5, log))
    worker.yielded.connect(on_progress)
    with qtbot.waitSignal(worker.returned, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["done"]
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=2000)
    assert seen == [0, 1, 2, 3, 4]
    gui = threading.get_ident()
    assert set(threads) == {gui}
    assert all(tid != gui for _, tid in log)  # the engine itself ran in the pool thread


def test_cancel_closes_generator_between_yields(qtbot):
    log, seen = [], []
    worker = EngineWorker(counting(10_000, log, delay=0.002))
    worker.yielded.connect(seen.append)
    returned = []
    worker.returned.connect(returned.append)
    worker.start()
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    with qtbot.waitSignal(worker.aborted, timeout=5000):
        worker.quit()
    qtbot.waitSignal(worker.finished, timeout=5000)
    assert log[-1][0] == "closed"  # the engine's finally ran (cancel reached it)
    assert sum(1 for kind, _ in log if kind == "step") < 10_000
    assert returned == []


def test_work_still_running_at_exit_is_stopped_and_its_cleanup_waited_for(qtbot):
    """After the window closed (the event loop is over): running workers are asked to stop
    and their cleanup runs to the end before the program goes on to exit."""
    log = []
    worker = start_engine(counting(10_000, log, delay=0.005), notify=lambda *a: None,
                          action="Fine-tuning")
    qtbot.waitUntil(lambda: len(log) >= 3, timeout=5000)
    assert finish_engine_work(timeout_s=10)
    assert log[-1][0] == "closed"  # without waiting the cleanup could still be ahead
    assert sum(1 for kind, _ in log if kind == "step") < 10_000
    assert finish_engine_work(timeout_s=1)  # nothing left: returns at once
    qtbot.waitSignal(worker.finished, timeout=5000)


def test_pause_holds_and_resume_continues(qtbot):
    log, seen = [], []
    worker = EngineWorker(counting(400, log, delay=0.002))
    worker.yielded.connect(seen.append)
    worker.start()
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=5000)
    with qtbot.waitSignal(worker.paused, timeout=5000):
        worker.pause()
    steps_at_pause = len(log)
    qtbot.wait(150)
    assert len(log) == steps_at_pause  # nothing advanced while paused
    with qtbot.waitSignal(worker.returned, timeout=10000):
        worker.resume()
    assert log[-1][0] == "closed" and sum(1 for k, _ in log if k == "step") == 400


def failing():
    yield 1
    raise UserError("the model expects 2 channels, the image has 1")


def crashing():
    yield 1
    raise ZeroDivisionError("boom")


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (failing, "the model expects 2 channels, the image has 1"),
        (crashing, "Prediction failed: ZeroDivisionError: boom"),
    ],
)
def test_errors_are_notified_in_gui_thread(qtbot, factory, expected):
    notes = []

    def notify(message, level):
        notes.append((message, level, threading.get_ident()))

    worker = start_engine(factory(), notify=notify, action="Prediction", start=False)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    qtbot.waitUntil(lambda: bool(notes), timeout=2000)
    assert notes == [(expected, "error", threading.get_ident())]


def test_describe_error_keeps_user_messages():
    assert describe_error(UserError("bad axes"), "Prediction") == "bad axes"
    assert describe_error(ValueError("x"), "Training") == "Training failed: ValueError: x"
    # (the engine's refusal of labels that are no class of the model says where and what to do)
    from unet_studio.models.training.unknown_classes import UnknownClassError
    refusal = "Cannot train: em: 9,000 reviewed pixels hold labels 7, 9"
    assert describe_error(UnknownClassError(refusal), "Fine-tuning") == refusal


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_engine_threads_yield_the_cpu_to_the_gui(qtbot):
    def priority():
        yield os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    worker = EngineWorker(priority())
    seen = []
    worker.yielded.connect(seen.append)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    assert seen[0] >= BACKGROUND_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < BACKGROUND_NICENESS


def test_qt_binding_keeps_reference_counts(qtbot):
    """PySide6 6.12.0 drops a reference to the value ``emit`` returns on every emission,
    until the interpreter aborts ("bool_dealloc" / "none_dealloc") after some thousands of
    signals: a long GUI session would crash. Guard against such a binding."""
    from qtpy.QtCore import QObject, Signal

    class Emitter(QObject):
        value = Signal(object)

    emitter = Emitter()
    received = []
    emitter.value.connect(received.append)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(500):
        emitter.value.emit(None)
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert len(received) == 500
    assert after[0] >= before[0] - 50 and after[1] >= before[1] - 50, (before, after)
