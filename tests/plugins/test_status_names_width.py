"""The panels' status lines name images, models and projects, whose names from microscopes
and autosaves are long and unbroken: a plain word-wrapped label cannot break them, and "Run
segments <image> with <model>..." made the Segment panel ask 427 px, which widened its dock
(napari then squeezed the canvas). The lines wrap the names in the width the panel has
(``names_label``), and ``text()`` stays the text as said."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

# (no "-" before a letter, where Unicode would allow a break: "_" and "." allow none)
LONG_IMAGE = "20261130_HeLa_H2B_GFP_60x_pos03_deconvolved_stack.ome.tif"
LONG_MODEL = "HeLa_H2B_GFP_60x_finetuned_20261207_085959_round3"
LONG_PROJECT = f"{LONG_MODEL}_autosave_20261207_085959"


@pytest.fixture
def long_named_model(tmp_path):
    """A tiny 2D U-Net (random weights) named LONG_MODEL."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    return save_model(net, tmp_path / "long", metadata={"name": LONG_MODEL, "date": "2026-01-01"})


def test_long_names_in_status_lines_leave_the_panels_least_width_alone(
        corrected, train, segment_panel_of, long_named_model, tmp_path, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.dock_fit import least_width
    from unet_studio.app.qt.scrolling import PanelScrollArea

    correct = CorrectPanel(corrected.session)
    qtbot.addWidget(correct)
    lines = {"Segment": (segment_panel_of(corrected), "status"), "Train": (train, "status"),
             "Correct": (correct, "project_label")}
    areas = {name: panel.findChild(PanelScrollArea) for name, (panel, _) in lines.items()}
    for panel, _ in lines.values():  # (shown, as in a dock: their layouts follow their lines)
        panel.show()
        qtbot.waitExposed(panel)
    before = {name: least_width(area) for name, area in areas.items()}  # (short names)

    corrected.viewer.add_image(np.zeros((48, 56), np.uint16), name=LONG_IMAGE)
    corrected.session.set_model(str(long_named_model))
    corrected.session.open_project(tmp_path / LONG_PROJECT, create=True)
    qtbot.wait(100)  # (a nested box's layout asks its panel's again on an event)
    said = {name: getattr(panel, line).text() for name, (panel, line) in lines.items()}
    assert said["Segment"].startswith(f"Run segments {LONG_IMAGE} with {LONG_MODEL} ")
    assert said["Train"].startswith(f"Ready to fine-tune {LONG_MODEL}.")
    assert said["Correct"] == f"Project: {tmp_path / LONG_PROJECT}"
    for name, (panel, line) in lines.items():
        assert least_width(areas[name]) == before[name], name
        panel.resize(before[name], 900)  # (the narrowest dock: the names wrap, whole)
        qtbot.waitUntil(lambda panel=panel, name=name: panel.width() == before[name])
        assert areas[name].horizontalScrollBar().maximum() == 0, name
        label = getattr(panel, line)
        assert label.height() >= 2 * label.fontMetrics().height(), name


def test_text_copied_from_a_selectable_names_label_is_the_text_said(qtbot):
    """The break marks are for the layout only: text selected and copied (Ctrl+C) is the
    text set, as pasted into a file dialog or a report."""
    from qtpy.QtCore import Qt
    from qtpy.QtGui import QKeySequence
    from qtpy.QtWidgets import QApplication, QLabel

    from unet_studio.app.qt.names_label import NamesLabel

    label = NamesLabel()
    qtbot.addWidget(label)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    said = f"Run segments {LONG_IMAGE} with {LONG_MODEL} now."
    label.setText(said)
    label.show()
    qtbot.waitExposed(label)
    label.setFocus()
    label.setSelection(0, len(QLabel.text(label)))  # (all of it, as shown: marks and all)
    assert label.selectedText() == said
    QApplication.clipboard().clear()
    qtbot.keySequence(label, QKeySequence.StandardKey.Copy)
    assert QApplication.clipboard().text() == said
