"""The undo history of a Labels layer bounded by bytes (``plugins/undo_budget``).

Real napari Labels layers (bare ones, fast; a real viewer for the user's message), real
pixels: every undo and redo is compared with the stack as it was, and the bytes the history
holds are checked against what the interpreter really allocated for it (tracemalloc).
"""

from __future__ import annotations

import gc
import tracemalloc

import napari
import numpy as np
import pytest
from napari.layers import Labels

from unet_studio.app.settings import default_undo_history_bytes
from unet_studio.plugins.napari_history import HISTORY_LENGTH, HistoryWatcher
from unet_studio.plugins.undo_budget import (
    history_nbytes,
    item_nbytes,
    napari_undo_stack,
    steps_to_drop,
)

pytestmark = pytest.mark.qt

NAPARI = f"napari {napari.__version__}"
SHAPE = (8, 96, 96)  # int32: 288 KiB
PLANE = SHAPE[1] * SHAPE[2]


def _layer() -> Labels:
    return Labels(np.ones(SHAPE, dtype=np.int32))


def _relabel_plane(layer, i: int) -> None:
    """Every pixel of plane ``i % Z`` gets label ``10 + i``, as the host applies an edit
    (one ``data_setitem`` in ``block_history``): indices and old values of a whole plane."""
    z = np.full(PLANE, i % SHAPE[0])
    y, x = np.divmod(np.arange(PLANE), SHAPE[2])
    with layer.block_history():
        layer.data_setitem((z, y, x), 10 + i)


def _fill_all(layer, i: int) -> None:
    """napari's fill tool over the whole stack: its atom keeps a copy of the whole box."""
    layer.n_edit_dimensions = 3
    layer.fill((0, 0, 0), 10 + i)


EDITS = {"relabel (data_setitem)": (_relabel_plane, PLANE * (3 * 8 + 4)),  # indices + old values
         "fill tool": (_fill_all, PLANE * SHAPE[0] * 4)}  # fmt: skip


def test_napari_keeps_the_painted_steps_in_the_stack_the_budget_trims(qtbot):
    """The one private thing the budget relies on: ``Labels._undo_history`` is a deque,
    oldest step first, whose steps hold the very atoms sent with ``events.paint``."""
    layer = _layer()
    painted = []
    layer.events.paint.connect(lambda event: painted.append(event.value))
    for i in range(3):
        _relabel_plane(layer, i)
    stack = napari_undo_stack(layer)
    assert stack is not None, f"{NAPARI} keeps no Labels._undo_history deque: no undo budget"
    same = [len(step) == len(item) and all(a is b for a, b in zip(step, item))
            for step, item in zip(stack, painted)]  # fmt: skip
    assert len(stack) == 3 and all(same), (
        f"{NAPARI}: the undo stack no longer holds the painted steps, oldest first")


@pytest.mark.slow
@pytest.mark.parametrize("name", EDITS)
def test_step_bytes_are_what_the_step_really_holds(name, qtbot):
    edit, expected = EDITS[name]
    layer = _layer()
    edit(layer, 0)  # first use: napari's caches are made here, not counted below
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        edit(layer, 1)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    step = napari_undo_stack(layer)[-1]
    assert item_nbytes(step) == expected
    # What the new step keeps alive is what was allocated and never freed (within 2 %).
    assert abs(grown - item_nbytes(step)) < 0.02 * expected, (grown, item_nbytes(step))


def _session(edit, steps: int, max_bytes: int | None):
    """``steps`` edits under a watcher: (layer, watcher, pixels before each edit and after
    the last, reports, messages)."""
    layer = _layer()
    reports, messages = [], []
    watcher = HistoryWatcher(layer, lambda e, kind: reports.append((e, kind)),
                             max_bytes=max_bytes, on_dropped=messages.append)  # fmt: skip
    states = [layer.data.copy()]
    for i in range(steps):
        edit(layer, i)
        states.append(layer.data.copy())
    return layer, watcher, states, reports, messages


