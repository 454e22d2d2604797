"""The Train panel: one-click fine-tuning on the reviewed corrections, in a worker thread.

Live loss and validation plot, progress, Pause/Resume and Cancel (keeps the best weights);
a time budget and/or epochs; before/after metrics side by side; Accept (the new model becomes
current, the image is re-predicted with reviewed regions kept), optionally automatic when
better; Reject; roll back to any earlier version.

The widgets are laid out by ``train_layout``; the review of a finished round (verdict,
Accept, Reject, Roll back) is ``RoundReview`` (``train_review``), a round an earlier session
left waiting for its verdict ``WaitingRound`` (``train_waiting``), the close question
``UnsavedRound`` (``train_unsaved``). Here: the wiring, and starting, pausing, cancelling
and following a round.
"""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_disk, train_layout, train_logic, train_pace
from unet_studio.app.qt.button_focus import set_buttons_enabled
from unet_studio.app.qt.progress_display import Throttle, set_progress
from unet_studio.app.qt.round_clock import RoundClock
from unet_studio.app.qt.train_channel_line import add_train_channel_line
from unet_studio.app.qt.train_intensity import keep_round_intensities
from unet_studio.app.qt.train_preparation import Preparing
from unet_studio.app.qt.train_review import RoundReview
from unet_studio.app.qt.train_round import steps_in_checkpoint
from unet_studio.app.qt.train_unsaved import UnsavedRound
from unet_studio.app.qt.train_waiting import WaitingRound
from unet_studio.app.qt.workers import describe_error, start_engine

# Train's tooltip while a round waits for its verdict (a new round would drop it unseen).
WAITING_TIP = "A round waits for its verdict: Accept or Reject it first"
# Added to the verdict when Train is asked for all the same (a key, a script).
NOT_STARTED = " Train did not start: Accept or Reject this round first."


