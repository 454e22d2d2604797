"""The Train panel: one-click fine-tuning on the reviewed corrections, in a worker thread.

Live loss and validation plot, progress, Pause/Resume and Cancel (keeps the best weights);
a time budget and/or epochs; before/after metrics side by side; Accept (the new model becomes
current, the image is re-predicted with reviewed regions kept), optionally automatic when
better; Reject; roll back to any earlier version.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_layout, train_logic, train_versions
from unet_studio.app.qt.train_unsaved import UnsavedRound
from unet_studio.app.qt.workers import Throttle, describe_error, set_progress, start_engine
from unet_studio.app.time_left import duration_text
from unet_studio.models.training.progress import stop_text


class TrainPanel(UnsavedRound, QWidget):
    """``finished(result)`` when a round ends (not after Cancel); ``accepted(folder)``.
    Closing the window over an unsaved round asks first (``UnsavedRound``)."""

    finished = Signal(object)
    accepted = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = None
        self._state = "idle"
        self.round: train_logic.TrainRound | None = None
        self._rounds = 0  # started in this panel, for the user ("round 2")
        self._redraw = Throttle(0.5)
        self._build()
        self._wire()
        self._set_state("idle")
        self.refresh_versions()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        train_layout.build(self)

    def _wire(self) -> None:
        self.train_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.accept_button.clicked.connect(lambda: self._run(self.accept))
        self.reject_button.clicked.connect(self.reject)
        self.rollback_button.clicked.connect(lambda: self._run(self.rollback))
        self.session.model_changed.connect(self._model_changed)
        self.session.models_listed.connect(self.refresh_versions)
        self.session.model_renamed.connect(self._model_renamed)
        self.session.project_changed.connect(self.refresh_versions)

    def _run(self, action) -> None:
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "error")

    # ---- training --------------------------------------------------------------------------
    def config(self):
        """The panel's settings as a FinetuneConfig (UserError when they are not valid)."""
        from unet_studio.models.training import FinetuneConfig

        seconds = train_logic.parse_duration(self.budget_edit.text())
        epochs = self.epochs_spin.value() or None
        try:
            return FinetuneConfig(max_seconds=seconds, epochs=epochs,
                                  train_layers=self.layers_combo.currentText())  # fmt: skip
        except ValueError as error:
            raise UserError(str(error)) from None

    def start(self, *, config=None) -> None:
        """Fine-tune the current model on the reviewed corrections ("Learn from": of every
        project image, or of the current image only)."""
        if self.worker is not None:
            return
        session = self.session
        try:
            if session.model is None:
                raise UserError("no model to start from; choose or build one in the Models panel")
            config = config or self.config()
            pending, left_out = train_logic.collect_examples(session, self.scope_combo.currentData())
            project = session.ensure_project()
            earlier = train_logic.replay_for_round(project, session.host.notify)
            replay = train_logic.fresh_replay(earlier, pending)
        except UserError as error:
            session.host.notify(str(error), "error")
            self.status.setText(f"Not started: {error}")  # (a notification fades; this stays)
            return
        for problem in left_out:
            session.host.notify(problem, "warning")
        checkpoints = train_logic.checkpoint_dir_for(project, session.model)
        self._rounds += 1
        self.round = train_logic.TrainRound(session.model, pending, checkpoints, project=project,
                                            number=self._rounds)  # fmt: skip
        self.plot.clear()
        train_layout.show_metrics(self.metrics, {}, {})
        self._set_state("running")
        described = train_logic.describe_examples(pending)
        self.status.setText(f"Fine-tuning {session.model.name} on {described}…")
        self.worker = start_engine(
            train_logic.iter_train(self.round, config, session.library, replay),
            notify=session.host.notify, action="Fine-tuning", on_progress=self._on_progress,
            on_result=self._on_result, on_aborted=self._on_aborted, on_finished=self._on_finished,
            on_error=lambda e: self.status.setText(describe_error(e, "Fine-tuning")),
            host=session.host, task=f"fine-tuning {session.model.name} on {described} "
                 "(closing stops it; the best weights so far are kept)",
        )  # fmt: skip
        self.worker.paused.connect(lambda: self.status.setText("Paused."))
        self.worker.resumed.connect(lambda: self.status.setText("Training…"))

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.worker.is_paused:
            self.worker.resume()
            self.pause_button.setText("Pause")
        else:
            self.worker.pause()
            self.pause_button.setText("Resume")

    def cancel(self) -> None:
        if self.worker is not None:
            self.status.setText("Cancelling after this step (the best weights are kept)…")
            self.worker.quit()

    def _on_progress(self, progress) -> None:
        self.round.history.append(progress)
        values = {"train_loss": progress.smoothed_loss}
        if progress.validated:
            values.update(val_loss=progress.val_loss, val_score=progress.val_metric)
        self.plot.add(progress.step, redraw=False, **values)
        if not self._redraw.ready():
            return  # a few redraws a second: every repaint costs the GUI thread
        self.plot.update()
        set_progress(self.progress, int(1000 * min(progress.fraction, 1.0)))
        score = "" if progress.val_metric is None else f", held-out score {progress.val_metric:.3f}"
        remaining = getattr(progress, "remaining", None)  # (a time budget: the round's end)
        left = "" if not remaining else f", about {duration_text(remaining)} left"
        self.status.setText(f"Step {progress.step}: loss {progress.smoothed_loss:.4f}{score}{left}")

    def _on_result(self, result) -> None:
        self.round.result = result
        self.plot.update()
        train_layout.show_metrics(self.metrics, result.metrics_before, result.metrics_after)
        set_progress(self.progress, 1000)
        self._tell_saved(self._save_round())

    def _save_round(self) -> bool:
        """Save the finished round as a model folder; False (and said) when that failed. The
        trained network stays in memory then, so the round is not lost to a full disk or a
        read-only folder: Accept tries the save again, Reject drops it."""
        try:
            train_logic.save_round(self.session, self.round)
        except (OSError, ValueError) as error:
            self.session.host.notify(f"could not save the fine-tuned model: {error}", "error")
            self.status.setText(f"Finished after {self.round.result.steps} steps, but the model "
                                f"could not be saved: {error}. Free some space (or choose a "
                                "writable project), then Accept saves it again; Reject drops it.")
            return False
        self.session.models_listed.emit()  # (a new model: every list of models shows it)
        self._show_verdict()
        return True

    def _show_verdict(self) -> None:
        result = self.round.result
        if self.round.saved is None:
            return  # (the status says why the save failed; that stays until it is saved)
        verdict = "better than" if train_logic.is_better(result) else "not better than"
        self.status.setText(f"Finished after {result.steps} steps ({stop_text(result.stopped)}); "
                            f"the new model is {verdict} {self.round.parent.name} on held-out data."
                            + train_logic.held_out_caveat(result) + self._switched_meanwhile())  # fmt: skip

    def _switched_meanwhile(self) -> str:
        """What the verdict of a round must add when the user chose another model while it
        trained: which model is current, and what Accept does."""
        current = self.session.model
        if current is None or current.path == self.round.parent.path:
            return ""
        return (f" The current model is now {current.name}; Accept would use the one fine-tuned "
                f"from {self.round.parent.name} instead.")

    def _model_changed(self, info) -> None:
        """Another model became current. A round's status, metrics and plot describe the
        model it started from: once that is no longer the current one (and the change is
        not this round's own Accept or Rollback), they are cleared, so that nothing says
        "not better than A" while B is in use. A round that is still training keeps them: it
        names its model, and its verdict says which model is current (``_switched_meanwhile``)."""
        self.refresh_versions()
        if self._state == "running":
            return
        if self._round_is_about(info):
            if self._state == "review":
                self._show_verdict()  # (which model is current, said again)
            return
        waiting = self.round if self._state == "review" else None
        self.round = None
        self.plot.clear()
        train_layout.show_metrics(self.metrics, {}, {})
        set_progress(self.progress, 0)
        self._set_state("idle")
        self.status.setText(train_logic.ready_text(info, waiting))

    def _model_renamed(self, old, new) -> None:
        """The Models panel renamed a model: a round from it (or that made it) follows, and
        its verdict names it anew (the lists are refilled by ``models_listed``)."""
        if self.round is None:
            return
        self.round.follow_rename(old, new)
        if self._state == "review":
            self._show_verdict()

    def _round_is_about(self, info) -> bool:
        """``info`` is the model the last round started from, or the one it made."""
        if self.round is None or info is None:
            return False
        own = (self.round.parent.path, self.round.saved)
        return Path(info.path).resolve() in {Path(path).resolve() for path in own if path}

    def _on_aborted(self) -> None:
        self.status.setText("Cancelled; the best checkpoint was kept, training again resumes it.")

    def _on_finished(self) -> None:
        self.worker = None
        self.pause_button.setText("Pause")
        done = self.round is not None and self.round.result is not None  # (saved or not)
        self._set_state("review" if done else "idle")
        self._tell_saved(False)  # (a Save at close that got no result: stopped, or failed)
        if done:
            self.finished.emit(self.round.result)
            if (self.auto_accept.isChecked() and self.round.saved is not None and not self._closing()
                    and train_logic.is_better(self.round.result)):  # fmt: skip
                self._run(self.accept)

    # ---- after training --------------------------------------------------------------------
    def accept(self) -> None:
        if self.round is None or self.round.result is None:
            raise UserError("no fine-tuned model waiting to be accepted")
        if self.round.saved is None and not self._save_round():
            return  # (still unsaved: the status says why, the round waits)
        session, round_ = self.session, self.round
        session.set_model(round_.saved)
        project = round_.project_now(session)  # (not a project opened meanwhile)
        if project is not None:
            project.log("accept model", model=str(round_.saved))
        text = f"Now using {session.model.name}."
        try:  # (after the model is in use: a replay that cannot be written must not undo that)
            aside = train_logic.remember_examples(project, round_.examples)
            if aside is not None:
                text += f" The replay buffer could not be read: it was set aside as {aside.name}."
        except (UserError, OSError, ValueError) as error:
            text += (f" Its training data could not be kept for later rounds ({error}): they "
                     "learn from the corrections of the project's images only.")
            session.host.notify(text, "warning")
        self.status.setText(text)
        self.round = None
        self._set_state("idle")
        self.accepted.emit(round_.saved)
        if self.repredict_check.isChecked():
            session.predict_requested.emit()

    def reject(self) -> None:
        project = None if self.round is None else self.round.project_now(self.session)
        if project is not None and self.round.saved is not None:  # (an unsaved round: no model)
            project.log("reject model", model=str(self.round.saved))
        self.round = None
        self.status.setText("Kept the current model.")
        self._set_state("idle")
        self.refresh_versions()  # (a rejected round is no earlier version)

    def rollback(self) -> None:
        info = self.versions_combo.currentData()
        if info is None:
            raise UserError("no earlier version to roll back to")
        self.session.set_model(info)
        self.status.setText(f"Rolled back to {info.name}.")
        if self.repredict_check.isChecked():
            self.session.predict_requested.emit()

    def refresh_versions(self) -> None:
        """Fill the Roll back list (see ``train_versions.earlier_versions``), keeping the
        version chosen while it is still offered, else choosing the first."""
        chosen = self.versions_combo.currentData()
        self.versions_combo.clear()
        for info in train_versions.earlier_versions(self.session):
            self.versions_combo.addItem(f"{info.name} ({info.date or 'undated'})", info)
            if chosen is not None and info.path == chosen.path:
                self.versions_combo.setCurrentIndex(self.versions_combo.count() - 1)
        if self.versions_combo.currentIndex() < 0 and self.versions_combo.count():
            # (with a placeholder text Qt selects nothing on its own: one is the choice)
            self.versions_combo.setCurrentIndex(0)
        self._enable_rollback()

    def _enable_rollback(self) -> None:
        # Nothing to roll back to (a fresh start from the bundled model): say so rather than
        # offer a button that can only answer with an error.
        self.versions_combo.setEnabled(self.versions_combo.count() > 0)
        self.rollback_button.setEnabled(self.versions_combo.count() > 0 and self._state != "running")

    def _set_state(self, state: str) -> None:
        self._state = state
        running = state == "running"
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.accept_button.setEnabled(state == "review")
        self.reject_button.setEnabled(state == "review")
        self._enable_rollback()
