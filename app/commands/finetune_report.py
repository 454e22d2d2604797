"""What ``unet-studio finetune`` tells the user: progress lines (stderr), a resumed run, an
interrupted run's checkpoint, and the result (stdout). Without ``-v``: a user who pressed
Ctrl-C must learn that running the command again resumes, not find it out by chance."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CHECKPOINT = "last.safetensors"  # (the engine's ``checkpoint.LAST``: where a rerun resumes)


def checkpoint_document(checkpoints: Path) -> dict | None:
    """The engine's record of the resumable checkpoint in ``checkpoints`` (step, elapsed,
    latest held-out scores...), or None. Reads only the file's header (no torch, no
    weights)."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.model_folder import check_safetensors_header

    path = checkpoints / CHECKPOINT
    if not path.is_file():
        return None
    try:
        document = json.loads(check_safetensors_header(path)["__metadata__"]["unet_studio"])
    except (InputFileError, KeyError, TypeError, ValueError):
        return None  # (the engine says what is wrong with it when it reads it)
    return document if isinstance(document, dict) else None


def checkpoint_step(checkpoints: Path) -> dict | None:
    """{"step", "elapsed"} of the resumable checkpoint in ``checkpoints``, or None."""
    document = checkpoint_document(checkpoints)
    try:
        return {"step": int(document["step"]), "elapsed": float(document["elapsed"])}
    except (KeyError, TypeError, ValueError):
        return None


def resumed_text(saved: dict | None, first_step: int, total_steps: int | None,
                 max_seconds: float | None) -> str | None:
    """"resuming at step N of M" when the run continues a checkpoint saved at step N (its
    first step is N + 1; a run started afresh over it begins at 1), else None."""
    if saved is None or saved["step"] < 1 or first_step != saved["step"] + 1:
        return None
    if total_steps:
        return f"resuming at step {saved['step']} of {total_steps}"
    budget = f" of the {max_seconds:g} s budget" if max_seconds else ""
    return f"resuming at step {saved['step']} ({saved['elapsed']:.0f} s{budget} used)"


def interrupted_text(checkpoints: Path) -> str | None:
    """What an interrupted run left to resume from (printed before "interrupted")."""
    saved = checkpoint_step(checkpoints)
    if saved is None:
        return None
    return (f"unet-studio: a checkpoint at step {saved['step']} is kept in {checkpoints}: run the "
            "same command again to resume it")


def print_progress(progress) -> None:
    val = "" if progress.val_loss is None else f"  held-out loss {progress.val_loss:.4f}"
    if progress.val_metric is not None:  # (None: no object in the held-out data to score)
        val += f"  held-out score {progress.val_metric:.3f}"
    left = "" if progress.remaining is None else f", {progress.remaining:.0f} s left"
    print(f"step {progress.step}  epoch {progress.epoch:.1f}  loss "
          f"{progress.smoothed_loss:.4f}{val}  {progress.elapsed:.0f} s "
          f"({100 * progress.fraction:.0f}%{left})", file=sys.stderr, flush=True)


def saved_weights_text(result) -> str:
    """Which step's weights the model holds: the best on the held-out data, which is not
    always the last one (nor any: the starting weights may stay the best)."""
    if not result.data_summary.get("val_pixels"):
        return f"saved the weights of the last step, {result.steps} (no held-out data to " \
               "choose the best step by)"
    if result.extra.get("no_step_beat_start"):  # (``finetune_scratch``: not the random ones)
        return f"saved the weights of step {result.best_step} of {result.steps}: no step beat " \
               "the random starting weights on the held-out data yet"
    if result.best_step == 0:
        return "saved the starting weights: no step beat them on the held-out data"
    if result.best_step == result.steps:
        return f"saved the weights of the last step, {result.steps}, the best held-out step"
    return f"saved the weights of the best held-out step, {result.best_step} of {result.steps}"


