"""Ending a fine-tuning round early *with* a result (no widgets here).

A cancelled round ends without a result: its checkpoint is kept and the next round resumes
it. Closing the window during a round, the user may ask to keep what the round learnt as a
model instead (the close question's Save): :func:`finishing_early` then ends the engine
between two steps (``FinishEarly``: it writes its checkpoint and puts the best weights back
into the network, as a cancel does) and returns the engine's own ``FinetuneResult``, so that
the round is saved like any finished one. The result comes from memory, not from the
checkpoint: on a full disk or a read-only project no checkpoint may exist, and the trained
network must not be lost then (close_guard's Save promises to keep it).
"""

from __future__ import annotations

import threading
from collections.abc import Generator

STOPPED_EARLY = "the window was closed"  # FinetuneResult.stopped of such a round


def finishing_early(inner: Generator, finish: threading.Event) -> Generator:
    """Forward the fine-tuning generator ``inner`` (``iter_finetune``: progress out, its
    result returned); once ``finish`` is set, end it after the current step and return the
    result of the best weights so far. A cancel (``close()``) reaches ``inner`` in this same
    thread."""
    try:
        while True:
            try:
                progress = inner.send(None)
            except StopIteration as stop:
                return stop.value
            yield progress
            if finish.is_set() and progress.step > 0:  # (step 0: nothing learnt to save yet)
                return _finished(inner)
    finally:
        inner.close()  # (no-op once it returned; else the engine's cancel cleanup, here)


def _finished(inner: Generator):
    """The result ``inner`` returns when told to finish at the report it is paused at."""
    from unet_studio.models.training.progress import FinishEarly

    try:
        inner.throw(FinishEarly(STOPPED_EARLY))
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("the fine-tuning went on after it was told to finish")


def score_change(result) -> str:
    """"F1, IoU 0.5 0.412 -> 0.530" for the close question: the first held-out score both
    sides have ("" when none was measured)."""
    from unet_studio.models.training.lineage import held_out_rows

    for name, _meaning, before, after in held_out_rows(result.metrics_before,
                                                       result.metrics_after):
        if isinstance(before, float) and isinstance(after, float):
            return f", {name} {before:.3f} -> {after:.3f}"
    return ""
