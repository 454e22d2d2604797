"""Semantic (class map) rounds: stray label ids are left out with a note (or refuse the
round when they are most of the labels), and the held-out scores give Dice per class."""

import numpy as np
import pytest
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune
from unet_studio.models.training.lineage import held_out_rows
from unet_studio.models.training.unknown_classes import UnknownClassError

QUICK = dict(max_seconds=None, max_steps=2, batch_size=2, patch_size=32, val_every=1,
             device="cpu", checkpoint_seconds=0.0, warmup_steps=1)
TASK = TaskSpec(kind="semantic", class_names=("background", "mitochondria", "membrane"))


def class_map_stack() -> tuple[np.ndarray, np.ndarray]:
    """(image, labels) ``(T=2, 96, 96)``: discs of class 1 ringed by class 2."""
    yy, xx = np.mgrid[:96, :96]
    labels = np.zeros((2, 96, 96), np.int32)
    for cy, cx in [(20, 20), (20, 70), (70, 30), (70, 75), (45, 48)]:
        r = np.hypot(yy - cy, xx - cx)
        labels[:, r < 10] = 2
        labels[:, r < 7] = 1
    image = (labels * 60 + np.random.default_rng(0).normal(20, 5, labels.shape)).astype(np.float32)
    return image, labels


def tiny_semantic_net():
    torch.manual_seed(0)
    return build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)


def test_a_stray_id_is_left_out_and_named_where_it_is():
    image, labels = class_map_stack()
    labels[1, 50, 60] = 3  # (one "New label id" pixel)
    # (a crop of the image starting at y=4, where the pixel is row 46: named as the image's)
    example = TrainingExample(image[:, 4:], labels[:, 4:], name="em stack", axes="TYX",
                              offset=(0, 4, 0))
    result = finetune(tiny_semantic_net(), [example], FinetuneConfig(**QUICK), task=TASK)
    assert result.data_summary["unknown_class_pixels"] == 1
    (note,) = result.data_summary["unknown_class_notes"]
    assert "em stack" in note and "label 3" in note and "t=1, y=50, x=60" in note
    assert "1 mitochondria, 2 membrane" in note and "erase" in note


def test_mostly_unknown_ids_refuse_the_round():
    image, labels = class_map_stack()
    labels[labels > 0] += 5  # (instance-like ids, no class of the model)
    example = TrainingExample(image, labels, name="cells", axes="TYX")
    with pytest.raises(UnknownClassError, match=r"Cannot train: cells: .*labels 6, 7 .*"
                                                r"no class of this model"):
        finetune(tiny_semantic_net(), [example], FinetuneConfig(**QUICK), task=TASK)


def test_held_out_scores_give_dice_per_class():
    image, labels = class_map_stack()
    example = TrainingExample(image, labels, name="em stack")
    result = finetune(tiny_semantic_net(), [example], FinetuneConfig(**QUICK), task=TASK)
    per_class = result.metrics_after["class_dice"]
    assert set(per_class) == {"mitochondria", "membrane"}
    assert all(0.0 <= v <= 1.0 for v in per_class.values())
    names = [row[0] for row in held_out_rows(result.metrics_before, result.metrics_after)]
    assert names[names.index("mean Dice") + 1:][:2] == ["Dice mitochondria", "Dice membrane"]
