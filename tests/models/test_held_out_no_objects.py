"""Held-out scoring when the held-out reviewed data holds no object: no F1/AP to report.

0 objects found of 0 is not a perfect score: a model that finds nothing anywhere would
otherwise score F1 1.0 there, and "F1 1.000, mean matched IoU 0.000" reads as nonsense.
"""

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune
from unet_studio.models.training.lineage import lineage_metadata

QUICK = dict(max_seconds=None, max_steps=1, batch_size=2, patch_size=48, val_every=5,
             device="cpu", checkpoint_seconds=0.0, warmup_steps=0)
UNDEFINED_WITHOUT_OBJECTS = ("f1_50", "f1_75", "ap_50", "ap_75", "precision_50", "recall_50",
                             "mean_matched_iou", "val_metric")


@pytest.fixture(scope="module")
def background_only(test_data_dir):
    """A reviewed crop of a real image whose corrected labels hold no object."""
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :96, :96]
    return TrainingExample(image, np.zeros(image.shape, np.int32), name="empty")


@pytest.mark.parametrize("select_best_by", ["val_loss", "val_metric"])
def test_no_reference_object_leaves_the_object_scores_out(background_only, select_best_by):
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2)
    result = finetune(net, [background_only],
                      FinetuneConfig(**QUICK, select_best_by=select_best_by))
    assert result.extra["val_crops"] >= 1  # (the held-out data was scored)
    for metrics in (result.metrics_before, result.metrics_after):
        assert metrics["n_true"] == 0 and np.isfinite(metrics["val_loss"])
        assert metrics["n_pred"] >= 0
        assert not set(UNDEFINED_WITHOUT_OBJECTS) & set(metrics), metrics
    card = lineage_metadata(result, name="empty")["card"]
    # (as the Train panel's table: "objects reviewed 0 | 0" read as "the model finds nothing")
    assert "| no objects held out | – | – |" in card and "F1" not in card
    assert "objects reviewed" not in card
