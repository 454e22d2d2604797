"""Object tools in napari's 3D rendering (ndisplay 3), driven by real mouse clicks on the
canvas of a shown window: a click is a ray through the volume, and the tools act on the
first object along it (the one the user sees), each as one napari undo step."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.qt, pytest.mark.slow]  # shown windows: seconds each

SCALE = (2.0, 1.0, 1.0)  # anisotropic voxels: world z = 2 * data z
LOOK_DOWN = (0, 0, 0)  # napari camera angles: view direction -z (from high z towards 0)
LOOK_UP = (0, 180, 0)  # view direction +z


def _volume() -> np.ndarray:
    """(Z, Y, X) = (20, 48, 48) labels: 1 behind 2 (same y, x, lower z), a dumbbell 3 (two
    cubes joined by a thin bridge) and a cube 4."""
    labels = np.zeros((20, 48, 48), dtype=np.int32)
    labels[2:6, 8:20, 8:20] = 1
    labels[12:16, 8:20, 8:20] = 2
    labels[7:13, 28:36, 4:12] = 3
    labels[7:13, 28:36, 20:28] = 3
    labels[9:11, 31:33, 12:20] = 3
    labels[7:13, 28:36, 36:44] = 4
    return labels


@pytest.fixture
def studio3d(make_napari_viewer, studio_home):
    """A shown napari window in 3D with the volume as the current labels, and its session."""
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(720, 480)  # a small canvas: software OpenGL renders it faster
    session = session_for(viewer)
    labels = _volume()
    viewer.add_image(np.zeros(labels.shape, np.uint16), name="volume", metadata={"axes": "ZYX"},
                     scale=SCALE)  # fmt: skip
    session.show_labels(labels)
    viewer.dims.ndisplay = 3
    yield viewer, session
    session.close_project()


def _click_at(viewer, qtbot, y: float, x: float, angles=LOOK_DOWN) -> None:
    """A real left click on the canvas centre, with the camera aimed along z at (y, x)."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer.scene.camera.angles = angles
    viewer.scene.camera.center = (10 * SCALE[0], y * SCALE[1], x * SCALE[2])
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.wait(10)  # let the camera change reach the vispy view before the click
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.rect().center())  # fmt: skip


def _drag_from_centre(viewer, qtbot, y: float, x: float) -> None:
    """Press on the canvas centre (aimed at (y, x)), move 60 pixels, release."""
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest

    viewer.scene.camera.angles = LOOK_DOWN
    viewer.scene.camera.center = (10 * SCALE[0], y * SCALE[1], x * SCALE[2])
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.wait(10)
    centre, left = canvas.rect().center(), Qt.MouseButton.LeftButton
    QTest.mousePress(canvas, left, Qt.KeyboardModifier.NoModifier, centre)
    for step in range(1, 4):
        QTest.mouseMove(canvas, centre + QPoint(20 * step, 0))
        qtbot.wait(5)
    QTest.mouseRelease(canvas, left, Qt.KeyboardModifier.NoModifier, centre + QPoint(60, 0))


