"""The Train verdict of a semantic round: Dice per class beside the mean, and the reviewed
labels that were no class (left out of training) named with where they are."""

import numpy as np
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune


def test_the_verdict_gives_dice_per_class_and_the_pixels_left_out():
    from unet_studio.app.qt.train_review import left_out_note, verdict_basis

    yy, xx = np.mgrid[:96, :96]
    labels = np.zeros((96, 96), np.int32)
    for cy, cx in [(20, 20), (20, 70), (70, 30), (70, 75), (45, 48)]:
        r = np.hypot(yy - cy, xx - cx)
        labels[r < 10], labels[r < 7] = 2, 1
    image = (labels * 60 + np.random.default_rng(0).normal(20, 5, labels.shape)).astype(np.float32)
    labels[50, 60] = 3
    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    task = TaskSpec(kind="semantic", class_names=("background", "mitochondria", "membrane"))
    config = FinetuneConfig(max_seconds=None, max_steps=3, batch_size=2, patch_size=32,
                            val_every=1, device="cpu", checkpoint_seconds=0.0, warmup_steps=1)
    result = finetune(net, [TrainingExample(image, labels, name="em", axes="YX")], config,
                      task=task)
    after = result.metrics_after["class_dice"]
    assert f"mitochondria {after['mitochondria']:.2f}, membrane {after['membrane']:.2f}" \
        in verdict_basis(result)
    assert left_out_note(result) == (
        " Warning: em: 1 reviewed pixel holds label 3 (first at y=50, x=60), no class of this "
        "model (0 background, 1 mitochondria, 2 membrane): left out of training; paint it "
        "with a class or erase it.")
