"""The Correct panel on a 2D image (Y, X) in a shown napari window, driven by real mouse
clicks on the canvas: napari's paint, erase, fill and polygon and the panel's object tools
are each one napari undo step (undo then redo restores exactly), and every change reaches
the reviewed regions and the project."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.qt, pytest.mark.slow]  # shown windows: seconds each

SCALE = (0.26, 0.26)


@pytest.fixture
def studio2d(make_napari_viewer, studio_home, nuclei_crop):
    """A shown window with plane 6 of the nuclei crop (96 x 96) and its labels."""
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(720, 480)  # a small canvas: software OpenGL renders it faster
    session = session_for(viewer)
    image, labels = nuclei_crop
    viewer.add_image(image[6], name="nuclei2d", metadata={"axes": "YX"}, scale=SCALE)
    session.show_labels(labels[6].copy())
    viewer.scene.camera.center = (48 * SCALE[0], 48 * SCALE[1])
    viewer.scene.camera.zoom = 5 / SCALE[0]  # 5 screen pixels per labels pixel
    yield viewer, session
    session.close_project()


def _canvas_point(viewer, y: float, x: float):
    """The canvas pixel showing labels pixel (y, x) (2D view: canvas x is data x)."""
    from qtpy.QtCore import QPoint

    camera, canvas = viewer.scene.camera, viewer.window._qt_viewer.canvas.native
    cy, cx = camera.center[-2:]
    centre = canvas.rect().center()
    dx, dy = (x * SCALE[1] - cx) * camera.zoom, (y * SCALE[0] - cy) * camera.zoom
    return QPoint(centre.x() + round(dx), centre.y() + round(dy))


def _click(viewer, qtbot, y, x, double=False):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    canvas = viewer.window._qt_viewer.canvas.native
    action = QTest.mouseDClick if double else QTest.mouseClick
    action(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _canvas_point(viewer, y, x))
    qtbot.wait(5)


def _centre(labels, label_id):
    points = np.argwhere(labels == label_id)
    return tuple(points[len(points) // 2])


def _undo_redo_exact(layer, before):
    """One undo gives ``before`` back exactly, one redo the edited labels."""
    after = layer.data.copy()
    assert not np.array_equal(after, before)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.redo()
    np.testing.assert_array_equal(layer.data, after)
    return after


def test_napari_paint_erase_fill_polygon_by_mouse(studio2d, qtbot, saved_labels):
    viewer, session = studio2d
    layer = session.host.labels_layer()
    ids = [i for i in np.unique(layer.data) if i]
    layer.brush_size = 3
    steps = (("paint", 99, _centre(layer.data, ids[0])),
             ("erase", 0, _centre(layer.data, ids[1])),
             ("fill", 77, _centre(layer.data, ids[2])))  # fmt: skip
    for mode, label, (y, x) in steps:
        before = layer.data.copy()
        layer.mode, layer.selected_label = mode, max(label, 1)
        _click(viewer, qtbot, y, x)
        changed = layer.data != before
        assert changed[y, x] and (layer.data[changed] == label).all(), mode
        if mode == "fill":  # the whole object, and nothing else
            np.testing.assert_array_equal(changed, before == ids[2])
        _undo_redo_exact(layer, before)
        qtbot.waitUntil(lambda y=y, x=x: session.reviewed.changed[y, x])

    before = layer.data.copy()
    layer.mode, layer.selected_label = "polygon", 55
    for y, x in ((2, 2), (2, 14), (14, 14)):
        _click(viewer, qtbot, y, x)
    _click(viewer, qtbot, 14, 2, double=True)  # a double click closes the polygon
    assert layer.data[8, 8] == 55 and layer.data[30, 80] == before[30, 80]
    after = _undo_redo_exact(layer, before)
    qtbot.waitUntil(lambda: session.reviewed.changed[8, 8])
    assert session.reviewed.mask[8, 8]  # edited: marked as reviewed automatically
    np.testing.assert_array_equal(saved_labels(session), after)  # undo and redo saved too


@pytest.mark.slow
def test_object_tools_by_mouse_in_2d(studio2d, qtbot, saved_labels):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer, session = studio2d
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    layer = session.host.labels_layer()
    ids = [int(i) for i in np.unique(layer.data) if i]
    before = layer.data.copy()
    panel.tool_buttons["delete"].click()
    _click(viewer, qtbot, *_centre(before, ids[0]))
    assert not (layer.data == ids[0]).any()
    _undo_redo_exact(layer, before)
    layer.undo()

    panel.tool_buttons["merge"].click()
    for label in ids[1:3]:
        _click(viewer, qtbot, *_centre(before, label))
    assert len(viewer.layers["merge and split picks"].data) == 2  # the picks, marked
    panel.apply_button.click()
    assert not picks_shown(viewer)
    assert "merge and split picks" in viewer.layers  # (set aside for the next picks, not removed)
    assert not (layer.data == ids[2]).any() and (layer.data == ids[1]).sum() == np.isin(before, ids[1:3]).sum()
    _undo_redo_exact(layer, before)
    layer.undo()

    big = max(ids, key=lambda i: (before == i).sum())
    points = np.argwhere(before == big)
    panel.tool_buttons["split"].click()
    _click(viewer, qtbot, *points[np.argmin(points[:, 1])])  # its leftmost and rightmost pixels
    _click(viewer, qtbot, *points[np.argmax(points[:, 1])])
    panel.apply_button.click()
    assert len(np.unique(layer.data[before == big])) == 2
    _undo_redo_exact(layer, before)
    layer.undo()

    panel.tool_buttons["pick"].click()
    _click(viewer, qtbot, *_centre(before, ids[3]))
    assert layer.selected_label == ids[3]
    qtbot.waitUntil(lambda: layer.mode == "paint")
    np.testing.assert_array_equal(layer.data, before)  # picking changed no pixel
    np.testing.assert_array_equal(saved_labels(session), before)  # every undo was saved

    panel.tool_buttons["delete"].click()
    _click(viewer, qtbot, *_centre(before, ids[0]))
    assert not (layer.data == ids[0]).any()
    _key(viewer, qtbot, "z")  # the user's Ctrl+Z, through napari's key bindings
    np.testing.assert_array_equal(layer.data, before)
    np.testing.assert_array_equal(saved_labels(session), before)  # saved too
    _key(viewer, qtbot, "z", shift=True)  # Ctrl+Shift+Z: redo
    assert not (layer.data == ids[0]).any()
    np.testing.assert_array_equal(saved_labels(session), layer.data)


def _key(viewer, qtbot, key: str, shift: bool = False) -> None:
    """A real key press with Ctrl (and Shift) on the canvas."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    modifiers = Qt.KeyboardModifier.ControlModifier
    if shift:
        modifiers |= Qt.KeyboardModifier.ShiftModifier
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    QTest.keyClick(canvas, getattr(Qt.Key, f"Key_{key.upper()}"), modifiers)
    qtbot.wait(5)


