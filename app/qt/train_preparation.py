"""A round's preparation, in its worker thread: the reviewed parts of the images cut out and
read (for a big stack, a pass over every pixel for its intensity percentiles: seconds per
GiB), reported as it goes so that the panel's bar and status move and Cancel stops it
between two blocks of pixels. No widgets here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from unet_studio.models.training.timing import round_fraction


@dataclass(frozen=True)
class Preparing:
    """What the worker yields while a round prepares (not a training step): ``text`` for the
    status line, ``fraction`` (0..1) of the round for the bar, None when not known (a round
    budgeted in steps or epochs)."""

    text: str
    fraction: float | None


def iter_read_examples(pending: list, max_seconds: float | None, started: float):
    """The TrainingExamples of ``pending`` (PendingExamples), read one after the other;
    yields :class:`Preparing` reports. ``started``: the round's ``time.monotonic()`` start
    (under a time budget ``max_seconds`` the bar shows the share of the round used)."""

    def report(text: str) -> Preparing:
        return Preparing(text, round_fraction(time.monotonic() - started, max_seconds))

    examples = []
    for example in pending:
        yield report(f"Finding what is reviewed in {example.name}…")
        example.cut()  # (reads the whole reviewed mask: a big stack's takes a moment)
        reading = example.iter_read()
        while True:
            try:
                census = next(reading)
            except StopIteration as stop:
                examples.append(stop.value)
                break
            share = census.done / census.total if census.total else 0.0
            yield report(f"Measuring the intensities of {example.name} "
                         f"({100 * min(share, 1.0):.0f} %: a pass over every pixel, as "
                         "prediction normalises them)…")  # fmt: skip
    yield report("Loading the model and scoring it on the held-out data before training…")
    return examples
