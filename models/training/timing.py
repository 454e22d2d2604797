"""How a time budget is shared out: the whole round, not only its training steps.

A "60 s" round ends, with its result, at about 60 s: the budget's clock runs from the start
of the round (reading the data, scoring the starting weights) to its end (the last scoring
and the final checkpoint). So training stops while there is still time for what follows the
last step, and the held-out scorings are bounded:

- *what comes after the last step* is reserved: one held-out scoring (the "after" one, or a
  validation that falls on the last step) and one checkpoint save, each estimated by the
  last one measured (the "before" scoring at the start, then every validation);
- *the next step* is predicted by the mean of the last few steps, so the last step is not
  started when it would not fit;
- *each scoring* of the held-out data takes at most about ``SCORING_SHARE`` of the budget:
  the "before" scoring goes through the held-out crops in a seeded order and stops when the
  next crop would not fit; every later scoring uses the same crops (a fair before/after).
  The first crop also pays for the warm-up of the round (lazy imports, the first pass of the
  network: often longer than all the other crops together), so it neither counts against
  the allowance nor predicts the others (the "before" scoring takes at most its warm-up
  more than the allowance);
- *validations while training* take at most about ``VALIDATION_SHARE`` of the training time:
  one that falls due sooner after the previous one is skipped (its checkpoint is still
  written).

Budgets in steps or epochs alone are not wall time: nothing here applies to them.
"""

from __future__ import annotations

from collections import deque

# Share of a time budget that one held-out scoring (before, after) may take.
SCORING_SHARE = 0.15
# Share of the training time that validations may take (a skipped one waits for the next).
VALIDATION_SHARE = 0.2
# Recent steps whose mean predicts the next one.
STEP_WINDOW = 5


class TimePlan:
    """Measured durations of a round's parts, and what they leave for training.

    All times are seconds. ``record_*`` take measurements; ``reserve()`` is what follows
    the last step, ``ahead()`` what the next step and everything after it will take.
    """

    def __init__(self, *, eval_seconds: float | None = None, save_seconds: float = 0.0):
        self.steps: deque[float] = deque(maxlen=STEP_WINDOW)
        self.eval_seconds = eval_seconds
        self.save_seconds = save_seconds

    def record_step(self, seconds: float) -> None:
        self.steps.append(max(0.0, seconds))

    def record_eval(self, seconds: float) -> None:
        self.eval_seconds = max(0.0, seconds)

    def record_save(self, seconds: float) -> None:
        self.save_seconds = max(0.0, seconds)

    def step_estimate(self) -> float:
        """The next step's duration: the mean of the last few (0 before the first)."""
        return sum(self.steps) / len(self.steps) if self.steps else 0.0

    def reserve(self) -> float:
        """Seconds kept for what follows the last step: one held-out scoring and one save."""
        return (self.eval_seconds or 0.0) + self.save_seconds

    def ahead(self) -> float:
        """Seconds the next step and everything after it will take."""
        return self.step_estimate() + self.reserve()

    def fits(self, elapsed: float, max_seconds: float | None) -> bool:
        """Does another step, then the end of the round, fit in ``max_seconds``?"""
        return max_seconds is None or elapsed + self.ahead() <= max_seconds

    def validation_worth_it(self, trained_since: float) -> bool:
        """May a validation run after ``trained_since`` seconds of training since the last
        one, keeping validations to about ``VALIDATION_SHARE`` of the training time?"""
        if not self.eval_seconds:
            return True
        return trained_since * VALIDATION_SHARE >= self.eval_seconds * (1 - VALIDATION_SHARE)

    def to_dict(self) -> dict:
        return {"eval_seconds": self.eval_seconds, "save_seconds": self.save_seconds}

    @classmethod
    def from_dict(cls, data: dict | None) -> TimePlan:
        data = data or {}
        return cls(eval_seconds=data.get("eval_seconds"),
                   save_seconds=data.get("save_seconds") or 0.0)


def scoring_allowance(max_seconds: float | None) -> float | None:
    """Seconds one held-out scoring may take (None: no time budget, score every crop)."""
    return None if max_seconds is None else SCORING_SHARE * max_seconds


def crops_that_fit(durations: list[float], allowance: float | None) -> bool:
    """After scoring crops that took ``durations`` (seconds, one per crop, in order): does
    one more fit in ``allowance``? The first crop warms up: a second one is scored when the
    first fitted; after that the crops are taken as costing the mean of those after the
    first, and one more is scored when a repeat of them all would still fit."""
    if allowance is None or not durations:
        return True
    if len(durations) == 1:
        return durations[0] <= allowance
    return (len(durations) + 1) * _steady(durations) <= allowance


def scoring_estimate(durations: list[float]) -> float:
    """Seconds a repeat of a scoring whose crops took ``durations`` will take, warmed up."""
    if len(durations) < 2:
        return sum(durations)
    return len(durations) * _steady(durations)


def _steady(durations: list[float]) -> float:
    """Seconds per crop once warmed up: the mean of the crops after the first."""
    return sum(durations[1:]) / (len(durations) - 1)


def training_fraction(elapsed: float, *, started: float, max_seconds: float,
                      reserve: float) -> float:
    """Share of the training time used, 0..1: the learning-rate schedule runs from the first
    step (``started`` seconds into the round) to the moment training has to stop
    (``reserve`` seconds before the end of the round)."""
    window = max_seconds - started - reserve
    if window <= 0:
        return 1.0
    return min(max((elapsed - started) / window, 0.0), 1.0)


def round_fraction(elapsed: float, max_seconds: float | None) -> float | None:
    """Share of a time budget used ``elapsed`` seconds into the round, 0..1, for a progress
    bar before the first step (reading the data, scoring the starting weights): the clock
    of the budget runs from the round's start, so the bar moves from there and goes on
    seamlessly into training's. None without a time budget (steps or epochs)."""
    if max_seconds is None or max_seconds <= 0:
        return None
    return min(max(elapsed / max_seconds, 0.0), 1.0)
