"""The warning after R over labels painted by hand only (``hand_only_hint``) stays in the
Correct panel's status line, where a toast that faded in 4 seconds left "Slice marked as
reviewed." (the QA case: eyes on the canvas, nothing learnt), until the next action
replaces it; on a class map, an empty slice's warning names the classes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def correct(session, qtbot):
    """(session, Correct panel) over the (2, 30, 30) zero labels of ``session`` (FakeHost)."""
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    session.host.notifications.clear()
    return session, panel


def _press_r(session, z: int, key: str = "R") -> None:
    from unet_studio.app.host import full_view

    session.host.view = full_view(session.host.current_labels().shape, (z, 0, 0))
    session.host.press_key(key, None)


def _warnings(session) -> list[str]:
    return [text for level, text in session.host.notifications if level == "warning"]


def test_the_status_line_keeps_the_warning_until_the_next_key(correct):
    from unet_studio.app.label_edit import edit_from_region

    session, panel = correct
    labels = session.host.current_labels()
    session.apply_edit(edit_from_region(labels, (0, slice(5, 9), slice(5, 9)), 3))
    _press_r(session, 0)
    [painted] = _warnings(session)
    assert painted.startswith("Only your 1 painted object is taught in slice 0")
    assert panel.tool_status.text() == painted

    panel.mark_slice_button.click()  # (the button as R: slice 0 still on screen)
    assert panel.tool_status.text() == "Slice 0 marked as reviewed."  # (told once)
    _press_r(session, 1)  # (nothing in slice 1)
    [_, empty] = _warnings(session)
    assert empty.startswith("Slice 1 is taught as all background: nothing was predicted there.")
    assert panel.tool_status.text() == empty
    _press_r(session, 1, "Shift-R")  # (the next action's outcome replaces it)
    assert panel.tool_status.text() == "Slice 1 no longer marked as reviewed."


def test_an_empty_slice_of_a_class_map_names_the_classes(correct):
    session, panel = correct
    session.host.record_labels_classes(("background", "nucleus", "nucleus edge"))
    _press_r(session, 1)
    [warning] = _warnings(session)
    assert warning == ("Slice 1 is taught as all background: nothing was predicted there. If it "
                       "holds nucleus or nucleus edge, paint them, or Run first and correct "
                       "the prediction.")
    assert panel.tool_status.text() == warning


def test_a_drawn_region_says_the_warning_first_then_what_was_marked(correct):
    import numpy as np

    from unet_studio.app.label_edit import edit_from_region

    session, panel = correct
    labels = session.host.current_labels()
    session.apply_edit(edit_from_region(labels, (0, slice(5, 9), slice(5, 9)), 3))
    session.host.drawn.append(np.array([[0, 2, 2], [0, 2, 20], [0, 20, 20], [0, 20, 2]], float))
    panel.mark_drawn_button.click()
    [warning] = _warnings(session)
    assert warning.startswith("Only your 1 painted object is taught in the drawn region")
    assert panel.tool_status.text() == f"{warning} Marked the drawn region in the plane it was drawn in."
