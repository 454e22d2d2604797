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
    panel.status = QLabel("Ready.", wordWrap=True)
    # Room for three lines: a wrapped label gets no more height than the layout spares,
    # and the verdict with its caveat runs to three lines in a narrow dock.
    panel.status.setMinimumHeight(3 * panel.status.fontMetrics().lineSpacing() + 4)
    panel.plot = LossPlot()
    panel.metrics = QTableWidget(0, 2)
    panel.metrics.setHorizontalHeaderLabels(["before", "after"])
    panel.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    panel.metrics.setEditTriggers(QTableWidget.NoEditTriggers)
    panel.metrics.setMinimumHeight(120)
    panel.accept_button = QPushButton("Accept (use new model)")
    panel.reject_button = QPushButton("Reject")
    panel.repredict_check = QCheckBox("Re-predict the image after accepting", checked=True)
    panel.versions_combo = QComboBox()
    panel.versions_combo.setPlaceholderText("no earlier version")
    panel.rollback_button = QPushButton("Roll back to this version")
    grid = QGridLayout()
    grid.addWidget(panel.accept_button, 0, 0)
    grid.addWidget(panel.reject_button, 0, 1)
    grid.addWidget(panel.repredict_check, 1, 0, 1, 2)
    grid.addWidget(panel.versions_combo, 2, 0)
    grid.addWidget(panel.rollback_button, 2, 1)
    layout = QVBoxLayout(panel)
    layout.addLayout(form)
    layout.addLayout(controls)
    layout.addWidget(panel.progress)
    layout.addWidget(panel.status)
    layout.addWidget(panel.plot, 1)
    layout.addWidget(panel.metrics)
    layout.addLayout(grid)


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