def _rebuilt(states, reports) -> np.ndarray:
    """The stack as a listener rebuilds it from the watcher's reports alone."""
    mirror = states[0].copy()
    for edit, _ in reports:
        edit.apply_to(mirror)
    return mirror


@pytest.mark.parametrize("name", EDITS)
def test_large_edits_keep_the_newest_steps_within_the_budget(name, qtbot):
    edit, step_bytes = EDITS[name]
    budget = 5 * step_bytes + step_bytes // 2
    layer, watcher, states, reports, messages = _session(edit, 30, budget)
    qtbot.waitUntil(lambda: len(reports) == 30)
    assert history_nbytes(layer) <= budget
    assert len(napari_undo_stack(layer)) == len(watcher._undo_items) == 5
    assert messages == ["Undo history of 'Labels' is limited to "
                        f"{round(budget / 2**20, 1):g} MiB; the oldest steps were dropped"]  # fmt: skip
    for k in range(1, 6):  # the newest five undo exactly, each reported exactly
        layer.undo()
        np.testing.assert_array_equal(layer.data, states[30 - k], f"{NAPARI}: undo {k}")
        np.testing.assert_array_equal(_rebuilt(states, reports), layer.data)
    layer.undo()  # the older steps are gone: nothing changes, nothing is reported
    np.testing.assert_array_equal(layer.data, states[25])
    assert [kind for _, kind in reports] == ["paint"] * 30 + ["undo"] * 5
    for k in range(1, 6):
        layer.redo()
        np.testing.assert_array_equal(layer.data, states[25 + k], f"{NAPARI}: redo {k}")
    assert [kind for _, kind in reports][-5:] == ["redo"] * 5
    np.testing.assert_array_equal(_rebuilt(states, reports), states[30])
    assert history_nbytes(layer) <= budget


@pytest.mark.slow
def test_a_long_session_keeps_no_more_memory_than_its_budget(qtbot):
    """Measured as allocated memory, not as our own count: a dropped step must be freed by
    napari's stack and the mirror alike (either one holding it would keep it alive)."""
    step = PLANE * 28
    layer = _layer()
    watcher = HistoryWatcher(layer, lambda e, kind: None, max_bytes=5 * step)
    _relabel_plane(layer, 0)
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1, 31):
            _relabel_plane(layer, i)
        watcher.flush()  # the reports' copies are made and let go
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # What stays allocated is the five newest steps (the first one, made before tracing,
    # was dropped): the budget, where without it all 30 steps (7.4 MiB) would stay.
    assert grown < 5 * step + step // 10, f"{grown / 2**10:.0f} KiB more after 30 edits"


def test_a_step_larger_than_the_budget_is_the_one_kept(qtbot):
    budget = PLANE * 4  # a quarter of one relabelled plane
    layer, watcher, states, reports, messages = _session(_relabel_plane, 3, budget)
    assert len(napari_undo_stack(layer)) == 1  # the newest: its undo is what matters most
    layer.undo()
    np.testing.assert_array_equal(layer.data, states[2])
    layer.undo()
    np.testing.assert_array_equal(layer.data, states[2])
    layer.redo()
    np.testing.assert_array_equal(layer.data, states[3])
    qtbot.waitUntil(lambda: len(reports) == 5)
    np.testing.assert_array_equal(_rebuilt(states, reports), states[3])
    assert len(messages) == 1  # once per layer, however many steps go afterwards
    with layer.block_history():  # a small step after it: the large one goes, this one stays
        layer.data_setitem((np.array([0]), np.array([0]), np.array([0])), 99)
    assert len(napari_undo_stack(layer)) == 1 and history_nbytes(layer) <= budget
    layer.undo()
    np.testing.assert_array_equal(layer.data, states[3])
    assert len(messages) == 1


