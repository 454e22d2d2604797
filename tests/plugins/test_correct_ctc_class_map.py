"""Correct panel, "Export tracks (CTC)…" with a semantic model: its labels are a class map
(each class one region spanning the frame), so the export is refused, saying why (and its
button greyed out)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_a_class_map_is_refused(studio, qtbot, told, tmp_path):
    import torch

    from unet_studio.app.qt.correct_panel import CorrectPanel
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
    studio.session.show_labels(labels)
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    assert panel.export_tracks_ctc(tmp_path / "out") is None
    assert told[-1][0] == "error" and "class map of em (background, mitochondria, membrane)" \
        in told[-1][1] and "not objects" in told[-1][1]
    # (the button is greyed out on a class map, its tooltip saying why: see app.class_map)
    assert not panel.ctc_button.isEnabled() and not (tmp_path / "out").exists()
    assert "is a class map" in panel.ctc_button.toolTip()
