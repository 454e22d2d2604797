"""A time budget is the whole round's wall time: the held-out scoring before and after,
validations and saves count, and training stops early enough for what follows its last step.
Unit tests of the reservation logic, then rounds timed from outside."""

import time
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.training import (
    FinetuneConfig,
    TrainingExample,
    finetune,
    iter_finetune,
    validate,
)
from unet_studio.models.training import checkpoint as ckpt
from unet_studio.models.training.schedule import Budget
from unet_studio.models.training.session import Session
from unet_studio.models.training.timing import (
    SCORING_SHARE,
    STEP_WINDOW,
    VALIDATION_SHARE,
    TimePlan,
    crops_that_fit,
    scoring_allowance,
    scoring_estimate,
    training_fraction,
)

QUICK = dict(batch_size=2, patch_size=48, val_every=5, device="cpu", checkpoint_seconds=0.0,
             warmup_steps=3, val_fraction=0.3)


def within_budget(budget: float) -> float:
    """How long a round of ``budget`` seconds may take on a loaded two-core CI machine."""
    return 1.3 * budget + 2.0


# -- the reservation logic -------------------------------------------------------------------
def test_the_end_of_the_round_is_reserved_from_what_was_measured():
    plan = TimePlan()
    assert plan.reserve() == 0.0 and plan.ahead() == 0.0  # nothing measured yet
    plan.record_eval(2.0)  # the "before" scoring (with the network's warm-up)
    plan.record_save(0.25)
    assert plan.reserve() == pytest.approx(2.25)
    plan.record_eval(0.5)  # a validation: the latest scoring is the best guess
    assert plan.reserve() == pytest.approx(0.75)
    for seconds in (2.5, 0.2, 0.3):  # the first step warms up
        plan.record_step(seconds)
    assert plan.step_estimate() == pytest.approx(1.0)  # the mean of the last few steps
    for _ in range(STEP_WINDOW):
        plan.record_step(0.2)
    assert plan.step_estimate() == pytest.approx(0.2)  # the warm-up step has left the window
    assert plan.ahead() == pytest.approx(0.2 + 0.75)
    assert plan.fits(10.0, 11.0) and not plan.fits(10.1, 11.0)
    assert plan.fits(1e9, None)  # no time budget: steps and epochs only


def test_the_plan_travels_with_a_checkpoint():
    plan = TimePlan(eval_seconds=1.5, save_seconds=0.1)
    again = TimePlan.from_dict(plan.to_dict())
    assert again.reserve() == pytest.approx(1.6)
    assert TimePlan.from_dict(None).reserve() == 0.0  # a checkpoint from before the plan


def test_a_step_is_not_started_when_it_and_the_end_of_the_round_would_not_fit():
    config = FinetuneConfig(max_seconds=10.0)
    budget = Budget.from_config(config, steps_per_epoch=4)
    assert budget.stop_reason(5, 8.0, config) is None
    assert budget.stop_reason(5, 8.0, config, ahead=2.5) == "max_seconds"
    assert budget.stop_reason(5, 7.0, config, ahead=2.5) is None
    steps = FinetuneConfig(max_seconds=None, max_steps=6)
    by_steps = Budget.from_config(steps, steps_per_epoch=4)
    assert by_steps.stop_reason(5, 1e6, steps, ahead=1e6) is None  # no wall-time budget
    assert by_steps.stop_reason(6, 0.0, steps) == "max_steps"


def test_validations_are_kept_to_a_share_of_the_training_time():
    plan = TimePlan()
    assert plan.validation_worth_it(0.0)  # not measured: validate
    plan.record_eval(1.0)
    needed = (1 - VALIDATION_SHARE) / VALIDATION_SHARE  # seconds of training per second scoring
    assert not plan.validation_worth_it(0.9 * needed)
    assert plan.validation_worth_it(needed)


def test_scoring_stops_when_the_next_crop_would_not_fit():
    assert scoring_allowance(None) is None and scoring_allowance(60.0) == SCORING_SHARE * 60
    assert crops_that_fit([], 0.1)  # the first crop is always scored
    assert crops_that_fit([1.0] * 50, None)  # no time budget: every crop
    assert crops_that_fit([0.5, 0.5], 1.5) and not crops_that_fit([0.5, 0.5, 0.5], 1.5)
    assert not crops_that_fit([2.0], 1.5)  # the first crop alone used it up
    # The first crop warms up (lazy imports, first pass): the others are judged without it.
    assert crops_that_fit([1.4], 1.5)
    assert crops_that_fit([1.4, 0.1, 0.1], 1.5) and scoring_estimate([1.4, 0.1, 0.1]) == (
        pytest.approx(0.3))
    assert not crops_that_fit([1.4] + [0.1] * 14, 1.5)  # 15 warm crops fill it
    assert scoring_estimate([0.7]) == 0.7 and scoring_estimate([]) == 0.0