def _panel(session, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    return panel


def _assert_undo_redo_exact(layer, before, after):
    """One undo gives ``before`` back exactly, one redo ``after``."""
    np.testing.assert_array_equal(layer.data, after)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.redo()
    np.testing.assert_array_equal(layer.data, after)


@pytest.mark.slow
def test_click_ray_picks_the_object_in_front_and_delete_removes_it(studio3d, qtbot):
    from unet_studio.plugins.napari_picking import click_coordinate

    viewer, session = studio3d
    layer = session.host.labels_layer()
    events = []
    viewer.mouse_drag_callbacks.append(lambda v, event: events.append(event))
    _click_at(viewer, qtbot, 14, 14, LOOK_DOWN)  # no tool yet: napari's pan/zoom only
    _click_at(viewer, qtbot, 14, 14, LOOK_UP)
    down, up = (click_coordinate(layer, e) for e in events[:2])
    # Looking down z the camera sees object 2's top face (z = 15); looking up, 1's bottom.
    assert down[0] == 15 and abs(down[1] - 14) <= 1 and abs(down[2] - 14) <= 1
    assert up[0] == 2 and abs(up[1] - 14) <= 1
    # napari's own 3D picking (what its status bar and pick tool show) agrees.
    for event, expected in zip(events[:2], (2, 1)):
        value = layer.get_value(event.position, view_direction=event.view_direction,
                                dims_displayed=event.dims_displayed, world=True)  # fmt: skip
        assert value == expected

    panel = _panel(session, qtbot)
    before = layer.data.copy()
    panel.tool_buttons["delete"].click()
    _click_at(viewer, qtbot, 14, 14, LOOK_UP)  # from below: object 1 is in front
    assert not (layer.data == 1).any() and (layer.data == 2).sum() == (before == 2).sum()
    after = layer.data.copy()
    np.testing.assert_array_equal(after[before != 1], before[before != 1])
    _assert_undo_redo_exact(layer, before, after)
    assert session.reviewed.mask[3, 10, 10]  # the edit counts as reviewed
    _click_at(viewer, qtbot, 2, 40)  # only background along this ray: nothing happens
    np.testing.assert_array_equal(layer.data, after)
    assert panel.tools.mode == "delete"  # still waiting for a click on an object
    _drag_from_centre(viewer, qtbot, 14, 14)  # rotating the view over object 2
    np.testing.assert_array_equal(layer.data, after)  # a drag is not a click: nothing deleted

    marked = session.reviewed.mask.sum()
    panel.mark_slice_button.click()  # no single slice in 3D: refused, not the whole volume
    assert session.reviewed.mask.sum() == marked
    panel.draw_button.click()  # napari draws shapes in 2D only
    assert viewer.dims.ndisplay == 2 and viewer.layers.selection.active.name == "review regions"


@pytest.mark.slow
def test_merge_and_split_in_3d_are_one_undo_step_each(studio3d, qtbot):
    viewer, session = studio3d
    panel = _panel(session, qtbot)
    layer = session.host.labels_layer()
    before = layer.data.copy()
    panel.tool_buttons["merge"].click()
    _click_at(viewer, qtbot, 14, 14)  # object 2 (in front of 1)
    _click_at(viewer, qtbot, 32, 40)  # object 4
    assert panel.tools.picked == [2, 4]
    panel.apply_button.click()
    assert not (layer.data == 4).any() and (layer.data == 2).sum() == ((before == 2) | (before == 4)).sum()
    _assert_undo_redo_exact(layer, before, layer.data.copy())
    layer.undo()

    panel.tool_buttons["split"].click()
    _click_at(viewer, qtbot, 32, 8)  # the dumbbell's two lobes
    _click_at(viewer, qtbot, 32, 24)
    assert panel.tools.split_id == 3 and len(panel.tools.seeds) == 2
    panel.apply_button.click()
    left, right = layer.data[10, 32, 6], layer.data[10, 32, 26]
    assert left == 3 and right not in (0, 3)  # two objects, the first keeps its id
    assert set(np.unique(layer.data[before == 3])) == {3, right}
    _assert_undo_redo_exact(layer, before, layer.data.copy())


def test_pick_label_in_3d_and_paint_with_napari_brush(studio3d, qtbot):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer, session = studio3d
    panel = _panel(session, qtbot)
    layer = session.host.labels_layer()
    panel.tool_buttons["pick"].click()
    before = layer.data.copy()
    _click_at(viewer, qtbot, 32, 40)
    assert layer.selected_label == 4 and panel.tools.mode is None
    qtbot.waitUntil(lambda: layer.mode == "paint")  # later clicks go to napari's brush
    np.testing.assert_array_equal(layer.data, before)  # the picking click painted nothing

    # napari's brush in 3D paints the surface under the cursor: recorded and one undo step.
    layer.brush_size = 3
    canvas = viewer.window._qt_viewer.canvas.native
    viewer.scene.camera.center = (10 * SCALE[0], 14, 14)
    qtbot.wait(10)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.rect().center())  # fmt: skip
    painted = layer.data != before
    assert painted.any() and (layer.data[painted] == 4).all()
    assert (np.argwhere(painted)[:, 0] >= 14).all()  # on object 2's top, not inside 1
    qtbot.waitUntil(lambda: session.reviewed.changed.any())
    assert session.reviewed.changed[painted].all()
    _assert_undo_redo_exact(layer, before, layer.data.copy())


