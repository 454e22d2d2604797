"""The Correct panel names the plane on screen as the image shown has it: a "time point" of a
time-lapse (TYX), a "slice" of a Z stack. QA, on a phase-contrast time-lapse: "Mark this
slice" and "Slice marked as reviewed." read as if the panel took the movie for a stack.
The words follow the current image as the user switches between images."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _labels() -> np.ndarray:
    labels = np.zeros((3, 32, 32), np.int32)
    labels[:, 4:12, 4:12] = 1
    return labels


@pytest.fixture
def movie_and_stack(studio, qtbot):
    """(studio, Correct panel): a time-lapse "movie" (TYX) and a Z stack "stack" (ZYX), each
    3 x 32 x 32 with one object; the movie's image layer active."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    layers = studio.viewer.layers
    rng = np.random.default_rng(0)
    for name, axes in (("movie", "TYX"), ("stack", "ZYX")):
        studio.viewer.add_image(rng.random((3, 32, 32), np.float32), name=name,
                                metadata={"axes": axes})  # fmt: skip
        layers.selection.active = layers[name]
        studio.session.show_labels(_labels())
    layers.selection.active = layers["movie"]
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return studio, panel


def _texts(panel) -> tuple[str, ...]:
    return (panel.mark_slice_button.text(), panel.unmark_slice_button.text(),
            panel.through_check.text(), panel.interpolate_button.text())  # fmt: skip


def test_buttons_and_status_say_time_point_on_a_movie_and_slice_on_a_stack(movie_and_stack):
    studio, panel = movie_and_stack
    layers = studio.viewer.layers
    assert studio.host.current_image().name == "movie"
    assert _texts(panel) == ("Mark this time point", "Unmark this time point",
                             "Through every time point", "Fill between time points")  # fmt: skip
    assert "marks the time point reviewed" in panel.tool_status.text()  # (the keys' list)
    panel.mark_slice_button.click()
    shown = studio.viewer.dims.current_step[0]  # (which one: as a range is marked one by one)
    assert panel.tool_status.text() == f"Time point {shown} marked as reviewed."
    marked = studio.session.reviewed.mask.all(axis=(1, 2))
    assert marked.sum() == 1 and studio.session.reviewed.mask[~marked].sum() == 0  # (one frame)

    layers.selection.active = layers["stack"]  # another image: its words
    assert studio.host.current_image().name == "stack"
    assert _texts(panel) == ("Mark this slice", "Unmark this slice", "Through every slice",
                             "Fill between slices")  # fmt: skip
    assert "marks the slice reviewed" in panel.tool_status.text()
    panel.mark_slice_button.click()
    shown = studio.viewer.dims.current_step[0]
    assert panel.tool_status.text() == f"Slice {shown} marked as reviewed."
    panel.unmark_slice_button.click()
    assert panel.tool_status.text() == f"Slice {shown} no longer marked as reviewed."

    layers.selection.active = layers["movie"]  # and back
    assert panel.mark_slice_button.text() == "Mark this time point"
    assert "fill the time points between its painted time points" in panel.tool_status.text()
    assert "time points between" in panel.interpolate_button.toolTip()
    panel.unmark_slice_button.click()
    assert panel.tool_status.text() == \
        f"Time point {studio.viewer.dims.current_step[0]} no longer marked as reviewed."