class TrainPanel(UnsavedRound, WaitingRound, RoundReview, QWidget):
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
        self._clock = RoundClock(self.progress, self.status, self)
        self._wire()
        self._set_state("idle")
        self._project_shown = session.project  # (whose rounds the panel shows: ``train_waiting``)
        if not self.restore_waiting_round():  # (of the project open now)
            self._labels_kind_changed()  # (its reviewed marks: not the first-use line)
        self.refresh_versions()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        train_layout.build(self)
        self.channel_line = add_train_channel_line(self)  # (a model that cannot take the image's channels)

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
        self.session.project_changed.connect(self._project_opened)
        self.session.prediction_ended.connect(self._prediction_ended)
        # (the "Cannot train" line follows the image, labels and marks being corrected)
        self.session.reviewed_changed.connect(self._labels_kind_changed)
        self.session.labels_replaced.connect(self._labels_kind_changed)
        host = self.session.host
        for connect in ("connect_active_layer_changed", "connect_labels_classes",
                        "connect_layers_changed"):
            if hasattr(host, connect):
                getattr(host, connect)(self._labels_kind_changed)

    def _run(self, action) -> None:
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "error")

    # ---- training --------------------------------------------------------------------------
    def config(self):
        """The panel's settings as a FinetuneConfig (UserError when they are not valid), with
        the patch and batch defaults of the current model's rank (a 3D network's are smaller)."""
        from unet_studio.app.training_data import model_spatial_dims
        from unet_studio.models.training import FinetuneConfig

        seconds = train_logic.parse_duration(self.budget_edit.text())
        epochs = self.epochs_spin.value() or None
        try:
            return FinetuneConfig.for_network(model_spatial_dims(self.session.model),
                                              max_seconds=seconds, epochs=epochs,
                                              train_layers=self.layers_combo.currentText())
        except ValueError as error:
            raise UserError(str(error)) from None

    def start(self, *, config=None) -> None:
        """Train the current model on the reviewed corrections ("Learn from": of every
        project image, or of the current image only)."""
        if self.worker is not None:
            return
        if self._state == "review":  # (a key, or a script: the button is disabled)
            self.session.host.notify(WAITING_TIP, "warning")
            # (the verdict stays: which round waits, and whether it is better)
            if not self.status.text().endswith(NOT_STARTED):
                self.status.setText(self.status.text() + NOT_STARTED)
            return
        prepared = self._prepared_round(config)
        if prepared is None:
            return
        config, pending, project, replay = prepared
        session = self.session
        checkpoints = train_logic.checkpoint_dir_for(project, session.model)
        self._rounds += 1
        self.round = train_logic.TrainRound(session.model, pending, checkpoints, project=project,
                                            number=self._rounds)  # fmt: skip
        self.plot.clear()
        train_layout.show_metrics(self.metrics, {}, {})
        set_progress(self.progress, 0)  # (the last round's bar sat full)
        self._set_state("running")
        described = train_logic.describe_examples(pending)
        self.status.setText(f"{train_logic.training_verb(session.model)} {session.model.name} "
                            f"on {described}…")
        self.worker = start_engine(
            train_logic.iter_train(self.round, config, session.library, replay),
            notify=session.host.notify, action="Fine-tuning", on_progress=self._on_progress,
            on_result=self._on_result, on_aborted=self._on_aborted, on_finished=self._on_finished,
            on_error=self._on_error,
            host=session.host, task=f"fine-tuning {session.model.name} on {described} "
                 "(closing stops it; the best weights so far are kept)",
        )  # fmt: skip
        self._clock.start(config.max_seconds)
        self.worker.paused.connect(self._clock.pause)
        self.worker.resumed.connect(self._clock.resume)
        self.worker.paused.connect(lambda: self.status.setText("Paused."))
        self.worker.resumed.connect(lambda: self.status.setText("Training…"))

    def _prepared_round(self, config):
        """The config, examples, project and replay examples of the round asked for; None
        (and said why) when it cannot start."""
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
            return None
        for problem in left_out:
            session.host.notify(problem, "warning")
        return config, pending, project, replay

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
        if isinstance(progress, Preparing):  # (reading the data: no step yet)
            self._show_preparing(progress)
            return
        self._clock.preparing(None)  # (steps say their own time left)
        if not self.round.history and progress.step > 1:  # (a stopped round goes on)
            self.round.resumed_at = progress.step - 1
        self.round.history.append(progress)
        if progress.notice:  # (said once: a checkpoint the disk refused)
            self._checkpoint_refused(progress.notice)
        values = {"train_loss": progress.smoothed_loss}
        if progress.validated:
            values.update(val_loss=progress.val_loss, val_score=progress.val_metric)
        self.plot.add(progress.step, redraw=False, **values)
        pace = train_pace.pace_seconds(self.round.history)
        # (a report followed by a long silence, the first step or the last scoring, is shown
        # whatever the throttle: a dropped one left "Step 0" on screen through the end)
        quiet_next = progress.step == 0 or train_pace.round_ends(progress, pace)
        if not self._redraw.ready() and not quiet_next and not progress.notice:
            return  # a few redraws a second: every repaint costs the GUI thread
        self.plot.update()
        # (never back: between reports the round's clock moved the bar, see ``round_clock``)
        set_progress(self.progress, max(self.progress.value(), int(1000 * min(progress.fraction, 1.0))))
        if progress.step == 0:  # (the starting model scored; the first step runs now)
            self.status.setText(train_pace.before_training_text(progress))
            return
        resumed = self.round.resumed_at
        again = f" (the round stopped at step {resumed} goes on)" if resumed else ""
        self.status.setText(train_pace.step_text(progress, pace) + again + self._refused_text())

    def _checkpoint_refused(self, problem: str) -> None:
        """The round goes on without its checkpoints: said now (a notification, which fades)
        and under every step's status until the round ends."""
        self.round.checkpoint_problem = problem
        self.session.host.notify(train_disk.running_notice_text(problem), "warning")

    def _refused_text(self) -> str:
        problem = self.round.checkpoint_problem
        return "" if problem is None else " " + train_disk.running_notice_text(problem)

    def _show_preparing(self, report: Preparing) -> None:
        self.status.setText(report.text)
        self._clock.preparing(report.text)
        if report.fraction is not None:
            set_progress(self.progress, int(1000 * report.fraction))

    def _on_result(self, result) -> None:
        self._clock.stop()
        self.round.result = result
        # (the next round, or a Segment run, on these pixels skips their intensity pass)
        keep_round_intensities(self.session.intensities, self.round.pending, self.round.examples or [])
        self.plot.update()
        train_layout.show_metrics(self.metrics, result.metrics_before, result.metrics_after)
        set_progress(self.progress, 1000)
        # (its model: a copy of the parent's; saved all the same when the close asked it)
        if train_logic.kept_starting_weights(result) and not self._closing():
            self.round.discarded = True
            self.status.setText(self._nothing_learnt() + train_logic.held_out_caveat(result))
            self._tell_saved(True)  # (nothing to save: a close waiting for it goes on)
            return
        self._tell_saved(self._save_round())

    def _nothing_learnt(self) -> str:
        """No model from a round whose starting weights stayed best: a round from an
        untrained network keeps its checkpoint (the next Train goes on from it), any other
        clears it (the next round starts afresh). What the verdict says of it."""
        round_, result = self.round, self.round.result
        if train_logic.keeps_scratch_progress(round_):
            if train_disk.scratch_steps_lost(round_, result):  # (its checkpoint was refused)
                kept = steps_in_checkpoint(round_.checkpoint_dir)
                return train_disk.scratch_lost_text(result, round_.parent.name, kept)
            return train_logic.scratch_kept_text(result, round_.parent.name, round_.resumed_at)
        train_logic.clear_checkpoints(round_)
        return train_logic.nothing_learnt_text(result, round_.parent.name)

    def _save_round(self) -> bool:
        """Save the finished round as a model folder; False (and said) when that failed. The
        trained network stays in memory then, so the round is not lost to a full disk or a
        read-only folder: Accept tries the save again, Reject drops it."""
        try:
            train_logic.save_round(self.session, self.round)
        except (OSError, ValueError) as error:
            self.session.host.notify(f"could not save the fine-tuned model: {error}", "error")
            result = self.round.result
            self.status.setText(f"Finished after {result.steps} steps, but the model could not "
                                f"be saved: {error}.{train_disk.unsaved_note(result)} Free some "
                                "space (or choose a writable project), then Accept saves it "
                                "again; Reject drops it.")
            return False
        self.session.models_listed.emit()  # (a new model: every list of models shows it)
        self._show_verdict()
        return True

    def _on_error(self, error) -> None:
        self._clock.stop()
        self.status.setText(describe_error(error, "Fine-tuning"))

    def _on_aborted(self) -> None:
        self._clock.stop()
        if self.round is not None and not any(p.step for p in self.round.history):  # (no step yet)
            self.status.setText("Cancelled before training started.")
            return
        self.status.setText(train_disk.cancelled_text(self.round and self.round.checkpoint_problem))

    def _on_finished(self) -> None:
        self._clock.stop()
        self.worker = None
        self.pause_button.setText("Pause")
        done = self.round is not None and self.round.result is not None  # (saved or not)
        self._set_state("review" if done and not self.round.discarded else "idle")
        self._tell_saved(False)  # (a Save at close that got no result: stopped, or failed)
        if done:
            self.finished.emit(self.round.result)
            if (self.auto_accept.isChecked() and self.round.saved is not None and not self._closing()
                    and train_logic.is_better(self.round.result)):  # fmt: skip
                self._run(lambda: self.accept(automatically=True))

    def _set_state(self, state: str) -> None:
        self._state = state
        running = state == "running"
        enabled = {self.train_button: state == "idle", self.pause_button: running,
                   self.cancel_button: running, self.accept_button: state == "review",
                   self.reject_button: state == "review"}  # fmt: skip
        # (a finished round: the button its verdict advises, see ``RoundReview._review_button``)
        taker = (self._review_button() if state == "review"
                 else self.pause_button if running else self.train_button)
        set_buttons_enabled(enabled, taker)
        self.train_button.setToolTip(WAITING_TIP if state == "review" else train_layout.TIPS["train_button"])
        self._enable_rollback()
