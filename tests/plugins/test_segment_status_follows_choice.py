"""The Segment panel's Done line is about the image and model its run used: another image
or model chosen (in the panel or by activating a layer) gets the line a fresh choice gets,
and back to them the Done line returns. A rename keeps it (the same image), and lines that
tell of an event (a refusal here) stay whatever is chosen."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _panel_after_a_run(corrected, qtbot):
    """A Segment panel that segmented "nuclei" with the tiny model, beside a second image
    "other" (the current image: "nuclei")."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    viewer = corrected.viewer
    viewer.add_image(np.array(viewer.layers["nuclei"].data)[:, ::-1].copy(), name="other",
                     metadata={"axes": "ZYX"})
    viewer.layers.selection.active = viewer.layers["nuclei"]
    panel = SegmentPanel(corrected.session)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    assert panel.status.text().startswith("Done: nuclei segmented with tiny")
    return panel


def _choose_image(panel, name: str) -> None:
    panel.image_combo.setCurrentText(name)
    panel.image_combo.activated.emit(panel.image_combo.currentIndex())


def _choose_model(panel, name: str) -> None:
    index = next(i for i in range(panel.model_combo.count())
                 if panel.model_combo.itemText(i).startswith(f"{name}  ("))
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)


def test_done_line_gives_way_to_another_image_or_model_and_comes_back(corrected, qtbot,
                                                                     tiny_model_dir):
    panel = _panel_after_a_run(corrected, qtbot)
    done = panel.status.text()
    _choose_image(panel, "other")
    assert panel.status.text().startswith("Run segments other with tiny into its labels layer")
    _choose_image(panel, "nuclei")
    assert panel.status.text() == done
    corrected.viewer.layers.selection.active = corrected.viewer.layers["other"]
    assert panel.status.text().startswith("Run segments other with tiny")
    corrected.viewer.layers.selection.active = corrected.viewer.layers["nuclei labels"]
    assert panel.status.text() == done
    bundled = corrected.session.library.get("bundled:default").name
    _choose_model(panel, bundled)
    assert panel.status.text().startswith(f"Run segments nuclei with {bundled} into")
    corrected.session.set_model(str(tiny_model_dir) + "/")  # its folder again (Folder…)
    assert panel.status.text() == done


def test_a_renamed_image_keeps_its_done_line_and_a_refusal_stays(corrected, qtbot):
    panel = _panel_after_a_run(corrected, qtbot)
    done = panel.status.text()
    corrected.viewer.layers["nuclei"].name = "cells"
    assert panel.status.text() == done.replace("Done: nuclei ", "Done: cells ", 1)
    _choose_image(panel, "other")
    _choose_image(panel, "cells")
    assert panel.status.text().startswith("Done: cells segmented with tiny")
    panel.axes_edit.setText("QYX")
    panel.run()  # refused: its line is about that attempt, not about the choice
    refused = panel.status.text()
    assert refused.startswith("Not started: axes 'QYX'")
    _choose_image(panel, "other")
    assert panel.status.text() == refused
