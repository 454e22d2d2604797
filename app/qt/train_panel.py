"""The Train panel: one-click fine-tuning on the reviewed corrections, in a worker thread.

Live loss and validation plot, progress, Pause/Resume and Cancel (keeps the best weights);
a time budget and/or epochs; before/after metrics side by side; Accept (the new model becomes
current, the image is re-predicted with reviewed regions kept), optionally automatic when
better; Reject; roll back to any earlier version.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.qt import train_logic
from unet_studio.app.qt.loss_plot import LossPlot
from unet_studio.app.qt.workers import Throttle, describe_error, set_progress, start_engine
from unet_studio.models.training.progress import stop_text


class TrainPanel(QWidget):
    """``finished(result)`` when a round ends (not after Cancel); ``accepted(folder)``."""

    finished = Signal(object)
    accepted = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = None
        self._state = "idle"
        self.round: train_logic.TrainRound | None = None
        self._redraw = Throttle(0.5)
        self._build()
        self._wire()
        self._set_state("idle")
        self.refresh_versions()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        form = QFormLayout()
        self.budget_edit = QLineEdit("60 s")
        self.epochs_spin = QSpinBox(minimum=0, maximum=10_000, value=0, specialValueText="no limit")
        self.layers_combo = QComboBox()
        self.layers_combo.addItems(["all", "decoder"])
        self.scope_combo = QComboBox()
        for scope, text in train_logic.SCOPES.items():
            self.scope_combo.addItem(text, scope)
        self.auto_accept = QCheckBox("Accept automatically when better")
        form.addRow("Learn from", self.scope_combo)
        form.addRow("Time budget", self.budget_edit)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Train layers", self.layers_combo)
        form.addRow(self.auto_accept)
        self.train_button = QPushButton("Fine-tune on reviewed corrections")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        controls = QHBoxLayout()
        for button in (self.train_button, self.pause_button, self.cancel_button):
            controls.addWidget(button)
        self.progress = QProgressBar(minimum=0, maximum=1000, value=0)
        self.status = QLabel("Ready.", wordWrap=True)
        # Room for three lines: a wrapped label gets no more height than the layout spares,
        # and the verdict with its caveat runs to three lines in a narrow dock.
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing() + 4)
        self.plot = LossPlot()
        self.metrics = QTableWidget(0, 2)
        self.metrics.setHorizontalHeaderLabels(["before", "after"])
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.metrics.setEditTriggers(QTableWidget.NoEditTriggers)
        self.metrics.setMinimumHeight(120)
        self.accept_button = QPushButton("Accept (use new model)")
        self.reject_button = QPushButton("Reject")
        self.repredict_check = QCheckBox("Re-predict the image after accepting", checked=True)
        self.versions_combo = QComboBox()
        self.versions_combo.setPlaceholderText("no earlier version")
        self.rollback_button = QPushButton("Roll back to this version")
        grid = QGridLayout()
        grid.addWidget(self.accept_button, 0, 0)
        grid.addWidget(self.reject_button, 0, 1)
        grid.addWidget(self.repredict_check, 1, 0, 1, 2)
        grid.addWidget(self.versions_combo, 2, 0)
        grid.addWidget(self.rollback_button, 2, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.metrics)
        layout.addLayout(grid)

    def _wire(self) -> None:
        self.train_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.accept_button.clicked.connect(lambda: self._run(self.accept))
        self.reject_button.clicked.connect(self.reject)
        self.rollback_button.clicked.connect(lambda: self._run(self.rollback))
        self.session.model_changed.connect(self._model_changed)
        self.session.models_listed.connect(self.refresh_versions)
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
            replay = train_logic.fresh_replay(train_logic.load_replay(project).examples, pending)
        except UserError as error:
            session.host.notify(str(error), "error")
            return
        for problem in left_out:
            session.host.notify(problem, "warning")
        checkpoints = train_logic.checkpoint_dir_for(project, session.model)
        self.round = train_logic.TrainRound(session.model, pending, checkpoints, project=project)
        self.plot.clear()
        self._show_metrics({}, {})
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
        self.status.setText(f"Step {progress.step}: loss {progress.smoothed_loss:.4f}{score}")

    def _on_result(self, result) -> None:
        self.round.result = result
        self.plot.update()
        self._show_metrics(result.metrics_before, result.metrics_after)
        try:
            train_logic.save_round(self.session, self.round)
        except (OSError, ValueError) as error:
            self.session.host.notify(f"could not save the fine-tuned model: {error}", "error")
            return
        self._show_verdict()
        set_progress(self.progress, 1000)

    def _show_verdict(self) -> None:
        result = self.round.result
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
        waiting = self.round.saved if self._state == "review" else None
        parent = None if self.round is None else self.round.parent.name
        self.round = None
        self.plot.clear()
        self._show_metrics({}, {})
        set_progress(self.progress, 0)
        self._set_state("idle")
        text = "No model to fine-tune." if info is None else f"Ready to fine-tune {info.name}."
        if waiting is not None:  # (saved with its lineage: nothing of the round is lost)
            text += (f" The model fine-tuned from {parent} stays saved as {waiting.name}: choose "
                     "it in the Models panel to use it.")
        self.status.setText(text)

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
        done = self.round is not None and self.round.saved is not None
        self._set_state("review" if done else "idle")
        if done:
            self.finished.emit(self.round.result)
            if self.auto_accept.isChecked() and train_logic.is_better(self.round.result):
                self._run(self.accept)

    # ---- after training --------------------------------------------------------------------
    def accept(self) -> None:
        if self.round is None or self.round.saved is None:
            raise UserError("no fine-tuned model waiting to be accepted")
        session, round_ = self.session, self.round
        session.set_model(round_.saved)
        project = round_.project_now(session)  # (not a project opened meanwhile)
        train_logic.remember_examples(project, round_.examples)
        if project is not None:
            project.log("accept model", model=str(round_.saved))
        self.status.setText(f"Now using {session.model.name}.")
        self.round = None
        self._set_state("idle")
        self.accepted.emit(round_.saved)
        if self.repredict_check.isChecked():
            session.predict_requested.emit()

    def reject(self) -> None:
        project = None if self.round is None else self.round.project_now(self.session)
        if project is not None:
            project.log("reject model", model=str(self.round.saved))
        self.round = None
        self.status.setText("Kept the current model.")
        self._set_state("idle")

    def rollback(self) -> None:
        info = self.versions_combo.currentData()
        if info is None:
            raise UserError("no earlier version to roll back to")
        self.session.set_model(info)
        self.status.setText(f"Rolled back to {info.name}.")
        if self.repredict_check.isChecked():
            self.session.predict_requested.emit()

    def refresh_versions(self) -> None:
        """Earlier versions: the current model's ancestors and every project model, less
        those the user rejected."""
        library, current = self.session.library, self.session.model
        versions = []
        if current is not None:
            try:
                versions = library.lineage(current.ref if current.source != "folder" else current.path)[1:]
            except UserError:
                versions = []
        versions += [m for m in library.list() if m.source == "project"]
        turned_down = train_logic.rejected_models(self.session.project, library)
        versions = [m for m in versions if str(Path(m.path).resolve()) not in turned_down]
        self.versions_combo.clear()
        seen = set() if current is None else {current.path}
        for info in versions:
            if info.path not in seen:
                seen.add(info.path)
                self.versions_combo.addItem(f"{info.name} ({info.date or 'undated'})", info)
        # (with a placeholder text Qt selects nothing on its own: the newest is the choice)
        self.versions_combo.setCurrentIndex(0 if self.versions_combo.count() else -1)
        self._enable_rollback()

    def _enable_rollback(self) -> None:
        # Nothing to roll back to (a fresh start from the bundled model): say so rather than
        # offer a button that can only answer with an error.
        self.versions_combo.setEnabled(self.versions_combo.count() > 0)
        self.rollback_button.setEnabled(self.versions_combo.count() > 0 and self._state != "running")

    def _show_metrics(self, before: dict, after: dict) -> None:
        rows = train_logic.metric_table(before, after)
        self.metrics.setRowCount(len(rows))
        for row, (name, tooltip, *texts) in enumerate(rows):
            header = QTableWidgetItem(name)
            header.setToolTip(tooltip)
            self.metrics.setVerticalHeaderItem(row, header)
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(tooltip)
                self.metrics.setItem(row, column, item)

    def _set_state(self, state: str) -> None:
        self._state = state
        running = state == "running"
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.cancel_button.setEnabled(running)
        self.accept_button.setEnabled(state == "review")
        self.reject_button.setEnabled(state == "review")
        self._enable_rollback()
