"""A round resumed from its checkpoint with its time budget on top (the Train panel's "train
again"): its result tells this round's time from the whole run's, its progress bar starts
empty, and it trains for its own budget. A QA saw "The round took 4 min of its 2 min
budget" for a resumed 2 min round: the checkpoint's seconds were read as this round's."""

import time

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, iter_finetune

BUDGET = 2.0
QUICK = dict(batch_size=2, patch_size=48, val_every=5, device="cpu", checkpoint_seconds=0.0,
             warmup_steps=3, val_fraction=0.3, max_seconds=BUDGET)


def tiny_unet():
    torch.manual_seed(0)
    return build_model("unet", base_channels=4, depth=2)


def _drain(generator):
    """(result, reports, wall seconds from the first call to the result)."""
    start, seen = time.monotonic(), []
    while True:
        try:
            seen.append(next(generator))
        except StopIteration as stop:
            return stop.value, seen, time.monotonic() - start


@pytest.fixture(scope="module")
def two_rounds(test_data_dir, tmp_path_factory):
    """A 2 s round, then the same round trained again (resumed) for 2 s more."""
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :96, :96]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :96, :96].astype(np.int32)
    example = TrainingExample(image, labels, name="hela t0")
    folder = tmp_path_factory.mktemp("checkpoints")
    config = FinetuneConfig(**QUICK)
    first = _drain(iter_finetune(tiny_unet(), [example], config, checkpoint_dir=folder))
    again = _drain(iter_finetune(tiny_unet(), [example], config, checkpoint_dir=folder,
                                 more_time_on_resume=True))
    return first, again


def test_a_resumed_round_tells_its_own_time_from_the_whole_runs(two_rounds):
    (first, _, _), (again, _, wall) = two_rounds
    assert first.resumed_at is None and first.elapsed_before == 0.0
    assert first.round_elapsed == first.elapsed
    assert again.resumed_at == first.steps and again.steps > first.steps
    # (the checkpoint holds the time at its last step; the first run's last scoring comes
    # after it: 0.05 s here, 0.13 s on a loaded machine)
    assert first.elapsed - 0.3 <= again.elapsed_before <= first.elapsed + 0.01
    assert again.elapsed == pytest.approx(again.elapsed_before + again.round_elapsed)
    # this round's own time is its wall time, within its budget (not the run's 4 s and more)
    assert again.round_elapsed <= wall <= 1.3 * BUDGET + 2.0
    assert again.elapsed > 1.5 * BUDGET


def test_a_resumed_round_trains_for_its_own_budget_and_its_bar_starts_empty(two_rounds):
    """The budget check counts this round's seconds only (a resumed round did not stop at
    once), and the bar shows the share of this round's budget (it started half full)."""
    (first, _, _), (again, reports, _) = two_rounds
    assert again.stopped == "max_seconds"
    assert again.round_elapsed >= 0.5 * BUDGET  # (it used its budget, not what was left)
    assert reports[0].fraction < 0.5, [r.fraction for r in reports]
    assert reports[-1].fraction == 1.0
    assert reports[0].remaining > 0.5 * BUDGET


def test_the_verdict_and_the_cli_say_this_rounds_time(two_rounds, tmp_path, capsys):
    from unet_studio.app.commands.finetune_report import report
    from unet_studio.app.qt.train_pace import overrun_note

    (_, _, _), (again, _, _) = two_rounds
    assert again.elapsed > 1.1 * BUDGET  # (read as this round's, it "overran" its budget)
    assert overrun_note(again, pace=0.1) == ""
    report(again, tmp_path / "model")
    line = capsys.readouterr().out.splitlines()[0]
    assert f"{again.steps - again.resumed_at} of them in the {again.round_elapsed:.1f} s " \
           f"since it resumed at step {again.resumed_at}" in line


def test_the_advised_time_counts_this_rounds_loading_and_scoring_once():
    """A round resumed at step 8 that took 16 steps of 5 s in its own 120 s (40 s of loading
    and scoring): 76 more steps take 40 s + 76 x 5 s, 7 min. Read as the run's 240 s and
    24 steps, its fixed part was 120 s (its loading and scoring counted twice)."""
    from types import SimpleNamespace

    from unet_studio.app.qt.train_logic import scratch_kept_text

    history = [{"step": s, "elapsed": 100.0 + 5.0 * s} for s in range(1, 25)]
    result = SimpleNamespace(steps=24, elapsed=240.0, round_elapsed=120.0, resumed_at=8,
                             history=history, stopped="max_seconds", extra={})
    assert "about 7 min more (some 76 steps at this pace)" in scratch_kept_text(result, "m", 8)
