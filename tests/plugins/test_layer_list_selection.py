"""The layer list highlights the layers napari has selected, no more: a project reopening
its images made the session show each image's labels while napari was adding the image,
and the Qt list kept every image it added highlighted (a delete from the list looked as if
it would hit all of them)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _highlighted(viewer) -> set[str]:
    view = viewer.window._qt_viewer.layers
    return {view.model().index(index.row(), 0).data()
            for index in view.selectionModel().selectedIndexes()}


@pytest.mark.slow
def test_reopening_a_project_of_several_images_highlights_the_selected_layer_only(
        studio, make_napari_viewer, qtbot, tmp_path):
    import tifffile

    from unet_studio.plugins.widgets import session_for

    session = studio.session
    for name in ("first", "second", "third"):
        path = tmp_path / f"{name}.tif"
        tifffile.imwrite(path, np.random.default_rng(1).integers(0, 255, (24, 24), np.uint8))
        studio.viewer.open(str(path), plugin="unet-studio")
        session.show_labels(np.zeros((24, 24), np.int32))
        session.ensure_project()
        session._project_for_current()  # (each image in the project, with its labels)
    path = session.project.path
    assert session.project.flush(10) and len(session.project.images) == 3
    session.close_project()

    viewer = make_napari_viewer()
    reopened = session_for(viewer)
    reopened.open_project(path)
    qtbot.wait(50)  # (a turn: the list is told the selection afresh)
    selected = {layer.name for layer in viewer.layers.selection}
    assert len(viewer.layers) >= 6 and selected  # (three images, each with its labels)
    assert _highlighted(viewer) == selected
    reopened.close_project()


def test_an_image_chosen_in_a_panel_brings_its_labels_forward(studio):
    """Choosing an image in the Segment panel made it current for the panels while napari's
    active layer (the layer controls, the brush) stayed on the other image's labels."""
    session, layers = studio.session, studio.viewer.layers
    for name in ("first", "second"):
        studio.viewer.add_image(np.zeros((16, 16), np.float32), name=name)
        session.select_image(name)
        session.show_labels(np.zeros((16, 16), np.int32))
    assert layers.selection.active.name == "second labels"

    session.select_image("first")
    assert layers.selection.active.name == "first labels"
    assert session.host.current_image().name == "first"
    # (a layer that is no image's, the user's points, stays the active one)
    points = studio.viewer.add_points(np.zeros((1, 2)), name="seeds")
    session.select_image("second")
    assert layers.selection.active is points