def test_keys_in_3d_act_on_the_object_seen_under_the_pointer(studio3d, qtbot):
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest

    viewer, session = studio3d
    _panel(session, qtbot)
    layer = session.host.labels_layer()
    before = layer.data.copy()
    canvas = viewer.window._qt_viewer.canvas.native
    for step, (angles, seen) in enumerate(((LOOK_UP, 1), (LOOK_DOWN, 2))):  # (in front)
        viewer.scene.camera.angles = angles
        viewer.scene.camera.center = (10 * SCALE[0], 14 * SCALE[1], 14 * SCALE[2])
        qtbot.wait(10)
        moved = viewer.cursor.position
        # A pixel beside the centre, another each time: the pointer's position changes for
        # sure, and the wait sees the last move handled (a move away and back could be
        # seen half way, or not at all when napari handles both before the check).
        QTest.mouseMove(canvas, canvas.rect().center() + QPoint(1 + step, 1 + step))
        qtbot.waitUntil(lambda m=moved: viewer.cursor.position != m)
        canvas.setFocus()
        QTest.keyClick(canvas, Qt.Key.Key_D)
        assert not (layer.data == seen).any()
        np.testing.assert_array_equal(layer.data[before != seen], before[before != seen])
        layer.undo()
        np.testing.assert_array_equal(layer.data, before)


def _canvas_point_2d(viewer, y: float, x: float):
    """The canvas pixel showing labels pixel (y, x) in the 2D view of the (y, x) planes."""
    from qtpy.QtCore import QPoint

    camera, canvas = viewer.scene.camera, viewer.window._qt_viewer.canvas.native
    cy, cx = camera.center[-2:]
    centre = canvas.rect().center()
    dx, dy = (x * SCALE[2] - cx) * camera.zoom, (y * SCALE[1] - cy) * camera.zoom
    return QPoint(centre.x() + round(dx), centre.y() + round(dy))


