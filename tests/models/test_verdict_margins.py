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


def test_outlines_drawn_worse_are_not_better_whatever_the_loss(qa_rounds):
    from unet_studio.models.training.ranking import compare

    assert not ranks_better(qa_rounds.hela_after, qa_rounds.hela_before)
    comparison = compare(qa_rounds.hela_after, qa_rounds.hela_before)
    assert (comparison.outcome, comparison.decided_by) == (-1, "mean_matched_iou")


def test_a_clear_loss_drop_decides_when_scores_and_outlines_tie(qa_rounds):
    from unet_studio.models.training.ranking import compare

    assert ranks_better(qa_rounds.cells3d_after, qa_rounds.cells3d_before)
    comparison = compare(qa_rounds.cells3d_after, qa_rounds.cells3d_before)
    assert (comparison.outcome, comparison.decided_by) == (1, "val_loss")
    assert comparison.compared == ("val_metric", "f1_75", "mean_matched_iou", "val_loss")


def test_a_loss_drop_within_its_margin_is_a_tie_not_better(qa_rounds):
    after = {**qa_rounds.cells3d_before, "val_loss": 1.859 * 0.99}
    assert not ranks_better(after, qa_rounds.cells3d_before)
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


def test_the_best_step_follows_the_verdict_rule(session, qa_rounds):
    """A step that ties its start within the margins, or draws worse outlines at a lower
    loss, does not replace the starting weights: the round keeps them (no new model)."""
    session.best_value = None
    session.step = 0
    assert session.track_best(qa_rounds.hela_before)
    session.step = 5
    assert not session.track_best(qa_rounds.hela_after) and session.best_step == 0
    assert not session.track_best({**qa_rounds.hela_before, "val_loss": 0.355}) and session.best_step == 0
    session.step = 10
    assert session.track_best({**qa_rounds.hela_before, "mean_matched_iou": 0.999})
    assert session.best_step == 10
