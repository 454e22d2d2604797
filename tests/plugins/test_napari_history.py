"""What ``plugins/napari_history`` relies on in napari, checked against the installed napari.

Each assumption fails here with a message naming the napari version, so an upgrade that
changes napari's Labels history is caught by CI, not by a user whose brush strokes stop
being saved. Bare Labels layers (no window) keep these fast.
"""

from __future__ import annotations

import napari
import numpy as np
import pytest
from napari.layers import Labels

from unet_studio.plugins.napari_history import HISTORY_LENGTH, HistoryWatcher
from unet_studio.plugins.napari_history_atoms import (
    UnsupportedHistoryFormat,
    atom_to_edit,
    item_to_edits,
)
from unet_studio.plugins.napari_undo_steps import reset_undo_history

pytestmark = pytest.mark.qt

NAPARI = f"napari {napari.__version__}"


def _labels(ndim: int = 2) -> Labels:
    data = np.zeros((5, 24, 24) if ndim == 3 else (24, 24), dtype=np.int32)
    data[..., 4:12, 4:12] = 1
    data[..., 14:20, 14:20] = 2
    return Labels(data)


def _paint(layer):
    layer.selected_label, layer.brush_size = 3, 3
    layer.paint((8, 8), 3)


def _erase(layer):
    layer.brush_size = 3
    layer.paint((8, 8), layer.colormap.background_value)


def _fill(layer):
    layer.fill((16, 16), 5)


def _polygon(layer):
    layer.paint_polygon([[2, 2], [2, 10], [10, 10]], 6)


def _setitem_block(layer):
    with layer.block_history():
        layer.data_setitem((np.array([0, 1]), np.array([0, 1])), 7)
        layer.data_setitem((np.array([1, 2]), np.array([1, 2])), np.array([8, 9]))


TOOLS = {"paint": _paint, "erase": _erase, "fill": _fill, "polygon": _polygon,
         "data_setitem in block_history": _setitem_block}  # fmt: skip


@pytest.mark.parametrize("tool", TOOLS)
def test_paint_event_item_decodes_to_the_exact_change(tool, qtbot):
    """events.paint carries the whole undo step, in atoms we can read exactly."""
    layer = _labels()
    items = []
    layer.events.paint.connect(lambda event: items.append(event.value))
    before = layer.data.copy()
    TOOLS[tool](layer)
    after = layer.data.copy()
    assert not np.array_equal(before, after)
    assert len(items) == 1, f"{NAPARI}: {tool} emitted {len(items)} paint events, not one per undo step"
    try:
        edits = item_to_edits(items[0], layer.data.dtype)
    except UnsupportedHistoryFormat as error:
        pytest.fail(f"{NAPARI} changed the Labels history atoms: {error}")
    replay = before.copy()
    for edit in edits:
        edit.apply_to(replay)
    np.testing.assert_array_equal(replay, after, f"{NAPARI}: decoded {tool} history differs from the edit")
    for edit in reversed(edits):
        edit.revert(replay)
    np.testing.assert_array_equal(replay, before, f"{NAPARI}: reverting decoded {tool} history failed")
    layer.undo()
    np.testing.assert_array_equal(layer.data, before, f"{NAPARI}: {tool} is not one undo step")
    layer.redo()
    np.testing.assert_array_equal(layer.data, after, f"{NAPARI}: redo of {tool} is not exact")


def test_reset_undo_history_forgets_undo_and_redo(qtbot):
    layer = _labels()
    layer.mode = "fill"
    _fill(layer)
    _paint(layer)
    layer.undo()  # one step in each queue
    state = layer.data.copy()
    reset_undo_history(layer)
    layer.undo()
    layer.redo()
    np.testing.assert_array_equal(
        layer.data, state, f"{NAPARI} no longer clears a Labels layer's history when it stops "
        "being editable: unet-studio's reset_undo_history needs another way",
    )  # fmt: skip
    assert layer.mode == "fill" and layer.editable


def test_napari_keeps_as_many_undo_steps_as_the_mirror(qtbot):
    layer = _labels()
    before = layer.data.copy()
    for i in range(HISTORY_LENGTH + 1):
        layer.data_setitem((np.array([i // 24]), np.array([i % 24])), 50 + i)
    for _ in range(HISTORY_LENGTH + 1):
        layer.undo()
    undone = layer.data != before
    assert undone.sum() == 1 and undone[0, 0], (
        f"{NAPARI} keeps a different number of undo steps than HISTORY_LENGTH={HISTORY_LENGTH}"
    )


def test_watcher_reports_paint_undo_and_redo_exactly(qtbot):
    layer = _labels(ndim=3)
    reports = []
    watcher = HistoryWatcher(layer, lambda edit, kind: reports.append((edit, kind)))
    mirror = layer.data.copy()  # what a listener rebuilds from the reports alone
    layer.n_edit_dimensions = 3
    layer.selected_label, layer.brush_size = 4, 5
    layer.paint((2, 8, 8), 4)
    qtbot.waitUntil(lambda: len(reports) == 1)
    layer.fill((2, 16, 16), 9)
    layer.undo()  # Ctrl+Z calls exactly this (napari binds it to layer.undo())
    layer.undo()
    layer.redo()
    assert [kind for _, kind in reports] == ["paint", "paint", "undo", "undo", "redo"]
    for edit, _ in reports:
        edit.apply_to(mirror)
    np.testing.assert_array_equal(mirror, layer.data, f"{NAPARI}: reported edits differ from the data")
    watcher.detach()
    layer.undo()
    assert len(reports) == 5  # detached: napari's own undo again, nothing reported


def test_watcher_ignores_undo_beyond_napari_history(qtbot):
    layer = _labels()
    reports = []
    watcher = HistoryWatcher(layer, lambda edit, kind: reports.append(kind))
    layer.data_setitem((np.array([0]), np.array([0])), 5)
    reset_undo_history(layer)  # napari forgets; the watcher's mirror is stale on purpose
    layer.undo()
    assert reports == ["paint"] and layer.data[0, 0] == 5  # no undo reported: none happened
    layer.data_setitem((np.array([0]), np.array([1])), 6)
    layer.undo()  # the mirror recovered: this undo is napari's and is reported
    assert reports == ["paint", "paint", "undo"] and layer.data[0, 1] == 0
    watcher.reset()


def test_unknown_history_atom_is_reported_loudly(qtbot):
    with pytest.raises(UnsupportedHistoryFormat, match=f"napari {napari.__version__}"):
        atom_to_edit({"indices": (0, 0)}, np.int32)
    layer = _labels()
    errors = []
    HistoryWatcher(layer, lambda edit, kind: None, on_error=errors.append)
    layer.events.paint(value=[object()])  # what a future napari might send
    qtbot.waitUntil(lambda: errors != [])
    assert "not being saved" in errors[0]
