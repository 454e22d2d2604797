"""What edits made in napari mark as reviewed in a time series and a 3D stack: napari's
own undo history (Ctrl+Z, Ctrl+Shift+Z) and its 3D brush go through the same marks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

pytestmark = pytest.mark.qt


def _session(make_napari_viewer, image, axes: str, labels):
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer()
    session = session_for(viewer)
    viewer.add_image(image, name="img", metadata={"axes": axes})
    session.show_labels(labels)
    return viewer, session


def test_a_join_redone_from_napari_history_marks_the_picked_time_point_only(
        make_napari_viewer, studio_home, qtbot):  # fmt: skip
    """napari's redo replays the join's pixels (every later time point): the marks are
    again only where the user picked, as when it was first made."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    movie = np.zeros((5, 32, 40), np.int32)
    for t in range(5):
        movie[t, 8:14, 3 + 5 * t : 9 + 5 * t] = 1 if t < 2 else 6  # (the linking lost it at 2)
    viewer, session = _session(make_napari_viewer, movie.astype(np.float32), "TYX", movie.copy())
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    layer = session.host.labels_layer()
    panel.keys.press("merge", (1, 10, 10))
    assert panel.keys.press("merge", (3, 10, 20)) == "Joined track 6 to 1."
    qtbot.waitUntil(lambda: session.reviewed.any())
    joined = np.zeros(movie.shape, bool)
    joined[3, 6:16, 16:26] = True  # 6's box at time point 3 grown by 2: not 2 nor 4
    np.testing.assert_array_equal(session.reviewed.mask, joined)
    layer.undo()
    qtbot.waitUntil(lambda: not session.reviewed.any())
    np.testing.assert_array_equal(layer.data, movie)
    layer.redo()
    qtbot.waitUntil(lambda: session.reviewed.any())
    assert not (layer.data == 6).any()
    np.testing.assert_array_equal(session.reviewed.mask, joined)
    session.close_project()


def test_napari_3d_brush_marks_the_painted_voxels_not_a_box_per_plane(
        make_napari_viewer, studio_home, qtbot):  # fmt: skip
    labels = np.zeros((9, 40, 40), np.int32)
    viewer, session = _session(make_napari_viewer, np.zeros(labels.shape, np.float32), "ZYX",
                               labels.copy())  # fmt: skip
    layer = session.host.labels_layer()
    layer.n_edit_dimensions = 3  # (a ball through several planes)
    layer.brush_size = 7
    layer.paint((4, 20, 20), 3)
    painted = layer.data == 3
    assert len(np.unique(np.nonzero(painted)[0])) > 1
    qtbot.waitUntil(lambda: session.reviewed.changed.any())
    structure = np.zeros((3, 5, 5), bool)
    structure[1] = True  # (grown by 2 in each plane, never into another)
    np.testing.assert_array_equal(session.reviewed.mask, ndi.binary_dilation(painted, structure))
    session.close_project()
