"""Mark slices…: a range of a Z stack's slices marked reviewed in one step (it took a press
of R per slice), said in the status line, taken back by one Undo; a range that does not
exist is refused in words, and the 3D view is refused as R refuses it."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _answer(monkeypatch, text: str, asked: list) -> None:
    from qtpy.QtWidgets import QInputDialog

    def get_text(parent, title, label, text="", **kwargs):
        asked.append((title, label, text))
        return answer, True

    answer = text
    monkeypatch.setattr(QInputDialog, "getText", get_text)


def test_mark_slices_marks_a_range_in_one_undo_step(corrected, qtbot, monkeypatch, told):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    session, viewer = corrected.session, corrected.viewer
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    assert panel.mark_range_button.text() == "Mark slices…"
    viewer.dims.set_current_step(0, 3)
    asked = []
    _answer(monkeypatch, "2 - 5", asked)
    panel.mark_range_button.click()
    assert asked == [("Mark slices", "Slices to mark as reviewed, whole (0 to 11; first-last, as "
                                     "10-25):", "3-11")]  # (from the slice on screen)
    mask = session.ensure_reviewed().mask
    marked = [z for z in range(mask.shape[0]) if mask[z].all()]
    assert marked == [2, 3, 4, 5] and not mask[[0, 1, *range(6, 12)]].any()
    assert panel.tool_status.text().endswith("Slices 2-5 marked as reviewed.")

    panel.undo_button.click()  # (one step for the four slices)
    qtbot.wait(10)
    assert not session.ensure_reviewed().mask.any()

    for text, said in (("7-12", "there are 12 slices, 0 to 11: slice 12 does not exist"),
                       ("seven", "seven is not a range of slices")):  # fmt: skip
        _answer(monkeypatch, text, asked)
        panel.mark_range_button.click()
        assert told[-1][0] == "warning" and told[-1][1].startswith(said), told[-1]
    assert not session.ensure_reviewed().mask.any()

    viewer.dims.ndisplay = 3  # (no slice to count from: refused before asking, as R is)
    asked.clear()
    panel.mark_range_button.click()
    assert not asked and "3D view" in told[-1][1]
    np.testing.assert_array_equal(session.ensure_reviewed().mask, False)
