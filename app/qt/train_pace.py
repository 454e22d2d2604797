"""What the Train panel says of a round's pace (no widgets here): the status while it trains
and what its verdict adds when the round was too short to mean much.

On a CPU one step of a 3D network takes tens of seconds (23 s for a base-8, depth-3 U-Net on
a 32x128x128 patch, batch 4). A round always takes one step, even when that step does not fit
in what is left of its budget, so "about 5 s left" must not be said while a 40 s step runs;
and one step on random weights that moves the held-out loss from 5.236 to 5.228 is "better"
by the rule, yet the model is as untrained as before. Both are said here, with the pace
measured in the round itself.
"""

from __future__ import annotations

import math

from unet_studio.app.model_checks import (  # noqa: F401  (kept here for the Train panel's imports)
    SCRATCH_KEY,
    SCRATCH_STEPS,
    is_untrained,
    scratch_metadata,
    steps_from_scratch,
)
from unet_studio.app.time_left import duration_text

# Fewer steps than this from a trained model barely move it (said under the verdict).
FEW_STEPS = 10
# A held-out gain that no noise explains: the score (object F1 at IoU 0.5, or mean Dice)
# up by this much, over at least this many reference objects. Then a network short of
# SCRATCH_STEPS has learnt something, whatever its step count: a phase-contrast model from
# scratch went from F1 0.000 to 0.533 on 4 objects in 243 steps, and found 15 of 17 cells
# in a frame it had never seen, while the verdict called it "still essentially untrained".
CLEAR_GAIN = 0.2
CLEAR_GAIN_OBJECTS = 3
# The bundled model suits these images only (its card: fluorescence nuclei); advised for
# a network from scratch on those alone, never for, say, phase-contrast bacteria.
BUNDLED_FITS = ("if your images are fluorescent nuclei, fine-tune the bundled 2D model "
                "instead (it was trained on those)")


def pace_seconds(reports) -> float | None:
    """Seconds per training step from a round's reports (TrainProgress, in order): from the
    step-0 report (the scoring before training has ended) or the first step, to the last
    step; validations between count. None before a step has been timed."""
    first_seen: dict[int, float] = {}
    for report in reports:
        # (a step's "after" scoring comes as a second report of that step: the first counts)
        first_seen.setdefault(report.step, report.elapsed)
    if len(first_seen) < 2:
        return None
    first, last = min(first_seen), max(first_seen)
    seconds = (first_seen[last] - first_seen[first]) / (last - first)
    return seconds if seconds > 0 else None


def scores_text(progress) -> str:
    """", held-out score 0.412" (or "" without one)."""
    return "" if progress.val_metric is None else f", held-out score {progress.val_metric:.3f}"


def _starting_scores_text(progress) -> str:
    """" (held-out score 0.412, held-out loss 0.662)" after "Scored the starting model". An
    instance model's held-out blocks without a reviewed object have no object score (the
    engine leaves it out), and a bare "no score" there read as a failure until the verdict
    explained it at the end: said now, with what the round is scored by instead."""
    loss = "" if progress.val_loss is None else f"held-out loss {progress.val_loss:.3f}"
    if progress.val_metric is None and loss:
        return f" by its {loss} (no objects in the held-out blocks to count)"
    parts = [text for text in (scores_text(progress)[2:], loss) if text]
    return f" ({', '.join(parts) or 'no score'})"


def before_training_text(progress) -> str:
    """The status once the starting model is scored (the step-0 report) while step 1 runs:
    its length is not known yet, so no time left is promised."""
    left = "" if progress.remaining is None else \
        f"; {seconds_text(progress.remaining)} of the time budget left"
    return (f"Scored the starting model{_starting_scores_text(progress)}; "
            f"training step 1{left} (a round takes at least one step, even when it runs past "
            "its budget; how long one takes is measured now)…")


def round_ends(progress, pace: float | None) -> bool:
    """Does the round end after this step (one more, at ``pace``, would not fit what is
    left)? Its last held-out scoring then runs before the next report."""
    remaining = progress.remaining
    return (remaining is not None and not _final(progress) and pace is not None
            and remaining < pace)


def _final(progress) -> bool:
    """The round's last report, after its last scoring (a step past the budget reads a full
    fraction too, but its scoring is still to come)."""
    return progress.fraction >= 1 and progress.validated


def time_left_text(progress, pace: float | None) -> str:
    """What a step's status says of the time left: ", about 40 s left" while another step
    fits, else that the round ends (its last scoring runs now) and why."""
    remaining = progress.remaining
    if remaining is None or _final(progress):
        return ""
    if not round_ends(progress, pace):
        return f", about {duration_text(remaining)} left"
    step = seconds_text(pace)
    budget = (f"the time budget is used up (one step takes {step})" if remaining <= 0 else
              f"{seconds_text(remaining)} left, less than one step takes ({step})")
    return f"; {budget}: scoring the new model on held-out data, then the round ends"