def report(result, output: Path) -> None:
    from unet_studio.models.training.polarity import polarity_text
    from unet_studio.models.training.progress import stop_text

    keys = ("val_loss", "f1_50", "f1_75", "ap_50", "ap_75", "mean_matched_iou")
    if "f1_50" not in result.metrics_after:
        keys += ("val_metric",)
    print(f"trained {result.steps} steps in a run of {result.elapsed:.1f} s{_resumed_part(result)} "
          f"({stop_text(result.stopped)}) on {result.extra.get('device', 'the device')}")
    shown = [k for k in keys if k in result.metrics_after]
    if polarity_text(result.extra):  # (the "before" scores are of the flipped input too)
        print(polarity_text(result.extra))
    if not shown:
        print("no held-out data: review a larger area to get before/after metrics")
    scored, blocks = result.extra.get("scored_val_crops"), result.extra.get("val_crops")
    if shown and scored is not None and scored < blocks:
        print(f"held-out scores over {scored} of {blocks} held-out blocks (what the time "
              "budget left room for)")
    for key in shown:
        print(f"  {key:18s} before {result.metrics_before.get(key, float('nan')):.4f}"
              f"  after {result.metrics_after[key]:.4f}")
    if result.metrics_after.get("n_true") == 0:
        print(_no_objects_text(result))
    print(saved_weights_text(result))
    verdict = verdict_text(result)
    if verdict:
        print(verdict)
    worse = score_fell_text(result)
    if worse:
        print(worse)
    print(saved_model_text(result, output))


def saved_model_text(result, output: Path) -> str:
    """The last line: where the model went, and that it is the starting model's weights
    when no step beat them (it said "saved fine-tuned model" just after saying so, where
    the Train panel makes no model)."""
    if result.best_step == 0 and result.data_summary.get("val_pixels") \
            and not result.extra.get("no_step_beat_start"):
        return (f"saved the model to {output}: the starting weights, unchanged (the Train "
                "panel makes no model of such a round)")
    return f"saved fine-tuned model to {output}"


def _resumed_part(result) -> str:
    """", 16 of them in the 120.0 s since it resumed at step 8" for a resumed run (its steps
    and seconds count the earlier part too: a 120 s run resumed read "a run of 240.0 s"
    under a 120 s budget), else ""."""
    if result.resumed_at is None:
        return ""
    steps = result.steps - result.resumed_at
    return (f", {steps} of them in the {result.round_elapsed:.1f} s since it resumed at step "
            f"{result.resumed_at}")


# The held-out measures as the CLI's verdict names them, in ``ranking``'s order.
VERDICT_NAMES = {"val_metric": "held-out score", "f1_75": "F1 at IoU 0.75",
                 "mean_matched_iou": "mean IoU of matched objects (the outlines)",
                 "val_loss": "held-out loss"}


def verdict_text(result) -> str:
    """Are the saved weights better than the starting ones on the held-out data, by the
    rule that chose their step (``ranking``: each measure only beyond its margin), and which
    measure decided: a loss 2% lower with outlines drawn worse is no better, and "better by
    the loss" is not "better by the score". "" when nothing was held out or the starting
    weights were kept (``saved_weights_text`` says so)."""
    from unet_studio.models.training.ranking import compare

    if result.best_step == 0 or result.extra.get("no_step_beat_start"):
        return ""
    before, after = result.metrics_before, result.metrics_after
    comparison = compare(after, before, result.config.select_best_by)
    if comparison is None:
        return ""
    if comparison.decided_by is None:
        return ("verdict: not better than the starting model on the held-out data: a tie, "
                "no measure moved beyond its margin")
    key, tied = comparison.decided_by, comparison.compared[:-1]
    word = "better" if comparison.outcome > 0 else "not better"
    tied_text = f"; {', '.join(VERDICT_NAMES[k] for k in tied)} tied" if tied else ""
    return (f"verdict: {word} than the starting model on the held-out data, by the "
            f"{VERDICT_NAMES[key]} ({before[key]:.4f} -> {after[key]:.4f}{tied_text})")


def score_fell_text(result) -> str:
    """A warning when the saved weights score worse on the held-out objects than the
    starting ones (the best step is the one of the lowest held-out loss, which can draw
    fewer objects right: F1 0.727 -> 0.353 was saved without a word); "" otherwise."""
    before, after = result.metrics_before, result.metrics_after
    if "val_metric" not in before or not before.get("n_true", 1) or "val_metric" not in after:
        return ""
    if after["val_metric"] >= before["val_metric"]:
        return ""
    return (f"warning: the held-out score fell ({before['val_metric']:.3f} -> "
            f"{after['val_metric']:.3f}): the saved model may segment worse than the one it "
            "started from; compare them (unet-studio evaluate) before using it")


def _no_objects_text(result) -> str:
    """Why there are no F1/AP figures: the held-out data has no reference object to find
    (the held-out scoring leaves them out rather than calling 0 found of 0 perfect)."""
    before = result.metrics_before.get("n_pred", "?")
    return ("no objects in the held-out data: F1, AP and matched IoU are undefined there, the "
            "held-out loss is the measure (objects predicted in it: "
            f"{before} before, {result.metrics_after['n_pred']} after)")