@pytest.mark.slow
def test_a_session_of_small_edits_keeps_all_its_steps(qtbot):
    """Brush strokes and fills of a slice: the default budget leaves napari's 100 steps."""
    layer = Labels(np.zeros((4, 512, 512), dtype=np.int32))
    reports, messages = [], []
    HistoryWatcher(layer, lambda e, kind: reports.append(kind),
                   max_bytes=default_undo_history_bytes(), on_dropped=messages.append)  # fmt: skip
    layer.brush_size = 15
    states = [layer.data.copy()]
    for i in range(HISTORY_LENGTH + 1):
        layer.paint((i % 4, (i * 37) % 512, (i * 91) % 512), 1 + i % 7)
        states.append(layer.data.copy())
    assert len(napari_undo_stack(layer)) == HISTORY_LENGTH and messages == []
    for k in range(1, HISTORY_LENGTH + 1):
        layer.undo()
        assert np.array_equal(layer.data, states[-1 - k]), f"undo {k}"
    layer.undo()  # beyond napari's 100 steps, as before: nothing
    np.testing.assert_array_equal(layer.data, states[1])
    qtbot.waitUntil(lambda: len(reports) == 2 * HISTORY_LENGTH + 1)
    assert reports.count("undo") == HISTORY_LENGTH


def test_steps_painted_before_the_watcher_count_too(qtbot):
    """A layer edited before the host watched it: napari's older steps are measured too,
    and the mirror (napari's newest steps only) stays aligned with napari's stack."""
    step = PLANE * 28
    layer = _layer()
    states = [layer.data.copy()]
    for i in range(4):  # unwatched
        _relabel_plane(layer, i)
        states.append(layer.data.copy())
    reports = []
    watcher = HistoryWatcher(layer, lambda e, kind: reports.append(kind), max_bytes=3 * step)
    for i in range(4, 6):
        _relabel_plane(layer, i)
        states.append(layer.data.copy())
    assert len(napari_undo_stack(layer)) == 3 and len(watcher._undo_items) == 2
    for k in range(1, 4):
        layer.undo()
        np.testing.assert_array_equal(layer.data, states[6 - k])
    layer.undo()
    np.testing.assert_array_equal(layer.data, states[3])
    qtbot.waitUntil(lambda: len(reports) == 4)
    assert reports == ["paint", "paint", "undo", "undo"]  # the unmirrored undo goes unreported


def test_steps_to_drop_keeps_a_contiguous_newest_run():
    assert steps_to_drop([5, 1, 1, 1], 3) == 1
    assert steps_to_drop([1, 5, 1, 1], 3) == 2  # an older small step cannot stay behind a gap
    assert steps_to_drop([1, 1, 9], 3) == 2  # the newest stays, even alone over the budget
    assert steps_to_drop([], 3) == 0


@pytest.mark.slow
def test_the_user_is_told_once_per_layer(make_napari_viewer, studio_home, monkeypatch, qtbot):
    from napari.utils.notifications import notification_manager

    from unet_studio.plugins.napari_host import NapariHost

    monkeypatch.setenv("UNET_STUDIO_UNDO_MIB", "0.5")
    viewer = make_napari_viewer()
    NapariHost(viewer)
    start = len(notification_manager.records)
    layers = [viewer.add_labels(np.ones(SHAPE, np.int32), name=name) for name in ("a", "b")]
    for layer in layers:
        viewer.layers.selection.active = layer  # the host watches the active labels layer
        for i in range(12):  # 12 x 252 KiB: the oldest go after two
            _relabel_plane(layer, i)
        assert history_nbytes(layer) <= 2**19
    qtbot.waitUntil(lambda: len(notification_manager.records) > start)
    messages = [str(n.message) for n in notification_manager.records[start:]
                if "Undo history" in str(n.message)]  # fmt: skip
    assert messages == [f"Undo history of '{name}' is limited to 0.5 MiB; the oldest steps "
                        "were dropped" for name in ("a", "b")]  # fmt: skip
