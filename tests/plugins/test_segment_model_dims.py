"""The Segment panel says before Run when the model's dimensions do not fit the image (a
3D model chosen for a 2D image): its status line tells why, Run is greyed with the reason
in its tooltip, and both follow the image, the Axes box and the model. A 2D model on a 3D
stack fits: the ready line says it runs plane by plane."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

REFUSAL = "the model needs ZYX axes; the image has YX"


@pytest.fixture
def tiny_3d_model_dir(tmp_path):
    """A tiny 3D U-Net (random weights) saved as a model folder named "tiny3d"."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    return save_model(net, tmp_path / "tiny3d", metadata={"name": "tiny3d"})


def _refused(panel, reason: str) -> bool:
    return (not panel.run_button.isEnabled() and reason in panel.status.text()
            and reason in panel.run_button.toolTip())


def test_a_3d_model_on_a_2d_image_greys_run_until_a_model_fits(
        studio, tiny_model_dir, tiny_3d_model_dir, segment_panel_of):
    studio.viewer.add_image(np.zeros((48, 48), np.uint16), name="cells", metadata={"axes": "YX"})
    studio.session.set_model(str(tiny_3d_model_dir))
    panel = segment_panel_of(studio)
    assert _refused(panel, REFUSAL)  # before any Run
    assert panel.status.text().startswith("Run cannot segment cells with tiny3d")
    studio.session.set_model(str(tiny_model_dir))  # a 2D model: it fits
    assert panel.run_button.isEnabled() and REFUSAL not in panel.run_button.toolTip()
    assert panel.status.text().startswith("Run segments cells with tiny")
    studio.session.set_model(str(tiny_3d_model_dir))  # and back: refused again
    assert _refused(panel, REFUSAL)


def test_the_axes_box_and_the_image_are_checked_again(
        studio, qtbot, tiny_model_dir, tiny_3d_model_dir, segment_panel_of):
    viewer = studio.viewer
    viewer.add_image(np.zeros((48, 48), np.uint16), name="cells", metadata={"axes": "YX"})
    viewer.add_image(np.zeros((4, 48, 48), np.uint16), name="stack", metadata={"axes": "ZYX"})
    panel = segment_panel_of(studio)  # the 2D model on the stack: plane by plane
    assert panel.run_button.isEnabled() and "plane by plane" in panel.status.text()
    studio.session.set_model(str(tiny_3d_model_dir))
    assert panel.run_button.isEnabled() and "plane by plane" not in panel.status.text()
    panel.axes_edit.selectAll()
    qtbot.keyClicks(panel.axes_edit, "TYX")  # the stack read as a time-lapse: no Z
    assert _refused(panel, "the model needs ZYX axes; the image has TYX")
    qtbot.keyClicks(panel.axes_edit, "\b\b\bZYX")
    assert panel.run_button.isEnabled()
    viewer.layers.selection.active = viewer.layers["cells"]
    assert _refused(panel, REFUSAL)
