"""Probabilities shown in napari: one layer per class, named by the model's classes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def semantic_model(tmp_path):
    """A tiny 2D semantic U-Net whose config names its own two classes."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, out_channels=2, base_channels=4, depth=2)
    task = TaskSpec(kind="semantic", class_names=("cytoplasm", "nucleus"))
    return save_model(net, tmp_path / "semantic", task=task, metadata={"name": "semantic"})


def _probability_layers(viewer, image: str) -> list:
    return [layer for layer in viewer.layers if layer.name.startswith(f"{image} probabilities")]


def test_probability_layers_are_named_by_class(corrected, segment_panel_of, run_segment,
                                               semantic_model):
    viewer, session = corrected.viewer, corrected.session
    panel = segment_panel_of(corrected)
    panel.scope_slice.setChecked(True)
    run_segment(panel, "probabilities")
    names = [layer.name for layer in _probability_layers(viewer, "nuclei")]
    assert names == ["nuclei probabilities: background", "nuclei probabilities: foreground",
                     "nuclei probabilities: boundary"]  # (not "nuclei probabilities [1]")
    # A semantic model's own classes; its layers replace the earlier run's.
    session.set_model(str(semantic_model))
    run_segment(panel, "probabilities")
    shown = _probability_layers(viewer, "nuclei")
    assert [layer.name for layer in shown] == ["nuclei probabilities: cytoplasm",
                                               "nuclei probabilities: nucleus"]
    assert all(layer.data.shape[-2:] == (96, 96) for layer in shown)


def test_channels_a_model_does_not_name_are_numbered():
    from unet_studio.app.qt.segment_outcome import class_names

    class Unnamed:  # (a network built in a script: no task)
        task = None

    assert class_names(Unnamed(), 2) == ["class 1", "class 2"]
