"""A round's pace as the Train panel tells it: the engine reports the starting model's scores
before the first (slow) step, and the verdict of a round from an untrained network, or of a
very short one, says what it is worth."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import tifffile
import torch

from unet_studio.app.qt.train_pace import (
    SCRATCH_KEY,
    pace_seconds,
    round_ends,
    scratch_metadata,
    short_round_note,
    steps_from_scratch,
    time_left_text,
)
from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, iter_finetune
from unet_studio.models.training.session import Session


def test_the_starting_scores_are_reported_before_the_first_step(test_data_dir, monkeypatch):
    """``report_start``: step 0 comes as soon as the scoring before ends (a GUI heard nothing
    until the first step ended: on a CPU, 23 s of a 3D network said to be "scoring")."""
    steps_taken = []
    real = Session.train_step
    monkeypatch.setattr(Session, "train_step",
                        lambda self, lr: steps_taken.append(lr) or real(self, lr))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :128, :128]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :128, :128].astype(np.int32)
    torch.manual_seed(0)
    config = FinetuneConfig(max_seconds=None, max_steps=2, batch_size=2, patch_size=48,
                            val_every=2, device="cpu", checkpoint_seconds=0.0, val_fraction=0.3)
    rounds = iter_finetune(build_model("unet", base_channels=4, depth=2),
                           [TrainingExample(image, labels, name="hela")], config,
                           report_start=True)
    first = next(rounds)
    assert not steps_taken  # (before the first step)
    assert first.step == 0 and first.validated and math.isnan(first.loss)
    rest = list(rounds)
    assert [p.step for p in rest] == [1, 2]


def _report(step, elapsed, remaining, fraction=0.5, validated=False):
    return SimpleNamespace(step=step, elapsed=elapsed, remaining=remaining, fraction=fraction,
                           validated=validated)


def test_a_step_longer_than_what_is_left_ends_the_round_and_says_so():
    reports = [_report(0, 20.0, 40.0), _report(1, 50.0, 10.0)]  # (the first step: 30 s)
    pace = pace_seconds(reports)
    assert pace == 30.0 and round_ends(reports[-1], pace)
    assert time_left_text(reports[-1], pace) == (
        "; about 10 s left, less than one step takes (about 30 s): scoring the new model on "
        "held-out data, then the round ends")
    assert time_left_text(_report(1, 50.0, 45.0), pace) == ", about 45 s left"
    over = _report(1, 70.0, 0.0, fraction=1.0)  # (past the budget, its scoring still to come)
    assert time_left_text(over, pace).startswith("; the time budget is used up (one step")
    assert time_left_text(_report(1, 80.0, 0.0, fraction=1.0, validated=True), pace) == ""


def test_a_model_stays_essentially_untrained_for_its_first_hundreds_of_steps():
    assert steps_from_scratch({"untrained": True}) == 0
    assert steps_from_scratch({"name": "nuclei"}) is None  # (a trained model)
    first = scratch_metadata({"untrained": True}, 1)
    assert first == {SCRATCH_KEY: 1} and scratch_metadata(first, 2) == {SCRATCH_KEY: 3}
    assert scratch_metadata(first, 1000) == {}  # (trained from then on)
    result = SimpleNamespace(steps=1, config=SimpleNamespace(max_seconds=90.0), elapsed=80.0)
    parent = SimpleNamespace(name="nuc3d-ft", metadata=first)  # (a round of 1 step before)
    note = short_round_note(result, parent, pace=23.0)
    assert "nuc3d-ft had had only 1 step since its random weights: after 1 step the new " \
           "model is still essentially untrained" in note
    assert "(500 at this round's pace, about 23 s a step: about 3 h 12 min)" in note
    trained = SimpleNamespace(name="nuclei", metadata={})
    assert "Only 1 step: the new model has barely moved from nuclei" in short_round_note(
        result, trained, pace=None)
    assert short_round_note(SimpleNamespace(steps=40), trained, pace=1.0) == ""


def test_a_round_past_its_budget_says_why_once():
    from unet_studio.app.qt.train_pace import overrun_note

    result = SimpleNamespace(elapsed=92.0, config=SimpleNamespace(max_seconds=60.0))
    text = overrun_note(result, 21.0)
    assert "one takes about 21 s here" in text and "about about" not in text


def test_a_steps_loss_is_called_the_training_loss_as_on_the_plot():
    """The status line's loss of a step is the training loss (patches with objects), which
    sits above the held-out loss: a bare "loss 2.6" beside a held-out loss of 0.35 read as
    training making the model worse."""
    from unet_studio.app.qt.train_pace import step_text

    progress = SimpleNamespace(step=3, smoothed_loss=0.41213, val_metric=0.7, remaining=None)
    assert step_text(progress, None).startswith("Step 3: training loss 0.4121, held-out score 0.700")
