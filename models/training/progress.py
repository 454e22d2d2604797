"""What training reports while it runs (``TrainProgress``) and when it ends (``FinetuneResult``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from unet_studio.models.training.config import FinetuneConfig


@dataclass(frozen=True)
class TrainProgress:
    """One training step. ``loss``: this step's training loss; ``smoothed_loss``: its running
    mean (for a readable plot); ``val_loss``/``val_metric``: the latest validation (object
    F1 at IoU 0.5 for instance models, mean foreground Dice for semantic ones; None before
    the first or without held-out data) and ``validated`` says whether it was measured at
    this step; ``best``: best validation score so far (per ``select_best_by``) and
    ``improved`` whether this step set it; ``fraction``: share of the budget used, 0..1 (1 at
    the round's last report); ``elapsed``: seconds of the run so far (held-out scorings
    included, pauses not; a resumed run's earlier part too: ``FinetuneResult.elapsed_before``);
    ``remaining``: seconds the time budget has left for the rest of
    the round, the last scoring included (None without a time budget); ``notice``: something
    the user should know now, said once (the first checkpoint the disk refused: the round
    goes on in memory), else None. Not a measurement: ``to_dict`` (the history) leaves it out."""

    step: int
    epoch: float
    loss: float
    smoothed_loss: float
    lr: float
    elapsed: float
    fraction: float
    total_steps: int | None = None
    val_loss: float | None = None
    val_metric: float | None = None
    validated: bool = False
    best: float | None = None
    improved: bool = False
    remaining: float | None = None
    notice: str | None = None

    def to_dict(self) -> dict:
        record = asdict(self)
        del record["notice"]
        return record


class FinishEarly(Exception):
    """Thrown into ``iter_finetune`` at one of its reports: the round ends there, as a cancel
    would end it (its checkpoint written, the best weights put back) but returning its
    result, whose ``stopped`` is ``reason``: work that must not be lost (a window closing
    over a round) gets it from memory, even where no checkpoint could be written."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# What ended a run, as the panel, the CLI and the model card say it.
STOP_TEXT = {"max_seconds": "the time budget was used up", "epochs": "the epochs were done",
             "max_steps": "the step limit was reached"}


def stop_text(stopped: str) -> str:
    """``FinetuneResult.stopped`` in words ("the time budget was used up")."""
    return STOP_TEXT.get(stopped, str(stopped))


@dataclass
class FinetuneResult:
    """The outcome. ``net`` holds the best weights (by validation; the last ones without
    held-out data); ``metrics_before``/``metrics_after``: the held-out scores of the starting
    and the returned weights (empty dicts without held-out data; under a time budget over
    the held-out crops that fit it, ``extra["scored_val_crops"]`` of ``extra["val_crops"]``);
    ``elapsed``: seconds of the whole run (pauses not counted), and ``steps`` its steps, a
    resumed run's earlier part included: ``resumed_at`` is the step it was resumed at (None:
    a fresh run) and ``elapsed_before`` the seconds it had used by then, so that
    ``round_elapsed`` is this call's own wall time (what "the round took" means; a 2 min
    round resumed after 2 min read "4 min of its 2 min budget"); ``stopped``: which budget
    ended the run ("max_seconds", "epochs" or "max_steps")."""

    net: Any
    history: list[dict]
    metrics_before: dict
    metrics_after: dict
    config: FinetuneConfig
    data_summary: dict
    best_step: int
    steps: int
    elapsed: float
    stopped: str
    checkpoint_dir: Path | None = None
    extra: dict = field(default_factory=dict)
    resumed_at: int | None = None
    elapsed_before: float = 0.0

    @property
    def round_elapsed(self) -> float:
        """Seconds of this call alone: the run's, less what a resumed run had used before."""
        return max(0.0, self.elapsed - self.elapsed_before)

    @property
    def improved(self) -> bool | None:
        """Did the held-out loss go down? None without held-out data."""
        before, after = self.metrics_before.get("val_loss"), self.metrics_after.get("val_loss")
        if before is None or after is None:
            return None
        return after < before

    def summary(self) -> dict:
        """JSON-able record for lineage metadata."""
        return {
            "config": self.config.to_dict(),
            "data": self.data_summary,
            "metrics_before": self.metrics_before,
            "metrics_after": self.metrics_after,
            "best_step": self.best_step,
            "steps": self.steps,
            "elapsed_seconds": round(self.elapsed, 3),
            "stopped": self.stopped,
        }