def test_painting_two_slices_then_i_fills_the_slices_between(studio3d, qtbot, saved_labels):
    """The 3D annotation shortcut: a new object painted with napari's brush on slices 3 and
    9 of the 2D view, then I over it: slices 4-8 get its outline, moving from one painted
    position to the other, as one undo step, saved to the project."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer, session = studio3d
    panel = _panel(session, qtbot)
    viewer.dims.ndisplay = 2
    viewer.scene.camera.center = (24 * SCALE[1], 24 * SCALE[2])
    viewer.scene.camera.zoom = 8
    layer = session.host.labels_layer()
    panel.fresh_button.click()  # "New label id": paint a new object
    label = layer.selected_label
    assert label == 5
    layer.mode, layer.brush_size = "paint", 5
    canvas = viewer.window._qt_viewer.canvas.native
    for z, x in ((3, 12), (9, 24)):
        viewer.dims.set_current_step(0, z)
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         _canvas_point_2d(viewer, 42, x))  # fmt: skip
        qtbot.wait(5)
        assert layer.data[z, 42, x] == label
    painted = layer.data.copy()
    assert set(np.flatnonzero((painted == label).any(axis=(1, 2)))) == {3, 9}

    QTest.mouseMove(canvas, _canvas_point_2d(viewer, 42, 24))
    qtbot.waitUntil(lambda: np.allclose(viewer.cursor.position[-2:], (42, 24), atol=1))
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_I)
    qtbot.wait(5)
    filled = layer.data.copy()
    assert panel.tool_status.text() == f"Filled the slices between the painted slices of object {label}."
    assert set(np.flatnonzero((filled == label).any(axis=(1, 2)))) == set(range(3, 10))
    for z in range(4, 9):  # the painted disc, moved 2 pixels along x per slice
        assert filled[z, 42, 12 + 2 * (z - 3)] == label
        assert (filled[z] == label).sum() == (painted[3] == label).sum()
    np.testing.assert_array_equal(filled[painted != 0], painted[painted != 0])
    _assert_undo_redo_exact(layer, painted, filled)
    qtbot.waitUntil(lambda: session.reviewed.changed[6, 42, 18])
    np.testing.assert_array_equal(saved_labels(session), filled)


def test_a_in_the_3d_rendering_adds_the_missed_nucleus_seen_under_the_pointer(studio3d, qtbot):
    """Cube 4 missed by the network (bright in the image, not in the labels): A with the
    pointer on it in the 3D rendering adds it (the brightest voxel along the view ray),
    found in 3D, as one undo step."""
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest

    viewer, session = studio3d
    panel = _panel(session, qtbot)
    reference = _volume()
    image = np.where(reference > 0, 1000, 100).astype(np.uint16)
    image += np.random.default_rng(0).integers(0, 50, image.shape, dtype=np.uint16)
    viewer.layers["volume"].data = image
    session.show_labels(np.where(reference == 4, 0, reference))
    layer = session.host.labels_layer()
    before = layer.data.copy()
    viewer.scene.camera.angles = LOOK_DOWN
    viewer.scene.camera.center = (10 * SCALE[0], 32 * SCALE[1], 40 * SCALE[2])  # cube 4
    canvas = viewer.window._qt_viewer.canvas.native
    qtbot.wait(10)
    moved = viewer.cursor.position
    QTest.mouseMove(canvas, canvas.rect().center() + QPoint(1, 1))
    QTest.mouseMove(canvas, canvas.rect().center())
    qtbot.waitUntil(lambda: viewer.cursor.position != moved)
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_A)
    qtbot.wait(5)
    added = layer.data == 4  # (a fresh id: one above the largest, 3)
    assert panel.tool_status.text() == "Added object 4."
    truth = reference == 4
    assert (added & truth).sum() / (added | truth).sum() > 0.8
    _assert_undo_redo_exact(layer, before, np.where(added, 4, before))


def test_find_objects_to_check_brings_each_into_view(studio3d, qtbot):
    """Next, in the 2D view of the volume: the smallest object's plane on the Z slider and
    its centre in the middle of the canvas, its label picked for the brush; N goes on."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    viewer, session = studio3d
    panel = _panel(session, qtbot)
    viewer.dims.ndisplay = 2
    session.host.labels_layer().mode = "pan_zoom"
    panel.find_button.click()
    qtbot.waitUntil(lambda: panel.find_queue is not None and panel.find_worker is None)
    layer = session.host.labels_layer()
    sizes = {i: int((layer.data == i).sum()) for i in (1, 2, 3, 4)}
    smallest = min(sizes, key=sizes.get)
    centre = np.argwhere(layer.data == smallest).mean(axis=0)
    assert layer.selected_label == smallest and layer.mode == "pan_zoom"  # (not painting)
    assert viewer.dims.current_step[0] == round(centre[0])
    np.testing.assert_allclose(viewer.scene.camera.center[-2:], centre[1:] * SCALE[1:], atol=0.5)
    assert f"Object {smallest}:" in panel.find_label.text()
    second = sorted(sizes, key=sizes.get)[1]
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    QTest.keyClick(canvas, Qt.Key.Key_N)  # the key goes on to the next smallest
    assert layer.selected_label == second
