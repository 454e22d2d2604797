"""Shift+I, Fill holes and Relabel of a big stack: computed in a worker thread while the
window stays live, applied as one undo step only when nobody edited the labels meanwhile."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from qtpy.QtCore import QTimer
from scipy import ndimage as ndi

from unet_studio.app.host import FakeHost, full_view

pytestmark = pytest.mark.qt

CHANGED = "The labels changed while filling between the painted slices of every object"


class Gate:
    """Holds ``module.name`` (a function the computation calls) until :meth:`open`, and notes
    the threads it was called in. Called on the GUI thread, it gives up after a while (no
    worker: the test fails on its assertions instead of hanging)."""

    def __init__(self, monkeypatch, module, name: str):
        self._open = threading.Event()
        self.threads: list[threading.Thread] = []
        original = getattr(module, name)

        def held(*args, **kwargs):
            self.threads.append(threading.current_thread())
            self._open.wait(timeout=2)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, held)

    def open(self) -> None:
        self._open.set()

    @property
    def off_the_gui_thread(self) -> bool:
        return bool(self.threads) and threading.main_thread() not in self.threads


def _labels(shape=(9, 40, 40)) -> np.ndarray:
    """Objects painted on a few slices (gaps to fill), one with a hole; ids not 1..N."""
    labels = np.zeros(shape, np.int32)
    for z in (0, 4, 8):
        labels[z, 2:8, 2:8] = 1
        labels[z, 12:18, 4 + z : 10 + z] = 2
    labels[2, 30:36, 30:36] = labels[6, 30:36, 30:36] = 5
    labels[:, 22:28, 22:28] = 9
    labels[:, 24:26, 24:26] = 0  # a hole in every plane of object 9
    return labels


@pytest.fixture
def make_panel(tmp_path, monkeypatch, qtbot):
    """``make_panel(labels, sync_pixels=0, close=True)``: a Correct panel on ``labels`` (ZYX)
    showing their middle slice, as ``(panel, host, live labels)``. ``sync_pixels``: the
    labels size up to which edits of every object are computed at the press (None: as
    shipped); ``close``: by qtbot at the end. Their sessions' projects are closed then."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt import stack_edit_runner
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    sessions = []

    def make(labels, *, sync_pixels: int | None = 0, close: bool = True):
        if sync_pixels is not None:
            monkeypatch.setattr(stack_edit_runner, "SYNC_PIXELS", sync_pixels)
        home = tmp_path / f"home{len(sessions)}"
        monkeypatch.setenv("UNET_STUDIO_HOME", str(home))
        host = FakeHost()
        host.add_image(np.zeros(labels.shape, np.float32), "ZYX", name="img")
        sessions.append(StudioSession(host, library=ModelLibrary(home=home)))
        sessions[-1].show_labels(labels.copy())
        host.view = full_view(labels.shape, (labels.shape[0] // 2, 0, 0))
        panel = CorrectPanel(sessions[-1])
        if close:
            qtbot.addWidget(panel)
        return panel, host, host.current_labels()

    yield make
    for session in sessions:
        session.close_project()


def _wait_until_done(qtbot, panel) -> str:
    qtbot.waitUntil(lambda: not panel.tools.stack_edits.busy, timeout=10000)
    return panel.tool_status.text()


def test_shift_i_on_a_big_stack_is_computed_off_the_gui_thread_as_one_undo_step(
        make_panel, monkeypatch, qtbot):  # fmt: skip
    """Labels above the size computed at the press (1.2 M pixels): the press returns while
    the worker computes (the event loop keeps turning), and the result is the one computed
    at the press, applied as one undo step."""
    from unet_studio.app.qt import stack_edit_runner

    labels = np.zeros((9, 360, 360), np.int32)
    labels[:, :40, :40] = _labels()
    shipped = stack_edit_runner.SYNC_PIXELS
    assert labels.size > shipped
    small, small_host, expected = make_panel(labels, sync_pixels=labels.size)
    said = small.keys.press("interpolate all", (4, 300, 300))  # (at the press)
    assert said == "Filled the slices between the painted slices of 3 objects."
    panel, host, live = make_panel(labels, sync_pixels=shipped)
    gate = Gate(monkeypatch, ndi, "find_objects")
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    said = panel.keys.press("interpolate all", (4, 300, 300))
    qtbot.wait(100)
    assert said.startswith("Filling between the painted slices of every object…")
    assert ticks and panel.tools.stack_edits.busy and not host.undo_stack  # (still computing)
    gate.open()
    assert _wait_until_done(qtbot, panel) == \
        "Filled the slices between the painted slices of 3 objects."
    timer.stop()
    assert gate.off_the_gui_thread
    np.testing.assert_array_equal(live, expected)
    assert len(host.undo_stack) == 1
    np.testing.assert_array_equal(host.undo_stack[0].new_values, small_host.undo_stack[0].new_values)
    host.undo()
    np.testing.assert_array_equal(live, labels)


@pytest.mark.parametrize("how", ["an object tool", "napari's brush", "an undo"])
def test_an_edit_made_while_computing_is_kept_and_the_user_told(make_panel, monkeypatch, qtbot, how):
    """Shift+I pressed, then an edit before its result is in: the result (computed from the
    labels before that edit) is dropped, the edit stays, and the user is told to press
    again; pressed again, it fills the labels as they are now."""
    from unet_studio.app.corrections import delete_object_edit

    labels = _labels()
    panel, host, live = make_panel(labels)
    session = panel.session
    if how == "an undo":
        session.apply_edit(delete_object_edit(live, 9))
    gate = Gate(monkeypatch, ndi, "find_objects")
    panel.keys.press("interpolate all", (4, 39, 39))
    if how == "an object tool":
        session.apply_edit(delete_object_edit(live, 5))
    elif how == "napari's brush":
        host.user_paint(delete_object_edit(live, 5))
    else:
        host.undo()
    meanwhile = live.copy()
    gate.open()
    said = _wait_until_done(qtbot, panel)
    assert gate.off_the_gui_thread
    assert said.startswith(CHANGED) and said.endswith("Press Shift+I again to do it on the "
                                                      "labels as they are now.")  # fmt: skip
    assert host.notifications[-1] == ("warning", said)
    np.testing.assert_array_equal(live, meanwhile)
    assert len(host.undo_stack) == (0 if how == "an undo" else 1)
    panel.keys.press("interpolate all", (4, 39, 39))
    assert _wait_until_done(qtbot, panel).startswith("Filled the slices between")
    assert (live[1:8, 2:8, 2:8] == 1).all()


def test_a_second_start_is_refused_while_one_runs(make_panel, monkeypatch, qtbot):
    """One edit of every object at a time: its key says why not, its buttons are off."""
    panel, host, live = make_panel(_labels())
    gate = Gate(monkeypatch, ndi, "find_objects")
    host.press_key("Shift-I", (4, 39, 39))
    assert not panel.fill_button.isEnabled() and not panel.relabel_button.isEnabled()
    assert panel.cancel_button.isEnabled()
    host.press_key("Shift-I", (4, 39, 39))
    assert host.notifications[-1] == (
        "warning", "still filling between the painted slices of every object: wait for it to "
        "end, or stop it with Cancel tool")  # fmt: skip
    gate.open()
    assert _wait_until_done(qtbot, panel).startswith("Filled the slices between")
    assert len(host.undo_stack) == 1 and panel.fill_button.isEnabled()
    assert not panel.cancel_button.isEnabled()


@pytest.mark.parametrize("how", ["Cancel tool", "the window closed", "the panel closed"])
def test_stopping_while_computing_leaves_the_labels_untouched(make_panel, monkeypatch, qtbot, how):
    labels = _labels()
    panel, host, live = make_panel(labels, close=how != "the panel closed")
    runner = panel.tools.stack_edits
    tasks = []
    host.track_task = lambda description, cancel: tasks.append((description, cancel)) or (lambda: None)
    gate = Gate(monkeypatch, ndi, "label")
    panel.fill_button.click()
    worker = runner.worker
    assert tasks[0][0] == "filling the holes of every object"
    qtbot.waitUntil(lambda: bool(gate.threads))  # (computing)
    with qtbot.waitSignal(worker.finished, timeout=10000):
        if how == "Cancel tool":
            panel.cancel_button.click()
            assert panel.tool_status.text() == \
                "Stopped filling the holes of every object: the labels are as they were."
        elif how == "the window closed":  # (napari asks, then cancels the tracked task)
            tasks[0][1]()
        else:
            with qtbot.waitSignal(panel.destroyed):
                panel.deleteLater()
        gate.open()
    qtbot.wait(100)  # (anything queued after the end)
    assert gate.off_the_gui_thread and not runner.busy
    np.testing.assert_array_equal(live, labels)
    assert not host.undo_stack
    if how != "the panel closed":
        assert panel.fill_button.isEnabled()
        assert "Stopped filling the holes" in panel.tool_status.text()


@pytest.mark.parametrize("stroke", [False, True])
def test_a_result_waits_while_a_mouse_button_is_held(make_panel, monkeypatch, qtbot, stroke):
    """A result that arrives mid-stroke waits for the release; a stroke that napari reports
    then (from the event loop's next turn) is counted before the check: it is kept."""
    from unet_studio.app import stack_edits
    from unet_studio.app.corrections import delete_object_edit
    from unet_studio.app.qt import stack_edit_runner

    labels = _labels()
    panel, host, live = make_panel(labels)
    held = [True]
    monkeypatch.setattr(stack_edit_runner, "_button_held", lambda: held[0])
    gate = Gate(monkeypatch, stack_edits, "_as_index")
    panel.relabel_button.click()
    with qtbot.waitSignal(panel.tools.stack_edits.worker.finished, timeout=10000):
        gate.open()
    qtbot.wait(150)
    assert panel.tools.stack_edits.busy and not host.undo_stack  # (waits for the release)
    edit = delete_object_edit(live, 5)
    held[0] = False
    if stroke:
        QTimer.singleShot(0, lambda: host.user_paint(edit))  # (napari's report of the stroke)
    said = _wait_until_done(qtbot, panel)
    if stroke:
        assert said.startswith("The labels changed while renumbering the objects")
        assert len(host.undo_stack) == 1 and not (live == 5).any()
        assert set(np.unique(live)) == {0, 1, 2, 9}
    else:
        assert said == "Renumbered the objects 1..N."
        assert len(host.undo_stack) == 1 and set(np.unique(live)) == {0, 1, 2, 3, 4}
        assert host.notifications[-1] == ("info", said)


def test_a_failure_in_the_worker_is_a_notification(make_panel, monkeypatch, qtbot):
    from unet_studio.app import stack_edits

    labels = _labels()
    panel, host, live = make_panel(labels)

    def broken(*_args):
        raise ValueError("no room")

    monkeypatch.setattr(stack_edits, "_fill_all_holes", broken)
    panel.fill_button.click()
    assert _wait_until_done(qtbot, panel) == \
        "Filling the holes of every object failed; the labels are as they were."
    assert host.notifications[-1] == ("error", "Filling the holes of every object failed: "
                                      "ValueError: no room")  # fmt: skip
    np.testing.assert_array_equal(live, labels)
    assert panel.fill_button.isEnabled() and not host.undo_stack


def test_the_reviewed_marks_of_a_result_are_found_in_the_worker(make_panel, monkeypatch, qtbot):
    """The marks of an edit of every object (millions of voxels on a real stack) are found
    by the worker with the edit; the GUI thread only writes them, the same marks as an edit
    done at the press, and an undo takes them back."""
    from unet_studio.app import reviewed
    from unet_studio.app.qt import stack_edit_runner

    labels = np.zeros((9, 360, 360), np.int32)
    labels[:, :40, :40] = _labels()
    shipped = stack_edit_runner.SYNC_PIXELS
    small, _, _ = make_panel(labels, sync_pixels=labels.size)
    small.keys.press("interpolate all", (4, 300, 300))
    expected = small.session.reviewed.mask.copy(), small.session.reviewed.changed.copy()
    threads, flat_threads = [], []
    found, flat = reviewed.edit_marks, reviewed.ReviewedRegions.flat_indices
    monkeypatch.setattr(reviewed, "edit_marks",
                        lambda *a: (threads.append(threading.current_thread()), found(*a))[1])
    monkeypatch.setattr(reviewed.ReviewedRegions, "flat_indices",
                        lambda *a: (flat_threads.append(threading.current_thread()), flat(*a))[1])
    panel, host, _ = make_panel(labels, sync_pixels=shipped)
    panel.keys.press("interpolate all", (4, 300, 300))
    _wait_until_done(qtbot, panel)
    assert threads and threading.main_thread() not in threads
    assert flat_threads and threading.main_thread() not in flat_threads
    regions = panel.session.reviewed
    np.testing.assert_array_equal(regions.mask, expected[0])
    np.testing.assert_array_equal(regions.changed, expected[1])
    host.undo()
    assert not regions.any() and not regions.changed.any()
