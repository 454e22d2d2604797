"""The round's verdict and its best step say "better" only when a held-out measure moved
beyond its margin (``models.training.ranking``). The figures are a new user's rounds: HeLa
2D (F1 tied, outlines worse, loss 2% lower: was called better) and a 3D crop (F1 and
outlines tied, loss 13% lower: better, by the loss)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample
from unet_studio.models.training.ranking import ranks_better

HELA_BEFORE = {"val_metric": 0.92, "f1_50": 0.92, "f1_75": 0.92, "mean_matched_iou": 0.994,
               "n_pred": 25, "n_true": 25, "val_loss": 0.360}
HELA_AFTER = {**HELA_BEFORE, "mean_matched_iou": 0.985, "val_loss": 0.353}
CELLS3D_BEFORE = {"val_metric": 0.857, "f1_50": 0.857, "f1_75": 0.786,
                  "mean_matched_iou": 0.9103, "n_pred": 13, "n_true": 15, "val_loss": 1.859}
CELLS3D_AFTER = {**CELLS3D_BEFORE, "mean_matched_iou": 0.9101, "val_loss": 1.621}


def test_outlines_drawn_worse_are_not_better_whatever_the_loss():
    from unet_studio.models.training.ranking import compare

    assert not ranks_better(HELA_AFTER, HELA_BEFORE)
    comparison = compare(HELA_AFTER, HELA_BEFORE)
    assert (comparison.outcome, comparison.decided_by) == (-1, "mean_matched_iou")


def test_a_clear_loss_drop_decides_when_scores_and_outlines_tie():
    from unet_studio.models.training.ranking import compare

    assert ranks_better(CELLS3D_AFTER, CELLS3D_BEFORE)
    comparison = compare(CELLS3D_AFTER, CELLS3D_BEFORE)
    assert (comparison.outcome, comparison.decided_by) == (1, "val_loss")
    assert comparison.compared == ("val_metric", "f1_75", "mean_matched_iou", "val_loss")


def test_a_loss_drop_within_its_margin_is_a_tie_not_better():
    after = {**CELLS3D_BEFORE, "val_loss": 1.859 * 0.99}
    assert not ranks_better(after, CELLS3D_BEFORE)
    assert not ranks_better({"val_loss": 0.99}, {"val_loss": 1.0}, "val_loss")
    # A semantic mean Dice moves a little with every step: a rise of 0.002 is no gain.
    dice = {"val_metric": 0.700, "val_loss": 0.5}
    assert not ranks_better({**dice, "val_metric": 0.702}, dice)
    assert ranks_better({**dice, "val_metric": 0.72}, dice)


@pytest.fixture(scope="module")
def session(test_data_dir):
    from unet_studio.models.training.session import Session

    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :96, :96]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :96, :96].astype(np.int32)
    net = build_model("unet", base_channels=4, depth=2)
    config = FinetuneConfig(max_seconds=None, max_steps=6, batch_size=2, patch_size=48,
                            val_every=5, device="cpu", select_best_by="val_metric")
    return Session(net, [TrainingExample(image, labels, name="hela t0")], config)


def test_the_best_step_follows_the_verdict_rule(session):
    """A step that ties its start within the margins, or draws worse outlines at a lower
    loss, does not replace the starting weights: the round keeps them (no new model)."""
    session.best_value = None
    session.step = 0
    assert session.track_best(HELA_BEFORE)
    session.step = 5
    assert not session.track_best(HELA_AFTER) and session.best_step == 0
    assert not session.track_best({**HELA_BEFORE, "val_loss": 0.355}) and session.best_step == 0
    session.step = 10
    assert session.track_best({**HELA_BEFORE, "mean_matched_iou": 0.999})
    assert session.best_step == 10
