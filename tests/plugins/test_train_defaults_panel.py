"""The Train panel's round settings take the current model's rank: a 2D model keeps the
engine's 128x128 x 4, a 3D one trains on 32x64x64 x 2 (a 128-voxel cube x 4 took a minute a
step on a CPU, and a 60 s round made no model)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def test_the_panel_config_follows_the_model_rank(studio, qtbot, tmp_path):
    import torch

    from unet_studio.app.qt.train_panel import TrainPanel
    from unet_studio.models.registry import build_model
    from unet_studio.models.training import FinetuneConfig
    from unet_studio.models.weights import save_model

    train = TrainPanel(studio.session)
    qtbot.addWidget(train)
    flat = train.config()  # (the tiny 2D model)
    assert flat == FinetuneConfig(max_seconds=flat.max_seconds, epochs=flat.epochs,
                                  train_layers=flat.train_layers)
    assert flat.patch_shape(2) == (128, 128) and flat.batch_size == 4
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    studio.session.set_model(str(save_model(net, tmp_path / "tiny3d")))
    deep = train.config()
    assert deep.patch_shape(3) == (32, 64, 64) and deep.batch_size == 2
    assert deep.max_seconds == flat.max_seconds  # (the panel's other settings unchanged)