def _hover(viewer, qtbot, y: float, x: float) -> None:
    """A real mouse move onto labels pixel (y, x) of the canvas (napari's cursor follows)."""
    from qtpy.QtTest import QTest

    QTest.mouseMove(viewer.window._qt_viewer.canvas.native, _canvas_point(viewer, y, x))
    # (the X server moves the pointer, then Qt tells napari: wait for the move to arrive)
    qtbot.waitUntil(lambda: np.allclose(viewer.cursor.position[-2:], (y * SCALE[0], x * SCALE[1]),
                                        atol=SCALE[0]))


def _press(viewer, qtbot, key: str, shift: bool = False) -> None:
    """A real key press (no Ctrl) on the canvas, through napari's key bindings."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    QTest.keyClick(canvas, getattr(Qt.Key, f"Key_{key.upper()}"), modifiers)
    qtbot.wait(5)


@pytest.mark.slow
def test_keys_act_on_the_object_under_the_mouse_pointer(studio2d, qtbot, saved_labels):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer, session = studio2d
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    layer = session.host.labels_layer()
    layer.mode = "paint"  # keys work whatever napari tool is chosen; E, P, F... stay napari's
    ids = [int(i) for i in np.unique(layer.data) if i]
    before = layer.data.copy()

    _hover(viewer, qtbot, *_centre(before, ids[0]))
    _press(viewer, qtbot, "d")
    assert not (layer.data == ids[0]).any() and panel.tool_status.text() == f"Deleted object {ids[0]}."
    np.testing.assert_array_equal(layer.data[before != ids[0]], before[before != ids[0]])
    _undo_redo_exact(layer, before)
    layer.undo()

    for label in ids[1:3]:  # G over one object, then G over the one to join to it
        _hover(viewer, qtbot, *_centre(before, label))
        _press(viewer, qtbot, "g")
        if label == ids[1]:  # the first pick is marked on the canvas until the merge
            picks = viewer.layers["merge and split picks"]
            np.testing.assert_allclose(picks.data, [_centre(before, label)], atol=0.5)
            assert viewer.layers.selection.active is layer  # keys still go to the labels
    assert not picks_shown(viewer)
    assert not (layer.data == ids[2]).any()
    assert (layer.data == ids[1]).sum() == np.isin(before, ids[1:3]).sum()
    _undo_redo_exact(layer, before)
    layer.undo()

    big = max(ids, key=lambda i: (before == i).sum())
    points = np.argwhere(before == big)
    viewer.scene.camera.center = tuple(points.mean(axis=0) * SCALE)  # (hovering: on screen)
    qtbot.wait(10)
    for end in (points[np.argmin(points[:, 1])], points[np.argmax(points[:, 1])]):
        _hover(viewer, qtbot, *end)  # S over its leftmost and rightmost pixels
        _press(viewer, qtbot, "s")
    assert len(viewer.layers["merge and split picks"].data) == 2  # the seeds, marked
    _press(viewer, qtbot, "s", shift=True)
    assert not picks_shown(viewer)
    assert len(np.unique(layer.data[before == big])) == 2
    _undo_redo_exact(layer, before)
    layer.undo()

    _hover(viewer, qtbot, *_centre(before, big))
    _press(viewer, qtbot, "k")  # K: paint with the label under the pointer
    assert layer.selected_label == big
    _press(viewer, qtbot, "e")  # napari's own key still reaches the labels layer
    assert layer.mode == "erase"
    background = np.argwhere(before == 0)
    centre = points.mean(axis=0)  # (on screen)
    _hover(viewer, qtbot, *background[np.argmin(((background - centre) ** 2).sum(axis=1))])
    _press(viewer, qtbot, "d")  # nothing under the pointer: a warning, no change
    np.testing.assert_array_equal(layer.data, before)
    np.testing.assert_array_equal(saved_labels(session), before)  # every undo was saved

    session.reviewed.mark_region((slice(None), slice(None)), False)
    _press(viewer, qtbot, "r")
    assert session.reviewed.mask.all()
    _press(viewer, qtbot, "r", shift=True)
    assert not session.reviewed.mask.any()


def test_a_over_a_missed_nucleus_adds_it(studio2d, qtbot, nuclei_crop, saved_labels):
    """The network missed a nucleus (taken away from the labels): A with the pointer on it
    adds it, found from the image, as one undo step, saved to the project."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer, session = studio2d
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    reference = nuclei_crop[1][6]
    sizes = np.bincount(reference.ravel())
    missed = int(np.argmax(sizes[1:]) + 1)  # the largest nucleus of the plane
    session.show_labels(np.where(reference == missed, 0, reference))
    layer = session.host.labels_layer()
    before = layer.data.copy()
    _hover(viewer, qtbot, *_centre(reference, missed))
    _press(viewer, qtbot, "a")
    fresh = int(reference.max()) + 1
    assert panel.tool_status.text() == f"Added object {fresh}."
    added, truth = layer.data == fresh, reference == missed
    assert (added & truth).sum() / (added | truth).sum() > 0.8
    np.testing.assert_array_equal(layer.data[before != 0], before[before != 0])
    after = layer.data.copy()
    _undo_redo_exact(layer, before)
    np.testing.assert_array_equal(saved_labels(session), after)


