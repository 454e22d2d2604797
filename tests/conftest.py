"""Shared fixtures. Real data crops live in tests/data (copied from the shared data set)."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Two cores in CI: one torch thread per test process keeps runs predictable.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SCREEN = "1600x1000x24"  # (the README's xvfb-run screen)


def pytest_collection_modifyitems(config, items):
    """Tests marked slow (a minute of the suite's ten each, or more: whole rounds, runs
    killed and resumed, windows closed mid-run) are left out of the default run, which keeps
    the suite within ten minutes on two cores; ``-m slow`` runs them alone, any ``-m``
    expression chooses (the CI script runs both: ``.ci/run``)."""
    if config.option.markexpr:
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_configure(config):
    """Each test process of a parallel run (pytest-xdist) draws on an X display of its own.

    The README's test command runs the suite under one ``xvfb-run`` display, in two
    processes. Some tests move the real X pointer over a napari canvas (keys act on the
    object under the pointer) and others show whole windows: on one shared display a window
    of the other process, on top, took the pointer and such a test timed out now and then.
    So a worker starts its own Xvfb (same screen) before Qt is loaded, where Xvfb is there."""
    xvfb = shutil.which("Xvfb")
    if not os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get("DISPLAY") or not xvfb:
        return
    read, write = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", SCREEN,
                               "-nolisten", "tcp"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as reply:  # (Xvfb writes its display number once it is ready)
        number = reply.readline().strip()
    if not number.isdigit():
        server.kill()
        return  # (the shared display then, as before)
    os.environ["DISPLAY"] = f":{number}"
    atexit.register(server.terminate)

TEST_DATA = Path(__file__).parent / "data"
APP_QT_TESTS = Path(__file__).parent / "app" / "qt"


QT_TEST_DIRS = (APP_QT_TESTS, Path(__file__).parent / "plugins")


def _uses_qt(request) -> bool:
    path = Path(request.node.path)
    return bool({"qtbot", "qapp"} & set(request.fixturenames)) or any(
        folder in path.parents for folder in QT_TEST_DIRS)


_frozen_after = set()  # ("any", "qt"): the kinds of test after whose first one we froze


@pytest.fixture(autouse=True)
def _long_lived_objects_left_out_of_collections(request):
    """After the first test, and again after the first Qt test, of a test process: the
    objects still alive once its garbage is collected (modules, classes, functions of
    torch, napari, Qt: some 300,000) are frozen (``gc.freeze``), so that no later full
    collection walks them again. napari runs one at every viewer close (and layer
    removal): 0.28 s each with them, 0.03-0.04 s without, some 0.35 s of every napari
    test's teardown. Only that first test's own leftovers, if any are still alive then,
    could never be collected after."""
    yield
    kind = "qt" if _uses_qt(request) else "any"
    if kind in _frozen_after and "any" in _frozen_after:
        return
    if kind == "qt":
        from qtpy.QtCore import QCoreApplication, QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    gc.freeze()
    _frozen_after.update({kind, "any"})


@pytest.fixture(autouse=True)
def _qt_leftovers_end_with_their_test(request):
    """After a test with Qt objects, the engine, file and edit workers it started have
    ended (asked to stop, waited for) and their last signals are delivered."""
    yield
    if not _uses_qt(request):
        return
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.qt.workers import finish_engine_work

    finish_engine_work(30)
    app = QApplication.instance()
    if app is not None:
        app.processEvents()


_qt_garbage_left = False  # (a Qt test ran since the last full collection)


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread(request):
    """Once a session exists, the app collects reference cycles on the GUI thread only
    (``app.qt.gui_thread_gc``: a cycle of Qt objects collected on a worker thread crashed
    full runs now and then). Its timer runs while an event loop does; at the end of a test
    the generations due are collected here too, as the automatic collector would have. A
    test without Qt gets automatic collection back for its length, once the Qt objects
    left by earlier tests are collected here, on the main thread."""
    global _qt_garbage_left
    collector = sys.modules.get("unet_studio.app.qt.gui_thread_gc")
    if collector is None or gc.isenabled():
        yield
        return
    if _uses_qt(request):
        _qt_garbage_left = True
        yield
        collector.collect_due()
        return
    if _qt_garbage_left:  # (once after Qt tests: a full collection costs up to ~0.4 s)
        gc.collect()
        _qt_garbage_left = False
    gc.enable()
    try:
        yield
    finally:
        gc.disable()


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    return TEST_DATA


@pytest.fixture(autouse=True, scope="session")
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture
def click_and_answer():
    """``click_and_answer(button, answer)``: click ``button``, answer the question box it
    opens with its button named ``answer`` ("Yes", "No"...); returns the question's text."""

    def click(button, answer: str) -> str:
        from qtpy.QtCore import QTimer
        from qtpy.QtWidgets import QApplication, QMessageBox

        asked = []

        def answer_when_shown():
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, answer_when_shown)
                return
            asked.append(box.text())
            next(b for b in box.buttons() if b.text().replace("&", "") == answer).click()

        QTimer.singleShot(0, answer_when_shown)
        button.click()
        assert asked
        return asked[0]

    return click


@pytest.fixture
def qa_rounds():
    """Held-out metrics before and after two rounds a QA run measured: HeLa (F1 tied, the
    outlines worse, the loss 1.9% lower: not better) and a cells3d crop (F1 and outlines
    tied, the loss 13% lower: better by the loss)."""
    from types import SimpleNamespace

    hela_before = {"val_metric": 0.92, "f1_50": 0.92, "f1_75": 0.92, "mean_matched_iou": 0.994,
                   "n_pred": 25, "n_true": 25, "val_loss": 0.360}
    cells3d_before = {"val_metric": 0.857, "f1_50": 0.857, "f1_75": 0.786,
                      "mean_matched_iou": 0.9103, "n_pred": 13, "n_true": 15, "val_loss": 1.859}
    return SimpleNamespace(
        hela_before=hela_before,
        hela_after={**hela_before, "mean_matched_iou": 0.985, "val_loss": 0.353},
        cells3d_before=cells3d_before,
        cells3d_after={**cells3d_before, "mean_matched_iou": 0.9101, "val_loss": 1.621})
