"""Patch and batch defaults by the network's rank: a 2D network keeps 128x128 x 4 (same
config, same resume fingerprint); a 3D one trains on 32x64x64 x 2, not on a 128-voxel cube x 4
(one step of it took 35 s to a minute on a shared CPU: benchmarks/results/train3d_patch.md)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models.training import FinetuneConfig


def test_a_2d_network_keeps_the_old_defaults_and_fingerprint():
    config = FinetuneConfig.for_network(2, max_seconds=60.0, train_layers="decoder")
    assert config == FinetuneConfig(max_seconds=60.0, train_layers="decoder")
    assert config.patch_shape(2) == (128, 128) and config.batch_size == 4
    assert config.fingerprint() == FinetuneConfig(max_seconds=60.0,
                                                  train_layers="decoder").fingerprint()


def test_a_3d_network_gets_a_smaller_patch_and_batch_unless_told():
    config = FinetuneConfig.for_network(3, max_seconds=60.0)
    assert config.patch_shape(3) == (32, 64, 64) and config.batch_size == 2
    assert FinetuneConfig.from_dict(config.to_dict()) == config
    told = FinetuneConfig.for_network(3, patch_size=48, batch_size=4)
    assert told.patch_shape(3) == (48, 48, 48) and told.batch_size == 4
    with pytest.raises(ValueError, match="spatial_dims must be one of"):
        FinetuneConfig.for_network(4)


def test_a_3d_round_trains_on_the_3d_patch_clipped_to_the_crop():
    """The loop takes the default patch (32x64x64), clipped to a 12-slice crop."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.training import TrainingExample, finetune

    rng = np.random.default_rng(0)
    labels = np.zeros((12, 80, 80), np.int32)
    labels[3:9, 10:30, 10:30], labels[4:10, 40:70, 45:75] = 1, 2
    image = (labels > 0) + rng.normal(0, 0.3, labels.shape).astype(np.float32)
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=3, base_channels=4, depth=2)
    config = FinetuneConfig.for_network(3, max_seconds=None, max_steps=1, val_fraction=0.0,
                                        augment=None, device="cpu")
    result = finetune(net, [TrainingExample(image, labels)], config)
    assert result.steps == 1 and result.extra["patch_shape"] == [12, 64, 64]
