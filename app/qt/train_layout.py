"""The Train panel's widgets and their layout (``TrainPanel`` wires them and holds the logic),
and the before/after metrics table filled from ``train_logic.metric_table``."""

from __future__ import annotations

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
)

from unet_studio.app.qt import train_logic
from unet_studio.app.qt.loss_plot import LossPlot

MIN_METRICS_HEIGHT = 120
# What to do first, before any round: "Ready." left a new user guessing why Fine-tune
# answers "nothing reviewed yet".
READY_TEXT = ("Ready. Correct some objects and mark them reviewed (Correct panel); then "
              "fine-tune on them.")
# Each control's meaning; the buttons greyed out at first say when they can be pressed.
TIPS = {
    "scope_combo": "Which reviewed regions the round learns from; a part of them is held out "
                   "to score the model before and after",
    "budget_edit": "How long the whole round may take, scoring included: '60 s', '5 min', "
                   "'1 h', or 'none'",
    "epochs_spin": "Passes over the reviewed data; 'no limit': the time budget ends the round",
    "layers_combo": "all: every layer learns; decoder: the encoder stays as it is (faster, "
                    "safer with few corrections)",
    "auto_accept": "Use the new model at once when it scores better on the held-out data",
    "train_button": "Fine-tune the current model on the reviewed corrections, in the background",
    "pause_button": "Pause or resume the round that runs",
    "cancel_button": "Stop the round that runs; its best weights so far are kept",
    "accept_button": "Once a round has finished: use its model from now on",
    "reject_button": "Once a round has finished: keep the current model",
    "repredict_check": "After Accept or Roll back, segment the image again with the model "
                       "(reviewed regions are kept)",
}  # fmt: skip


def build(panel) -> None:
    """Create the panel's widgets as its attributes, laid out top to bottom: settings,
    controls, progress, status, loss plot, metrics, then accept/reject and roll back."""
    form = QFormLayout()
    panel.budget_edit = QLineEdit("60 s")
    panel.epochs_spin = QSpinBox(minimum=0, maximum=10_000, value=0, specialValueText="no limit")
    panel.layers_combo = QComboBox()
    panel.layers_combo.addItems(["all", "decoder"])
    panel.scope_combo = QComboBox()
    for scope, text in train_logic.SCOPES.items():
        panel.scope_combo.addItem(text, scope)
    panel.auto_accept = QCheckBox("Accept automatically when better")
    form.addRow("Learn from", panel.scope_combo)
    form.addRow("Time budget", panel.budget_edit)
    form.addRow("Epochs", panel.epochs_spin)
    form.addRow("Train layers", panel.layers_combo)
    form.addRow(panel.auto_accept)
    panel.train_button = QPushButton("Fine-tune on reviewed corrections")
    panel.pause_button = QPushButton("Pause")
    panel.cancel_button = QPushButton("Cancel")
    controls = QHBoxLayout()
    for button in (panel.train_button, panel.pause_button, panel.cancel_button):
        controls.addWidget(button)
    panel.progress = QProgressBar(minimum=0, maximum=1000, value=0)
    panel.status = QLabel(READY_TEXT, wordWrap=True)
    # Room for three lines: a wrapped label gets no more height than the layout spares,
    # and the verdict with its caveat runs to three lines in a narrow dock.
    panel.status.setMinimumHeight(3 * panel.status.fontMetrics().lineSpacing() + 4)
    panel.plot = LossPlot()
    panel.metrics = QTableWidget(0, 2)
    panel.metrics.setHorizontalHeaderLabels(["before", "after"])
    panel.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    panel.metrics.setEditTriggers(QTableWidget.NoEditTriggers)
    panel.metrics.setMinimumHeight(MIN_METRICS_HEIGHT)
    panel.accept_button = QPushButton("Accept (use new model)")
    panel.reject_button = QPushButton("Reject")
    panel.repredict_check = QCheckBox("Re-predict the image after accepting", checked=True)
    panel.versions_combo = QComboBox()
    panel.versions_combo.setPlaceholderText("no earlier version")
    panel.rollback_button = QPushButton("Roll back to this version")
    panel.versions_combo.currentTextChanged.connect(lambda text: panel.versions_combo.setToolTip(
        text or "No earlier version to roll back to yet"))  # (a long name is cut off in the box)
    panel.versions_combo.setToolTip("No earlier version to roll back to yet")
    grid = QGridLayout()
    grid.addWidget(panel.accept_button, 0, 0)
    grid.addWidget(panel.reject_button, 0, 1)
    grid.addWidget(panel.repredict_check, 1, 0, 1, 2)
    versions = QHBoxLayout()  # (the list wider than the button: a round's name is long)
    versions.addWidget(panel.versions_combo, 2)
    versions.addWidget(panel.rollback_button, 1)
    grid.addLayout(versions, 2, 0, 1, 2)
    layout = QVBoxLayout(panel)
    layout.addLayout(form)
    layout.addLayout(controls)
    layout.addWidget(panel.progress)
    layout.addWidget(panel.status)
    layout.addWidget(panel.plot, 1)
    layout.addWidget(panel.metrics, 1)  # (up to its rows' height: see show_metrics)
    layout.addLayout(grid)
    for name, tip in TIPS.items():
        getattr(panel, name).setToolTip(tip)
    show_metrics(panel.metrics, {}, {})  # (its height: none to show yet)


def show_metrics(table: QTableWidget, before: dict, after: dict) -> None:
    """One row per held-out metric, before and after, each with its meaning as tooltip."""
    rows = train_logic.metric_table(before, after)
    table.setRowCount(len(rows))
    for row, (name, tooltip, *texts) in enumerate(rows):
        header = QTableWidgetItem(name)
        header.setToolTip(tooltip)
        table.setVerticalHeaderItem(row, header)
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltip)
            table.setItem(row, column, item)
    # Every row in view without scrolling (the plot above takes the rest of the height).
    rows_height = table.verticalHeader().length() + table.horizontalHeader().sizeHint().height()
    table.setMaximumHeight(max(MIN_METRICS_HEIGHT, rows_height + 2 * table.frameWidth()))