def test_the_learning_rate_schedule_runs_over_the_training_time():
    # The round: 3 s of loading and scoring, training, 2 s kept for the end, 15 s in all.
    assert training_fraction(3.0, started=3.0, max_seconds=15.0, reserve=2.0) == 0.0
    assert training_fraction(8.0, started=3.0, max_seconds=15.0, reserve=2.0) == 0.5
    assert training_fraction(13.0, started=3.0, max_seconds=15.0, reserve=2.0) == 1.0
    assert training_fraction(4.0, started=3.0, max_seconds=4.0, reserve=2.0) == 1.0  # no room
    budget = Budget.from_config(FinetuneConfig(max_seconds=15.0, max_steps=100), 4)
    assert budget.schedule_fraction(80, 8.0, started=3.0, reserve=2.0) == 0.8  # steps lead
    assert budget.schedule_fraction(10, 8.0, started=3.0, reserve=2.0) == 0.5  # time leads
    assert budget.fraction(10, 7.5) == 0.5  # the progress bar: the whole round


# -- rounds timed from outside ----------------------------------------------------------------
@pytest.fixture(scope="module")
def frame(test_data_dir):
    image = tifffile.imread(test_data_dir / "train_img.tif")[0]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0].astype(np.int32)
    return TrainingExample(image, labels, name="hela t0")


def tiny_unet():
    torch.manual_seed(0)
    return build_model("unet", base_channels=4, depth=2)


@pytest.fixture
def slow_scoring(monkeypatch):
    """Held-out scoring that costs ``slow_scoring.seconds`` per crop (as a large model's
    does on a CPU); ``slow_scoring.crops`` has one entry per crop scored."""
    labels = validate._instance_labels
    state = SimpleNamespace(seconds=0.6, crops=[])

    def slow(probabilities, options):
        time.sleep(state.seconds)
        state.crops.append(probabilities.shape)
        return labels(probabilities, options)

    monkeypatch.setattr(validate, "_instance_labels", slow)
    return state


def _drain(generator):
    seen = []
    while True:
        try:
            seen.append(next(generator))
        except StopIteration as stop:
            return stop.value, seen


def test_a_round_with_slow_scoring_ends_within_its_budget(frame, slow_scoring):
    """4 s: the round, from the call to the result with its "after" scores, takes about 4 s
    (before this, the scorings came on top: 2 s before, 2 s after, and validations)."""
    budget = 4.0
    config = FinetuneConfig(**QUICK, max_seconds=budget)
    start = time.monotonic()
    result, seen = _drain(iter_finetune(tiny_unet(), [frame], config))
    wall = time.monotonic() - start
    assert wall <= within_budget(budget), f"a {budget} s round took {wall:.1f} s"
    assert result.stopped == "max_seconds" and result.steps >= 1
    assert result.elapsed <= wall and {"val_loss", "f1_50"} <= set(result.metrics_after)
    assert result.extra["val_crops"] >= 2
    scored = result.extra["scored_val_crops"]
    assert 1 <= scored < result.extra["val_crops"]  # the scoring was bounded
    assert len(slow_scoring.crops) % scored == 0  # every scoring went over the same crops
    assert seen[-1].fraction == 1.0 and seen[-1].validated and seen[-1].remaining is not None


def test_a_budget_that_scores_one_crop_scores_one_holding_objects(frame, slow_scoring):
    """Under a tight budget one held-out crop is scored: one holding reference objects (an
    empty one gives no F1 at all: the scores were left out and only the loss compared)."""
    slow_scoring.seconds = 3.0  # (a crop takes most of the scoring's share: one fits)
    config = FinetuneConfig(**QUICK, max_seconds=4.0)
    result, _ = _drain(iter_finetune(tiny_unet(), [frame], config))
    assert result.extra["scored_val_crops"] == 1 < result.extra["val_crops"]
    assert "f1_50" in result.metrics_before and "f1_50" in result.metrics_after


def test_a_time_budget_smaller_than_a_step_still_trains_once(frame):
    result = finetune(tiny_unet(), [frame], FinetuneConfig(**QUICK, max_seconds=0.01))
    assert result.stopped == "max_seconds" and result.steps == 1
    assert result.metrics_after and result.metrics_before


def test_step_budgets_score_every_crop_and_validate_on_cadence(frame, slow_scoring):
    """Without a wall-time budget nothing changes: every held-out crop, every validation."""
    slow_scoring.seconds = 0.0
    config = FinetuneConfig(**{**QUICK, "max_seconds": None, "max_steps": 6,
                               "val_every": 3})
    result = finetune(tiny_unet(), [frame], config)
    crops = result.extra["val_crops"]
    assert result.extra["scored_val_crops"] == crops
    assert [h["step"] for h in result.history if h["validated"]] == [3, 6]
    assert len(slow_scoring.crops) == 3 * crops  # before, step 3, step 6


def test_a_resumed_round_scores_the_same_crops(frame, slow_scoring, tmp_path):
    config = FinetuneConfig(**{**QUICK, "max_seconds": 3.0, "val_every": 2})
    generator = iter_finetune(tiny_unet(), [frame], config, checkpoint_dir=tmp_path)
    next(generator)
    generator.close()  # cancelled: the checkpoint holds the crops scored
    _, document = ckpt.load_checkpoint(tmp_path / ckpt.LAST)
    indices = document["scored_val_crops"]
    assert indices and document["timing"]["eval_seconds"] > 0
    session = Session(tiny_unet(), [frame], config, checkpoint_dir=tmp_path)
    assert session.restore()
    assert session.held_out.crops == [session.data.val[i] for i in indices]
    assert session.plan.reserve() >= document["timing"]["eval_seconds"]
