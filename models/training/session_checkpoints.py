"""The checkpoint half of a fine-tuning :class:`~session.Session`: save and resume a run.

Everything a resumed run needs (weights, optimiser, step, clock, history, best weights and
metrics, RNG states, the time plan, the BatchNorm choice) is written to ``last`` (and the best
weights to ``best``) and read back; a checkpoint of another run (other settings, data or
network, told by its fingerprint) is refused or ignored, never continued.

A checkpoint that cannot be written (a full disk, a read-only folder) does not end the run:
its weights stay in memory, the run says so once (``checkpoint_problem``, a log warning)
and the later saves try again.
"""

from __future__ import annotations

import errno
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


# Why a checkpoint write fails when the disk or the folder refuses it (not a bug): the run
# goes on in memory; its result is saved, or waits to be, at the end.
UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                        errno.EPERM})


def unwritable_text(folder: Path, error: OSError) -> str:
    """One line naming the checkpoint folder and why it cannot be written."""
    reason = (error.strerror or str(error)).lower()
    return (f"could not write a checkpoint in {folder} ({reason}); training goes on in memory, "
            "but a stopped or crashed round cannot resume from this point until the folder "
            "can be written again")


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

    def save_last(self, *, force: bool = False) -> bool:
        """Write ``last`` (and ``best``) unless one was written under ``checkpoint_seconds`` ago;
        whether it was written. A disk or folder that refuses it (:data:`UNWRITABLE`) is said
        once (``checkpoint_problem``) and tried again at the next save."""
        if self.checkpoint_dir is None:
            return False
        if not force and time.monotonic() - self._last_save < self.config.checkpoint_seconds:
            return False
        started = time.monotonic()
        try:
            self._write_checkpoints()
        except OSError as error:
            if error.errno not in UNWRITABLE:
                raise
            self._checkpoint_failed(error)
            return False
        finally:  # (a failed write took its time too, and retries keep the same cadence)
            self._last_save = time.monotonic()
            self.plan.record_save(self._last_save - started)
        if self._checkpoint_failing:
            self._checkpoint_failing = False
            log.info("checkpoints are written again in %s", self.checkpoint_dir)
        return True

    def _write_checkpoints(self) -> None:
        # (best first: when ``last`` then fails, :meth:`restore` reads the best's own step and
        # metrics; the other way round ``last`` would claim weights that ``best`` lacks)
        if self.best_weights is not None:
            best_doc = {"step": self.best_step, "metrics": self.best_metrics,
                        "config": self.config.to_dict(), "task": self.task.to_dict()}
            ckpt.save_checkpoint(self.checkpoint_dir / ckpt.BEST, self.best_weights, best_doc)
        ckpt.save_checkpoint(self.checkpoint_dir / ckpt.LAST, self.net.state_dict(),
                             self._document(), optimizer=self.optimizer,
                             rng={"torch": self.generator.get_state()})

    def _checkpoint_failed(self, error: OSError) -> None:
        """Say the first failure (a warning the CLI prints, kept for the result); the
        repeats of a disk that stays full are only logged for debugging."""
        self._checkpoint_failing = True
        if self.checkpoint_problem is None:
            self.checkpoint_problem = unwritable_text(self.checkpoint_dir, error)
            log.warning("%s", self.checkpoint_problem)
        else:
            log.debug("checkpoint in %s still not written: %s", self.checkpoint_dir, error)

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
            best, best_doc = ckpt.load_checkpoint(self.checkpoint_dir / ckpt.BEST)
            self.best_weights = {k: v.to(self.device) for k, v in ckpt.model_state(best).items()}
            if best_doc.get("step", self.best_step) != self.best_step:
                # (``last`` failed to write after a newer ``best`` did, a full disk: the
                # metrics must be those of the weights held, or a worse round is kept)
                self.best_step, self.best_metrics = best_doc["step"], best_doc["metrics"]
                self.best_value = self._score(self.best_metrics)
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
