"""Brush strokes made with napari's own brush while an image's first Segment run streams into
the labels layer it made: each is marked reviewed, kept through the run's end with its own
id, and saved, as during a re-run. They were lost: the first stroke started the autosave
project, which dropped the reviewed regions the run wrote around, and a tile written
between napari's paint and its report went over the stroke."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_strokes_during_a_first_run_are_reviewed_kept_and_saved(studio, qtbot, nuclei_crop,
                                                               segment_panel_of, saved_labels):
    image, _ = nuclei_crop
    studio.viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)
    panel.tile_combo.setCurrentText("16")  # (many tiles: the run goes on after the strokes)
    strokes = {}

    def paint_once(step) -> None:
        if strokes or step.stage != "predict" or getattr(step, "region", None) is None:
            return
        layer = studio.viewer.layers["nuclei labels"]  # (made by this run)
        layer.brush_size = 5
        shown = int(studio.viewer.dims.current_step[0])  # (its tiles come first)
        later = 0 if shown else image.shape[0] - 1  # (not predicted yet)
        layer.paint((later, 20, 20), 77)
        layer.paint((shown, 60, 60), 78)
        strokes.update({value: np.asarray(layer.data) == value for value in (77, 78)})
        # A tile written between napari's paint and its report: the worker's write, at once.
        panel._live[shown:shown + 1] = np.zeros((1, *image.shape[1:]), np.int32)

    panel.run()
    panel.worker.yielded.connect(paint_once)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        pass
    assert strokes and all(painted.sum() > 10 for painted in strokes.values())
    labels = studio.host.current_labels()
    reviewed = studio.session.ensure_reviewed().mask
    saved = saved_labels(studio.session)
    for value, painted in strokes.items():
        assert (labels[painted] == value).all(), value  # kept, under its own id
        assert reviewed[painted].all(), value
        assert (saved[painted] == value).all(), value
