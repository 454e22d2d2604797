"""Correct panel, "Export tracks (CTC)…": the current labels of a time series written in the
Cell Tracking Challenge's format in a worker, the folder told in a notification; labels
without a T axis are refused with a message."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import Qt

pytestmark = pytest.mark.qt


def test_the_button_exports_a_series_with_a_division(studio, qtbot, monkeypatch, told, tmp_path):
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.app.qt.correct_panel import CorrectPanel

    labels = np.zeros((3, 16, 24), np.int32)
    labels[:, 2:8, 2:8] = 1
    labels[0, 9:15, 10:20] = 2  # divides at 1: keeps its id in one daughter
    labels[1:, 9:15, 10:15] = 2
    labels[1:, 9:15, 15:20] = 4
    studio.viewer.add_image(np.zeros(labels.shape, np.float32), name="cells",
                            metadata={"axes": "TYX"})
    studio.session.show_labels(labels.copy())
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    folder = tmp_path / "cells_RES"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(folder), ""))
    qtbot.mouseClick(panel.ctc_button, Qt.MouseButton.LeftButton)
    assert panel.ctc_worker is not None and not panel.ctc_button.isEnabled()
    qtbot.waitUntil(lambda: panel.ctc_worker is None, timeout=30_000)
    assert panel.ctc_button.isEnabled()
    assert (folder / "res_track.txt").read_text().splitlines() == [
        "1 0 2 0", "2 0 0 0", "3 1 2 2", "4 1 2 2"]
    mask = tifffile.imread(folder / "mask001.tif")
    assert mask.dtype == np.uint16 and mask[10, 12] == 3 and mask[10, 17] == 4
    assert told[-1] == ("info", "Exported 4 tracks (2 with a parent: 1 from divisions, 1 a "
                                "mother's id going on, 0 after a gap) from 3 ids (a new track "
                                "starts where an id comes back after missing frames or goes on "
                                f"after its division) of cells in 3 frames: {folder}")


def test_labels_without_a_time_axis_are_refused(corrected, qtbot, told, tmp_path):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    assert panel.export_tracks_ctc(tmp_path / "out") is None
    assert told == [("error", "Cannot export the tracks of nuclei: the Cell Tracking Challenge "
                              "format is for time series, and it has no T axis (ZYX)")]
    assert panel.ctc_button.isEnabled() and not (tmp_path / "out").exists()
