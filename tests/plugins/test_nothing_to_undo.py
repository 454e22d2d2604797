"""Ctrl+Z (napari's key on the labels layer) and the Correct panel's Undo and Redo say
when there is nothing to undo or redo (the history starts when the labels are shown and
again when new ones are: napari says nothing, and QA took the silence for a broken key),
and a stroke of napari's brush, eraser or fill puts the help text back in the status line
in place of what an earlier action said."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

HELP_START = "Paint, erase, fill and polygon"


def _labels(offset: int = 0) -> np.ndarray:
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12], labels[18:28, 18:28] = 1 + offset, 2 + offset
    return labels


@pytest.fixture
def small(studio, qtbot):
    """(studio, Correct panel): a 32 x 32 image with labels (objects 1 and 2), the labels
    layer active, as napari leaves it after they are shown."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    image = np.random.default_rng(0).random((32, 32), np.float32)
    studio.viewer.add_image(image, name="a", metadata={"axes": "YX"})
    studio.session.show_labels(_labels())
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert studio.viewer.layers.selection.active is studio.host.labels_layer()
    return studio, panel


def _press(viewer, key: str, at=(6.0, 6.0)) -> None:
    """Press ``key`` through napari's key handling with the mouse pointer at ``at``."""
    viewer.cursor.position = at
    viewer.window._qt_viewer.canvas._key_map_handler.press_key(key)


def _status_is(qtbot, panel, text: str) -> None:
    qtbot.waitUntil(lambda: panel.tool_status.text() == text, timeout=2000)


def test_ctrl_z_and_the_buttons_say_when_there_is_nothing_to_undo(small, qtbot):
    from unet_studio.app.qt.correct_history import NOTHING_TO

    studio, panel = small
    viewer, layer = studio.viewer, studio.host.labels_layer()
    shown = layer.data.copy()
    _press(viewer, "Control-Z")  # (napari's own binding on the active labels layer)
    _status_is(qtbot, panel, NOTHING_TO["undo"])
    np.testing.assert_array_equal(layer.data, shown)
    _press(viewer, "Control-Shift-Z")
    _status_is(qtbot, panel, NOTHING_TO["redo"])

    _press(viewer, "D")  # one step: undone, then nothing (napari's history is empty too)
    assert not (layer.data == 1).any()
    _press(viewer, "Control-Z")
    _status_is(qtbot, panel, "Undone: delete 1.")
    _press(viewer, "Control-Z")
    _status_is(qtbot, panel, NOTHING_TO["undo"])
    np.testing.assert_array_equal(layer.data, shown)
    panel.redo_button.click()
    _status_is(qtbot, panel, "Redone: delete 1.")
    panel.redo_button.click()
    _status_is(qtbot, panel, NOTHING_TO["redo"])
    panel.undo_button.click()
    _status_is(qtbot, panel, "Undone: delete 1.")
    panel.undo_button.click()
    _status_is(qtbot, panel, NOTHING_TO["undo"])
    np.testing.assert_array_equal(layer.data, shown)

    panel.redo_button.click()  # something to undo again, until new labels are shown
    _status_is(qtbot, panel, "Redone: delete 1.")
    studio.session.show_labels(_labels(10), protect=False)  # (as a Segment run, a project opened)
    _press(viewer, "Control-Z")
    _status_is(qtbot, panel, NOTHING_TO["undo"])
    np.testing.assert_array_equal(layer.data, _labels(10))


def _brush(layer):
    with layer.block_history():  # (a drag's dabs are one step)
        layer.paint((20.0, 6.0), 3, refresh=False)
        layer.paint((22.0, 6.0), 3, refresh=False)


def _eraser(layer):
    with layer.block_history():
        layer.paint((6.0, 6.0), layer.colormap.background_value, refresh=False)


def _fill(layer):
    layer.fill((20.0, 20.0), 5)


def test_a_stroke_of_napari_tools_puts_the_help_text_back(small, qtbot):
    studio, panel = small
    viewer, layer = studio.viewer, studio.host.labels_layer()
    layer.brush_size = 3
    for stroke in (_brush, _eraser, _fill):
        _press(viewer, "R")
        assert panel.tool_status.text() == "The image marked as reviewed.", stroke.__name__
        before = layer.data.copy()
        stroke(layer)
        assert (layer.data != before).any(), stroke.__name__
        qtbot.waitUntil(lambda: panel.tool_status.text().startswith(HELP_START), timeout=2000)


def test_napari_steps_the_watcher_never_saw_undo_before_nothing_is_told():
    """napari's history may hold steps painted before the watcher came: Ctrl+Z undoes
    those, and only then is there nothing to undo."""
    from napari.layers import Labels

    from unet_studio.plugins.napari_history import HistoryWatcher

    layer = Labels(_labels())
    layer.paint((8, 8), 3)  # (a step of napari's own, before the watcher)
    painted = layer.data.copy()
    told = []
    HistoryWatcher(layer, lambda edit, kind: None, on_nothing=told.append)
    assert layer.undo() is True and told == []
    np.testing.assert_array_equal(layer.data, _labels())
    assert layer.undo() is False and told == ["undo"]
    assert layer.redo() is True and told == ["undo"]
    np.testing.assert_array_equal(layer.data, painted)
    assert layer.redo() is False and told == ["undo", "redo"]
