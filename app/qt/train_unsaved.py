"""The Train panel's answer to the close question (see ``close_guard``): a round still
training, or a finished round whose model could not be saved, exists only in memory and
would be lost with the window."""

from __future__ import annotations

from collections.abc import Callable

from unet_studio.app.qt.train_finish import score_change


class UnsavedRound:
    """Mixed into ``TrainPanel`` (uses its ``round``, ``worker``, ``status`` and
    ``_save_round``): the keeper protocol of :class:`~unet_studio.app.qt.close_guard.CloseGuard`."""

    _then_saved: Callable[[bool], None] | None = None

    def unsaved_work(self) -> str | None:
        """What closing now would lose, in one sentence; None if nothing."""
        round_ = self.round
        if round_ is None:
            return None
        if round_.result is None and self.worker is not None:
            step = round_.history[-1].step if round_.history else 0
            return (f"A fine-tuning round (round {round_.number}, from {round_.parent.name}, "
                    f"step {step}) is still running. Save stops it and saves its best weights "
                    "so far as a model; Discard stops it (training again resumes it).")
        if round_.result is not None and round_.saved is None and not round_.discarded:
            return (f"A fine-tuned model (round {round_.number}{score_change(round_.result)}) "
                    "has not been saved.")
        return None

    def save_unsaved(self, then: Callable[[bool], None]) -> None:
        """Save the round, then ``then(ok)``: at once for a finished round, after the
        current step for one that trains (it is stopped and its best weights saved)."""
        round_ = self.round
        if not self.unsaved_work():
            then(True)
            return
        if round_.result is None:
            self._then_saved = then
            round_.finish.set()
            if self.worker.is_paused:
                self.worker.resume()
            self.status.setText("Stopping the round to save it; the window closes once it is "
                                "saved…")
            return
        then(self._save_round())  # (a failure is told by _save_round; the window stays)

    def discard_unsaved(self) -> None:
        """Let the round go: a running one stops (its checkpoint stays, so training again
        resumes it); a finished, unsaved one is dropped."""
        if self.worker is not None:
            self.worker.quit()
        else:
            self.reject()

    def _tell_saved(self, ok: bool) -> None:
        """Answer a pending :meth:`save_unsaved` (once)."""
        then, self._then_saved = self._then_saved, None
        if then is not None:
            then(ok)

    def _closing(self) -> bool:
        """Is the round being stopped because the window closes (no auto-accept then)?"""
        return self.round is not None and self.round.finish.is_set()