def step_text(progress, pace: float | None) -> str:
    """"Step 3: training loss 0.4121, held-out score 0.700, about 40 s left" (or that it
    ends): "training" as the plot's legend says (the held-out loss sits lower)."""
    loss = progress.smoothed_loss
    said = f"training loss {loss:.4f}" if math.isfinite(loss) else "scoring the model before training"
    return f"Step {progress.step}: {said}{scores_text(progress)}{time_left_text(progress, pace)}"


def short_round_note(result, parent, pace: float | None) -> str:
    """What the verdict adds when the round means little (Accept stays possible): a network
    still short of ``SCRATCH_STEPS`` since random weights is still essentially untrained
    unless its held-out score rose clearly (then: it goes on gaining, train it again); a
    trained one moved by fewer than ``FEW_STEPS`` steps has barely changed. "" otherwise."""
    from unet_studio.app.class_map import model_classes
    from unet_studio.app.qt.train_logic import ADVISED_STEPS

    steps = _steps(result.steps)
    before = steps_from_scratch(getattr(parent, "metadata", None))
    if before is not None and before + result.steps < SCRATCH_STEPS:
        origin = ("was untrained (random weights)" if before == 0 else
                  f"had had only {_steps(before)} since its random weights")
        needs = f"hundreds to thousands of steps{_taking(SCRATCH_STEPS, pace)}"
        if clear_held_out_gain(result):  # (its figures say it learnt: never contradicted)
            return (f" {parent.name} {origin}: after {steps} the new model scores clearly "
                    f"better on the held-out data, yet a network trained from scratch goes on "
                    f"gaining for {needs}: accept it and train it again, or give it a longer "
                    "time budget.")
        # (the bundled model outputs objects: no advice for a semantic model's classes)
        bundled = "" if model_classes(parent) else f"; {BUNDLED_FITS}"
        return (f" {parent.name} {origin}: after {steps} the new model is still essentially "
                f"untrained (its held-out score did not rise clearly). A network trained from "
                f"scratch needs {needs}: give it a much longer time budget or train it on a "
                f"GPU{bundled}.")
    if result.steps < FEW_STEPS:
        return (f" Only {steps}: the new model has barely moved from {parent.name}; some "
                f"{ADVISED_STEPS} steps{_taking(ADVISED_STEPS, pace)} change it clearly.")
    return ""


def clear_held_out_gain(result) -> bool:
    """Did the round's held-out score rise by at least ``CLEAR_GAIN``, over at least
    ``CLEAR_GAIN_OBJECTS`` reference objects (a Dice score, without objects: by the gain)?"""
    before = getattr(result, "metrics_before", None) or {}
    after = getattr(result, "metrics_after", None) or {}
    if "val_metric" not in before or "val_metric" not in after:
        return False
    if "n_true" in before and before["n_true"] < CLEAR_GAIN_OBJECTS:
        return False
    return after["val_metric"] - before["val_metric"] >= CLEAR_GAIN


def overrun_note(result, pace: float | None) -> str:
    """What the verdict adds when the round ran well past its time budget: why (it takes at
    least one step, and one takes longer than what was left). "" otherwise. The round's
    time is this click's: a resumed round's budget is on top of what it had used before
    (``iter_finetune(more_time_on_resume=True)``), which "the round took" does not count."""
    budget = result.config.max_seconds
    took = round_seconds(result)
    if budget is None or took <= 1.1 * budget:
        return ""
    step = "" if pace is None else f", and one takes {seconds_text(pace)} here"
    return (f" The round took {seconds_text(took, about='')} of its "
            f"{seconds_text(budget, about='')} budget: it takes at least one step{step}.")


def round_seconds(result) -> float:
    """This round's own wall time: ``FinetuneResult.round_elapsed`` (a resumed round's
    ``elapsed`` counts the run's earlier part too); a result without it (one read back from
    the history) is taken as a fresh round's."""
    return getattr(result, "round_elapsed", result.elapsed)


def round_steps(result) -> int:
    """The steps this round took: a resumed round's ``steps`` count the run's earlier ones."""
    return result.steps - (getattr(result, "resumed_at", None) or 0)


def seconds_text(seconds: float, about: str = "about ") -> str:
    """"about 3 s", "about 2 min": a short time to the second (``duration_text`` rounds up to
    5 s: "about 5 s" was said of a 2 s budget and of a 3 s step), longer ones as it does;
    "under a second" below one."""
    if seconds < 1:
        return "under a second"
    if seconds < 55:
        return f"{about}{round(seconds)} s"
    return f"{about}{duration_text(seconds)}"


def _taking(steps: int, pace: float | None) -> str:
    """" (500 steps at this round's pace, about 23 s a step: about 3 h 12 min)", or ""."""
    if pace is None:
        return ""
    return (f" ({steps} at this round's pace, {seconds_text(pace)} a step: about "
            f"{duration_text(steps * pace)})")


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")
