"""Correct panel, "Export tracks (CTC)…" judged by the labels (``app.class_map``), not by the
model chosen: a class map (each class one region spanning the frame) is refused, saying why
(and its button greyed out); objects an instance model made are exported while a semantic
model is chosen."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def em_series(studio, tmp_path):
    """The studio with a tiny semantic model (background, mitochondria, membrane) chosen
    and a time series "cells" (T, Y, X) = (2, 16, 16) as the current image; returns the
    labels to show, with one class-1 and one class-2 region per frame."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    save_model(net, tmp_path / "em", task=TaskSpec(
        kind="semantic", class_names=("background", "mitochondria", "membrane")),
        metadata={"name": "em"})
    studio.session.set_model(str(tmp_path / "em"))
    labels = np.zeros((2, 16, 16), np.int32)
    labels[:, 2:8, 2:8], labels[:, 10:, :] = 1, 2
    studio.viewer.add_image(np.zeros(labels.shape, np.float32), name="cells",
                            metadata={"axes": "TYX"})
    return labels


def test_a_class_map_is_refused(studio, em_series, qtbot, told, tmp_path):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.session.show_labels(em_series)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert panel.export_tracks_ctc(tmp_path / "out") is None
    assert told[-1][0] == "error" and "class map (background, mitochondria, membrane)" \
        in told[-1][1] and "not objects" in told[-1][1]
    # (the button is greyed out on a class map, its tooltip saying why: see app.class_map)
    assert not panel.ctc_button.isEnabled() and not (tmp_path / "out").exists()
    assert "is a class map" in panel.ctc_button.toolTip()


def test_objects_are_exported_while_a_semantic_model_is_chosen(studio, em_series, qtbot, told,
                                                                tmp_path):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    studio.session.show_labels(em_series)
    studio.host.record_labels_classes(())  # (as an instance model's Segment run records them)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert panel.ctc_button.isEnabled()
    assert panel.export_tracks_ctc(tmp_path / "out") is not None
    qtbot.waitUntil(lambda: panel.ctc_worker is None, timeout=30_000)
    assert (tmp_path / "out" / "res_track.txt").read_text().splitlines() == ["1 0 1 0", "2 0 1 0"]
    assert told[-1][0] == "info" and "Exported 2 tracks" in told[-1][1]
