"""The checkpoint half of a fine-tuning :class:`~session.Session`: save and resume a run.

Everything a resumed run needs (weights, optimiser, step, clock, history, best weights and
metrics, RNG states, the time plan, the BatchNorm choice) is written to ``last`` (and the best
weights to ``best``) and read back; a checkpoint of another run (other settings, data or
network, told by its fingerprint) is refused or ignored, never continued.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from unet_studio.models.training import checkpoint as ckpt
from unet_studio.models.training.timing import TimePlan

log = logging.getLogger(__name__)

# Settings that may differ between a run and its resumption (budgets, where it runs).
RESUMABLE_CHANGES = ("max_seconds", "epochs", "max_steps", "device", "amp", "resume",
                     "checkpoint_seconds")


class StaleCheckpointError(ValueError):
    """A checkpoint folder holds an unfinished run of other settings, data or network
    (``folder``): callers say how their user starts afresh."""

    def __init__(self, message: str, folder: Path):
        super().__init__(message)
        self.folder = folder



class Checkpoints:
    """Mixed into ``Session``: uses its net, optimiser, config, data, clock and best state."""

    def fingerprint(self) -> dict:
        config = {k: v for k, v in self.config.fingerprint().items() if k not in RESUMABLE_CHANGES}
        shapes = {k: list(v.shape) for k, v in self.net.state_dict().items()}
        return {"config": config, "task": self.task.to_dict(), "data": self.data.summary,
                "weights": shapes}

    def _document(self) -> dict:
        return {"fingerprint": self.fingerprint(), "step": self.step, "elapsed": self.elapsed,
                "history": self.history, "best_value": self.best_value,
                "best_step": self.best_step, "best_metrics": self.best_metrics,
                "metrics_before": self.metrics_before, "latest_val": self.latest_val,
                "smoothed": self.smoothed, "sampler_rng": self.rng.bit_generator.state,
                "config": self.config.to_dict(), "scored_val_crops": self.held_out.indices,
                "train_started": self.train_started, "timing": self.plan.to_dict(),
                "norm_statistics_held": self.freeze_norm_stats, "start_loss": self.start_loss,
                "carried_steps": self.carried_steps}

    def save_last(self, *, force: bool = False) -> None:
        """Write ``last`` (and ``best``) unless one was written under ``checkpoint_seconds`` ago."""
        if self.checkpoint_dir is None:
            return
        if not force and time.monotonic() - self._last_save < self.config.checkpoint_seconds:
            return
        started = time.monotonic()
        document = self._document()
        if self.best_weights is not None:
            best_doc = {"step": self.best_step, "metrics": self.best_metrics,
                        "config": self.config.to_dict(), "task": self.task.to_dict()}
            ckpt.save_checkpoint(self.checkpoint_dir / ckpt.BEST, self.best_weights, best_doc)
        ckpt.save_checkpoint(self.checkpoint_dir / ckpt.LAST, self.net.state_dict(), document,
                             optimizer=self.optimizer,
                             rng={"torch": self.generator.get_state()})
        self._last_save = time.monotonic()
        self.plan.record_save(self._last_save - started)

    def restore(self, *, stale: str = "raise") -> bool:
        """Continue from ``checkpoint_dir/last``; False when there is none, or when it belongs
        to another run (other settings, data or network) and ``stale`` is ``"restart"``, or
        ``"weights"``: then the new run starts from its weights where they fit the network
        (a network being trained from scratch over rounds on data that grow)."""
        if self.checkpoint_dir is None or not (self.checkpoint_dir / ckpt.LAST).exists():
            return False
        tensors, document = ckpt.load_checkpoint(self.checkpoint_dir / ckpt.LAST)
        if document["fingerprint"] != self.fingerprint():
            if stale == "weights" and self._take_weights(ckpt.model_state(tensors)):
                self.carried_steps = document["step"] + document.get("carried_steps", 0)
                log.info("the checkpoint in %s is from another run; a new run starts from its "
                         "weights", self.checkpoint_dir)
                return False
            if stale in ("restart", "weights"):
                log.info("the checkpoint in %s is from another run; starting afresh",
                         self.checkpoint_dir)
                return False
            raise StaleCheckpointError(
                f"the checkpoint in {self.checkpoint_dir} belongs to a run with other settings, "
                "data or network; use another checkpoint folder or stale_checkpoint='restart'",
                self.checkpoint_dir)
        self.net.load_state_dict(ckpt.model_state(tensors))
        ckpt.restore_optimizer(self.optimizer, tensors, document["optimizer"])
        self.generator.set_state(tensors["rng.torch"])
        self.rng.bit_generator.state = document["sampler_rng"]
        self.step, self.elapsed_before = document["step"], document["elapsed"]
        self.history, self.smoothed = document["history"], document["smoothed"]
        self.metrics_before, self.latest_val = document["metrics_before"], document["latest_val"]
        self.best_value, self.best_step = document["best_value"], document["best_step"]
        self.best_metrics = document["best_metrics"]
        self.freeze_norm_stats = document.get("norm_statistics_held", self.freeze_norm_stats)
        self.start_loss = document.get("start_loss")
        self.carried_steps = document.get("carried_steps", 0)
        self._restore_timing(document)
        if (self.checkpoint_dir / ckpt.BEST).exists():
            best, _ = ckpt.load_checkpoint(self.checkpoint_dir / ckpt.BEST)
            self.best_weights = {k: v.to(self.device) for k, v in ckpt.model_state(best).items()}
        log.info("resuming at step %d (%.1f s) from %s", self.step, self.elapsed_before,
                 self.checkpoint_dir)
        return True

    def _take_weights(self, state: dict) -> bool:
        """Load ``state`` into the network when every tensor fits it (same names and
        shapes); whether it did."""
        own = self.net.state_dict()
        if set(state) != set(own) or any(state[k].shape != own[k].shape for k in own):
            return False
        self.net.load_state_dict(state)
        return True

    def _restore_timing(self, document: dict) -> None:
        """The held-out crops scored and the time plan of the run resumed (a checkpoint
        written before they were kept: every crop, nothing measured)."""
        self.plan = TimePlan.from_dict(document.get("timing"))
        self.held_out.plan = self.plan
        self.held_out.restore(document.get("scored_val_crops"))
        self.train_started = document.get("train_started", 0.0)
        self.scored_at = self.elapsed_before
        self.validated_step = self.step if self.step % self.config.val_every == 0 else -1