def picks_shown(viewer) -> bool:
    """Are picks of a merge or split marked on the canvas? Once applied, the layer is
    emptied and hidden, not removed (napari collects all garbage at a layer removal)."""
    if "merge and split picks" not in viewer.layers:
        return False
    picks = viewer.layers["merge and split picks"]
    return picks.visible and len(picks.data) > 0


def test_a_key_after_next_acts_on_the_object_brought_into_view(studio2d, qtbot, saved_labels):
    """N brings the least compact object into view under a mouse that did not move: D then
    deletes that object (not whatever now lies under the stale pointer position, nor the
    background at the centroid of a ring); once the mouse moves, keys act under it again."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    viewer, session = studio2d
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    layer = session.host.labels_layer()
    data = layer.data.copy()
    ids = [int(i) for i in np.unique(data) if i]
    sizes = {i: int((data == i).sum()) for i in ids}
    largest = max(sizes, key=sizes.get)
    ring = np.zeros_like(data)  # the least compact object: a ring, its centroid background
    ring[1:12, 1:12] = 1
    ring[2:11, 2:11] = 0
    data[data == largest] = 0
    data[:13, :13] = 0  # (room for it in a corner)
    data[ring > 0] = largest
    layer.data = data
    before = data.copy()
    _hover(viewer, qtbot, *_centre(before, ids[0] if ids[0] != largest else ids[1]))
    panel.find_order.setCurrentText("least compact")
    panel.find_button.click()
    qtbot.waitUntil(lambda: panel.find_queue is not None and panel.find_worker is None)
    assert f"Object {largest}:" in panel.find_label.text()
    _press(viewer, qtbot, "d")
    assert not (layer.data == largest).any()
    np.testing.assert_array_equal(layer.data[before != largest], before[before != largest])
    other = next(i for i in ids if i != largest)
    viewer.scene.camera.center = (48 * SCALE[0], 48 * SCALE[1])  # (all of it on screen)
    _hover(viewer, qtbot, *_centre(before, other))
    _press(viewer, qtbot, "d")
    assert not (layer.data == other).any()
