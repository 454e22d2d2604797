"""The Segment panel says a model that cannot take the image's channels when they are
chosen, in a line under the Model box, and Run refuses in the same words: the user learnt
it only at Run, after choosing everything else."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt

# An image name too long to wrap at a space (a file's name, as napari names its layer).
LONG_NAME = "embryo_stack_2026-12-01_position3-20261207-085959_channel-DAPI"


@pytest.fixture(scope="session")
def two_channel_model(tmp_path_factory):
    """A tiny 2D U-Net (random weights) taking 2 channels, named "c2"."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(2)
    net = build_model("unet", spatial_dims=2, in_channels=2, base_channels=4, depth=2)
    return save_model(net, tmp_path_factory.mktemp("two_channels") / "c2", metadata={"name": "c2"})


def _choose(panel, image_name: str) -> None:
    """Choose ``image_name`` in the Image list, as the user does."""
    index = panel.image_combo.findText(image_name)
    panel.image_combo.setCurrentIndex(index)
    panel.image_combo.activated.emit(index)


def test_the_line_appears_with_a_model_that_cannot_take_the_image_and_goes_with_it(
        studio, two_channel_model, tiny_model_dir, segment_panel_of):
    plane = np.arange(48 * 56, dtype=np.uint16).reshape(48, 56)
    studio.viewer.add_image(plane, name="hela")
    studio.viewer.add_image(np.stack([plane, plane[::-1]]), name="two", metadata={"axes": "CYX"})
    panel = segment_panel_of(studio)
    _choose(panel, "hela")
    assert panel.channel_line.isHidden()  # (tiny takes 1 channel)

    studio.session.set_model(str(two_channel_model))  # the model chosen
    said = panel.channel_line.text()
    assert said.startswith("c2 takes 2 channels, hela has 1: ")
    assert not panel.channel_line.isHidden() and panel.run_button.isEnabled()
    assert "Run segments" not in panel.status.text()  # (no "Run segments hela" under it)
    panel.run()  # Run refuses in the same words
    assert panel.worker is None and panel.status.text() == f"Not started: {said}"

    _choose(panel, "two")  # an image of 2 channels: the line goes
    assert panel.channel_line.isHidden()
    _choose(panel, "hela")
    assert not panel.channel_line.isHidden()
    panel.run()
    studio.session.set_model(str(tiny_model_dir))  # a model taking one channel: it goes
    assert panel.channel_line.isHidden()
    # (and Run's refusal of the choice no longer made with it: QA saw it stay)
    assert panel.status.text().startswith("Run segments hela with tiny")


def test_the_line_does_not_widen_the_panel(studio, qtbot, two_channel_model, segment_panel_of):
    """An image with a long file name opened for a 2-channel model: the line naming it
    wraps in the panel's width, and the panel's content (which sets how wide its dock is
    fitted) asks for no more width than before."""
    from qtpy.QtWidgets import QScrollArea

    studio.session.set_model(str(two_channel_model))
    panel = segment_panel_of(studio)
    (area,) = panel.findChildren(QScrollArea)
    panel.show()
    qtbot.waitExposed(panel)
    least = area.widget().minimumSizeHint().width()
    studio.viewer.add_image(np.zeros((48, 56), np.uint16), name=LONG_NAME)
    shown = panel.channel_line.text().replace("\u200b", "")  # (the places it may break)
    assert LONG_NAME in shown and panel.channel_line.isVisible()
    assert area.widget().minimumSizeHint().width() <= least


def test_the_train_panel_says_it_too(studio, qtbot, two_channel_model, tiny_model_dir):
    """Train, likewise: the line above Train as the model is chosen, Train's refusal in its
    words, gone with a model taking one channel."""
    from unet_studio.app.qt.train_panel import TrainPanel

    studio.viewer.add_image(np.zeros((48, 56), np.uint16), name="hela")
    panel = TrainPanel(studio.session)
    qtbot.addWidget(panel)
    assert panel.channel_line.isHidden()
    studio.session.set_model(str(two_channel_model))
    said = panel.channel_line.text()
    assert said.startswith("c2 takes 2 channels, hela has 1: ") and not panel.channel_line.isHidden()
    assert not panel.status.text().startswith("Ready")  # (under the line: QA saw "Ready to fine-tune c2.")
    panel.start()
    assert panel.worker is None and panel.status.text() == f"Not started: {said}"
    studio.session.set_model(str(tiny_model_dir))
    assert panel.channel_line.isHidden() and panel.status.text().startswith("Ready to ")
