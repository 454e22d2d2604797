"""Ending a fine-tuning round early *with* a result (no widgets here).

A cancelled round ends without a result: its checkpoint is kept and the next round resumes
it. Closing the window during a round, the user may ask to keep what the round learnt as a
model instead (the close question's Save): :func:`finishing_early` then stops the engine
between two steps exactly as a cancel does (its cleanup writes the checkpoint and puts the
best weights back into the network) and returns a ``FinetuneResult`` read from that
checkpoint, so that the round is saved like any finished one.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path

STOPPED_EARLY = "the window was closed"  # FinetuneResult.stopped of such a round


def finishing_early(inner: Generator, finish: threading.Event, net, config,
                    checkpoint_dir: Path | None) -> Generator:
    """Forward the fine-tuning generator ``inner`` (progress out, its result returned);
    once ``finish`` is set, stop it after the current step and return the result of the
    best weights so far. A cancel (``close()``) reaches ``inner`` in this same thread."""
    try:
        while True:
            try:
                progress = inner.send(None)
            except StopIteration as stop:
                return stop.value
            yield progress
            if finish.is_set() and progress.step > 0:  # (step 0: nothing learnt to save yet)
                break
    finally:
        inner.close()  # (no-op once it returned; else the engine's cancel cleanup, here)
    return result_from_checkpoint(net, config, checkpoint_dir)


def result_from_checkpoint(net, config, checkpoint_dir: Path | None):
    """The FinetuneResult of a round stopped early: ``net`` (holding the best weights) with
    the metrics, history and data summary of its last checkpoint. ValueError without one."""
    from unet_studio.models.training.checkpoint import LAST, load_checkpoint
    from unet_studio.models.training.progress import FinetuneResult

    if checkpoint_dir is None or not (Path(checkpoint_dir) / LAST).is_file():
        raise ValueError("the round stopped before its first checkpoint; nothing to save")
    _, document = load_checkpoint(Path(checkpoint_dir) / LAST)
    return FinetuneResult(
        net=net, history=document["history"], metrics_before=document["metrics_before"] or {},
        metrics_after=document["best_metrics"] or {}, config=config,
        data_summary=document["fingerprint"]["data"], best_step=document["best_step"] or 0,
        steps=document["step"], elapsed=document["elapsed"], stopped=STOPPED_EARLY,
        checkpoint_dir=Path(checkpoint_dir),
    )  # fmt: skip


def score_change(result) -> str:
    """"F1, IoU 0.5 0.412 -> 0.530" for the close question: the first held-out score both
    sides have ("" when none was measured)."""
    from unet_studio.models.training.lineage import held_out_rows

    for name, _meaning, before, after in held_out_rows(result.metrics_before,
                                                       result.metrics_after):
        if isinstance(before, float) and isinstance(after, float):
            return f", {name} {before:.3f} -> {after:.3f}"
    return ""
