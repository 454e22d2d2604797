"""``unet-studio finetune`` on a network with random weights (``--new``, or a model built
untrained): random weights are no result, so they are never what the run saves.

The engine keeps the best held-out weights, and the starting ones count: a short run from
random weights (9 steps of a 3D U-Net in 90 s on a CPU) often beats them on nothing, and then
saved them as a "trained" model, its card saying 9 steps. Here the run saves the best
held-out step after the start (else its last), records how far from random weights that is
(``steps_from_scratch``, as the Train panel records it), and keeps its checkpoint: the same
command run again goes on from there, with its budget on top (``KEPT_FILE`` tells such a
finished run from a crashed one, which resumes with what its budget has left).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

# In OUT/.checkpoints: the run there finished and saved OUT's model, which it goes on from.
KEPT_FILE = "kept-to-go-on.json"


def starts_untrained(net, parent: dict | None) -> bool:
    """Does the run start from random weights: a network built here (no parent) or a model
    whose metadata marks it untrained (built in the Models panel)?"""
    from unet_studio.app.model_checks import is_untrained

    return parent is None or is_untrained(getattr(net, "metadata", None))


class TrainedSteps:
    """The best held-out weights of the steps after the start, watched as the run reports
    (at each validated report the network holds that step's weights): ranked by the
    held-out loss, as the command's runs rank (``select_best_by="val_loss"``)."""

    def __init__(self):
        self.step, self.weights, self.metrics = 0, None, {}

    def watch(self, net, progress) -> None:
        if not progress.validated or progress.step < 1 or progress.val_loss is None:
            return
        if self.weights is not None and not progress.val_loss < self.metrics["val_loss"]:
            return
        self.step = progress.step
        self.metrics = {"val_loss": progress.val_loss}
        if progress.val_metric is not None:
            self.metrics["val_metric"] = progress.val_metric
        self.weights = {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}


def trained_result(result, steps: TrainedSteps, checkpoints: Path):
    """``result`` with the weights of ``steps`` in place of the random starting ones the
    engine kept (its ``best_step`` 0), their held-out metrics (all of them when the
    checkpoint's last scoring was of that step, else the loss and score the run reported),
    and ``extra["no_step_beat_start"]``. ``result`` itself where a step beat the start, or
    where no step was scored (then the model is marked untrained: see ``scratch_metadata``)."""
    if result.best_step != 0 or steps.weights is None:
        return result
    result.net.load_state_dict(steps.weights)
    from unet_studio.app.commands.finetune_report import checkpoint_document

    document = checkpoint_document(checkpoints) or {}
    metrics = steps.metrics
    if document.get("step") == steps.step and document.get("latest_val"):
        metrics = document["latest_val"]
    return replace(result, best_step=steps.step, metrics_after=dict(metrics),
                   extra={**result.extra, "no_step_beat_start": True})


def scratch_metadata(net, parent: dict | None, result) -> dict:
    """What the saved model records of its steps since random weights (the Train panel's
    ``steps_from_scratch``, or ``untrained`` for weights no step changed): those of its
    starting model plus the step whose weights it holds. {} for a trained model."""
    from unet_studio.app.model_checks import UNTRAINED_KEY
    from unet_studio.app.model_checks import scratch_metadata as steps_record

    starting = {UNTRAINED_KEY: True} if parent is None else getattr(net, "metadata", None)
    if starts_untrained(net, parent) and result.best_step == 0:
        return {UNTRAINED_KEY: True}  # (no step's weights were kept: still random)
    return steps_record(starting, result.best_step)


def keep_to_go_on(checkpoints: Path, output: Path, result) -> bool:
    """After saving: mark the run in ``checkpoints`` as one to go on from (its model is
    ``output``'s), when it holds the run's last step; whether it does."""
    from unet_studio.app.commands.finetune_report import checkpoint_step
    from unet_studio.models.weights import WEIGHTS_FILE, weights_sha256

    saved = checkpoint_step(checkpoints)
    if saved is None or saved["step"] != result.steps:
        return False
    record = {"model_sha256": weights_sha256(output / WEIGHTS_FILE), "step": result.steps}
    try:
        (checkpoints / KEPT_FILE).write_text(json.dumps(record), encoding="utf-8")
    except OSError:
        return False
    return True


def goes_on(output: Path) -> bool:
    """Is ``output``'s model the one a finished run from random weights saved and kept its
    checkpoint to go on from (untouched since)? Then the same command may replace it."""
    from unet_studio.models.weights import WEIGHTS_FILE, weights_sha256

    try:
        record = json.loads((output / ".checkpoints" / KEPT_FILE).read_text("utf-8"))
        return record["model_sha256"] == weights_sha256(output / WEIGHTS_FILE)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def going_on_text(checkpoints: Path, config) -> str:
    """Said before a run goes on from a kept one: from which step, and for how much more."""
    from unet_studio.app.commands.finetune_report import checkpoint_step

    saved = checkpoint_step(checkpoints) or {"step": 0}
    budget = [f"{config.max_seconds:g} s" if config.max_seconds else "",
              f"{config.max_steps} steps" if config.max_steps else "",
              f"{config.epochs} epochs" if config.epochs else ""]
    more = " or ".join(b for b in budget if b)
    return f"going on from step {saved['step']} of the run kept in {checkpoints}, for {more} more"


def still_random_text(result, output: Path, kept: bool) -> str:
    """What the user reads after a run from random weights that no step beat yet: the
    model is a few steps from random weights, and how to go on."""
    before = result.metrics_before.get("val_loss")
    after = result.metrics_after.get("val_loss")
    change = "" if before is None or after is None else \
        f" (held-out loss {before:.4f} -> {after:.4f})"
    text = (f"trained {_steps(result.steps)} from random weights{change}: that is little, a "
            "network trained from scratch needs hundreds to thousands of steps; the model is "
            f"marked as trained only {_steps(result.best_step)}. ")
    if kept:
        return text + ("Run the same command again to go on from there (it resumes from "
                       f"{output / '.checkpoints'}), with a longer --max-seconds for more at "
                       "once.")
    return text + ("No checkpoint could be kept to go on from: run it again with a longer "
                   "--max-seconds.")


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")
