"""An image layer added from an array (a script, napari's console, a pasted layer) has no
file to name its axes: a 3D or 4D one gets axes guessed from its number of dimensions (ZYX,
though it may be a time-lapse), and the Segment panel says so as it does for a file that
names none; not for a plane, nor once the layer or the user names them."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def panel(studio, segment_panel_of):
    return segment_panel_of(studio)


def _choose(studio, panel, layer):
    """Make ``layer`` the active layer, as a click in the layer list does."""
    studio.viewer.layers.selection.active = layer
    panel.refresh_choices()
    assert panel.image_combo.currentText() == layer.name


def _note(panel) -> str | None:
    """The line under the Axes box, None while it is hidden."""
    return None if panel.axes_note.isHidden() else panel.axes_note.text()


def test_a_3d_array_gets_the_note_until_the_user_types_its_axes(studio, panel, qtbot):
    frames = studio.viewer.add_image(np.zeros((5, 32, 40), np.uint16), name="frames")
    _choose(studio, panel, frames)
    assert panel.axes_edit.text() == "ZYX"
    assert _note(panel) == ("guessed from the array's 3 dimensions — no file names its axes; "
                            "type them if wrong (TYX for a time-lapse, CYX for channels)")
    panel.axes_edit.selectAll()
    qtbot.keyClicks(panel.axes_edit, "TYX")
    assert _note(panel) is None
    assert panel.request().axes == "TYX"

    colour_stack = studio.viewer.add_image(np.zeros((4, 32, 40, 3), np.uint8), rgb=True)
    _choose(studio, panel, colour_stack)
    assert panel.axes_edit.text() == "ZYXC" and "array's 4 dimensions" in _note(panel)


@pytest.mark.slow
def test_the_note_follows_the_layer_chosen(studio, panel):
    """Back and forth between the guessed array and layers where nothing was guessed: the
    note shows for the one only."""
    viewer = studio.viewer
    guessed = viewer.add_image(np.zeros((5, 32, 40), np.uint16), name="guessed")
    named = {
        "YX": viewer.add_image(np.zeros((32, 40), np.uint16)),  # a plane: nothing to guess
        "YXC": viewer.add_image(np.zeros((32, 40, 3), np.uint8), rgb=True),
        "ZYX": viewer.add_image(np.zeros((5, 32, 40), np.uint16), metadata={"axes": "ZYX"}),
        "TYX": viewer.add_image(np.zeros((5, 32, 40), np.uint16), axis_labels=("t", "y", "x")),
    }
    for axes, layer in named.items():
        _choose(studio, panel, guessed)
        assert panel.axes_edit.text() == "ZYX" and _note(panel) is not None
        _choose(studio, panel, layer)
        assert panel.axes_edit.text() == axes and _note(panel) is None, axes


@pytest.mark.slow
def test_typed_axes_stay_the_image_s_through_layer_changes_and_a_rename(studio, panel, qtbot):
    """Axes the user typed are theirs: adding a layer (the lists refill), choosing another
    image and coming back, or renaming the image keeps them, and the note stays away."""
    viewer = studio.viewer
    frames = viewer.add_image(np.zeros((5, 32, 40), np.uint16), name="frames")
    other = viewer.add_image(np.zeros((5, 32, 40), np.uint16), name="other")
    _choose(studio, panel, frames)
    panel.axes_edit.selectAll()
    qtbot.keyClicks(panel.axes_edit, "TYX")
    viewer.add_points([[1, 2, 3]])  # (a layer added: the panel refills its lists)
    _choose(studio, panel, frames)
    assert panel.axes_edit.text() == "TYX" and _note(panel) is None
    _choose(studio, panel, other)
    assert panel.axes_edit.text() == "ZYX" and "array's 3 dimensions" in _note(panel)
    _choose(studio, panel, frames)
    assert panel.axes_edit.text() == "TYX" and _note(panel) is None
    frames.name = "movie"
    _choose(studio, panel, frames)
    assert panel.axes_edit.text() == "TYX" and panel.request().axes == "TYX"
