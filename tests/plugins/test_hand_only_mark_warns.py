"""R on a slice whose labels are only the user's brush strokes, in an image nothing was
predicted in, warns that every pixel not painted is taught as background (once per image),
and the mark still happens and still undoes; once Run predicted the image, it does not."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def painting(studio, nuclei_crop, qtbot):
    """(studio, Correct panel): the nuclei crop, never predicted, with new empty labels to
    paint by hand (New label id)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    panel.fresh_button.click()
    studio.host.labels_layer().brush_size = 7
    return studio, panel


def _paint(studio, panel, qtbot, z: int, centres) -> None:
    """Paint a new object (napari's brush, New label id first) at each of ``centres`` of
    slice ``z``, as the user does."""
    layer, session = studio.host.labels_layer(), studio.session
    for centre in centres:
        panel.fresh_button.click()
        layer.paint((z, *centre), layer.selected_label)
        qtbot.waitUntil(lambda c=centre: session.reviewed.changed[(z, *c)])


def _press_r(studio, panel, z: int) -> None:
    """R through napari's key handling, as the user presses it."""
    studio.viewer.dims.set_current_step(0, z)
    studio.viewer.window._qt_viewer.canvas._key_map_handler.press_key("R")


def _warnings(told) -> list[str]:
    return [message for level, message in told if level == "warning"]


def test_a_slice_painted_by_hand_warns_once_and_its_mark_undoes(painting, told, qtbot):
    studio, panel = painting
    _paint(studio, panel, qtbot, 5, [(20, 20), (50, 60), (75, 30)])
    _press_r(studio, panel, 5)
    mask = studio.session.reviewed.mask
    assert mask[5].all()  # (marked all the same: she may have painted every nucleus)
    [warning] = _warnings(told)
    assert warning.startswith("Only your 3 painted objects are taught in slice 5: the rest "
                              "of it as background.")
    assert panel.tool_status.text() == warning  # (kept there: the toast fades)

    _paint(studio, panel, qtbot, 6, [(40, 40)])
    _press_r(studio, panel, 6)
    assert len(_warnings(told)) == 1  # (said once for the image)
    assert studio.session.reviewed.mask[6].all()
    studio.host.labels_layer().undo()  # (Ctrl+Z takes the mark back, not the stroke)
    qtbot.waitUntil(lambda: not studio.session.reviewed.mask[6].all())
    assert studio.session.reviewed.mask[6, 40, 40] and (studio.host.current_labels()[6] != 0).any()


@pytest.mark.slow
def test_an_empty_slice_is_said_to_hold_no_objects_until_run_predicts_the_image(
        painting, told, qtbot, segment_panel_of, run_segment):  # fmt: skip
    studio, panel = painting
    _press_r(studio, panel, 2)
    [warning] = _warnings(told)
    assert warning.startswith("Slice 2 is taught as all background: nothing was predicted there.")
    # Run (the tiny model finds nothing): the image is predicted, a slice painted and
    # marked afterwards is the user's correction of it.
    run_segment(segment_panel_of(studio))
    _paint(studio, panel, qtbot, 5, [(20, 20), (50, 60)])
    _press_r(studio, panel, 5)
    assert studio.session.reviewed.mask[5].all() and _warnings(told) == [warning]
