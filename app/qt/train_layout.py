"""The Train panel's widgets and their layout (``TrainPanel`` wires them and holds the logic),
and the before/after metrics table filled from ``train_logic.metric_table``."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
)

from unet_studio.app.qt import train_logic
from unet_studio.app.qt.elided_label import ElidedComboBox
from unet_studio.app.qt.names_label import NamesLabel
from unet_studio.app.qt.reflow_grid import ReflowRow
from unet_studio.app.qt.scrolling import scrolled_body
from unet_studio.app.qt.train_plot import RoundPlot

# The loss plot's least height: its legend, scale and a readable curve (LossPlot asks for
# 150, more than a laptop's dock spares once the table shows a round's metrics).
ROW_PADDING = 6  # (pixels a metrics row adds to its line of text, both edges together)
# The least width of the boxes with long choices, in characters: "reviewed data of every
# project image" made the panel 567 px wide at a 14 pt font. The list of versions is
# narrower, to stay beside "Roll back to this version" in a narrow dock (its tooltip and
# its list show the whole name).
SCOPE_LEAST_CHARACTERS = 12
VERSIONS_LEAST_CHARACTERS = 6
# What to do first, before any round: "Ready." left a new user guessing why Train answers
# "nothing reviewed yet".
READY_TEXT = ("Ready. Correct some objects and mark them reviewed (Correct panel); then "
              "train on them.")
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
    "train_button": "Train the current model on the reviewed corrections (fine-tune a trained "
                    "one, or train an untrained one, built in the Models panel), in the background",
    "pause_button": "Pause or resume the round that runs",
    "cancel_button": "Stop the round that runs; its best weights so far are kept",
    "accept_button": "Once a round has finished: use its model from now on",
    "reject_button": "Once a round has finished: keep the current model",
    "more_settings_button": "Show or hide the epochs, the layers that learn and automatic "
                            "acceptance (when hidden, the button names those changed)",
    "repredict_check": "After Accept or Roll back, segment the image again with the model "
                       "(reviewed regions are kept)",
}  # fmt: skip


def build(panel) -> None:
    """Create the panel's widgets as its attributes, laid out top to bottom: settings,
    controls, progress, status (the verdict), accept/reject, loss plot, metrics, then roll
    back.

    Sized for a laptop's dock (about 700 px tall): the status (the verdict), the buttons and
    every row of the metrics table keep their height; the loss plot takes what is left, and
    the settings used less often fold away under "More settings"."""
    # (one text for both: fine-tuning a trained model, training an untrained one)
    panel.train_button = QPushButton("Train on reviewed corrections")
    panel.pause_button = QPushButton("Pause")
    panel.cancel_button = QPushButton("Cancel")
    panel.progress = QProgressBar(minimum=0, maximum=1000, value=0)
    # Side by side where the dock is wide; where it is narrow, Pause, Cancel and the progress
    # bar go below Train: two lines, as many as a row of buttons above the bar took.
    controls = ReflowRow()
    for button in (panel.train_button, panel.pause_button, panel.cancel_button):
        controls.addWidget(button)
    controls.addWidget(panel.progress, 1)
    panel.status = NamesLabel()  # (it names models: long ones wrap, the dock stays as wide)
    panel.status.setText(READY_TEXT)
    # Room for three lines: a wrapped label gets no more height than the layout spares,
    # and the verdict with its caveat runs to three lines in a narrow dock.
    panel.status.setMinimumHeight(3 * panel.status.fontMetrics().lineSpacing() + 4)
    panel.plot = RoundPlot()  # (a round read back from the history: a note, no curve)
    # (the first to give way in a short dock, down to a frame of its least height)
    panel.metrics = _metrics_table()
    layout = QVBoxLayout(scrolled_body(panel))  # (scrolls in a short dock)
    layout.addLayout(_settings(panel))
    layout.addLayout(controls)
    layout.addWidget(panel.status)
    # Accept and Reject right under the verdict they answer: below the table, a long verdict
    # pushed them out of a 630 px window's dock, half cut off (QA).
    layout.addLayout(_decision_controls(panel))
    layout.addWidget(panel.plot, 1)  # (all the height to spare)
    layout.addWidget(panel.metrics)  # (its rows' height: see show_metrics)
    layout.addLayout(_versions_row(panel))
    for name, tip in TIPS.items():
        getattr(panel, name).setToolTip(tip)
    show_metrics(panel.metrics, {}, {})  # (its height: none to show yet)


def _settings(panel) -> QFormLayout:
    """What the round learns from and for how long; below "More settings" (folded at
    first), the epochs, the layers that learn and automatic acceptance."""
    form = QFormLayout()
    panel.budget_edit = QLineEdit("60 s")
    panel.epochs_spin = QSpinBox(minimum=0, maximum=10_000, value=0, specialValueText="no limit")
    panel.layers_combo = QComboBox()
    panel.layers_combo.addItems(["all", "decoder"])
    panel.scope_combo = _narrow_combo(SCOPE_LEAST_CHARACTERS)
    for scope, text in train_logic.SCOPES.items():
        panel.scope_combo.addItem(text, scope)
    panel.auto_accept = QCheckBox("Accept automatically when better")
    panel.more_settings_button = QToolButton(checkable=True, autoRaise=True)
    panel.more_settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    # (its text, longer with changed settings named, never widens the dock)
    panel.more_settings_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    form.addRow("Learn from", panel.scope_combo)
    form.addRow("Time budget", panel.budget_edit)
    form.addRow(panel.more_settings_button)
    form.addRow("Epochs", panel.epochs_spin)
    form.addRow("Train layers", panel.layers_combo)
    form.addRow(panel.auto_accept)
    folded = (form.labelForField(panel.epochs_spin), panel.epochs_spin,
              form.labelForField(panel.layers_combo), panel.layers_combo, panel.auto_accept)

    def show_more(shown: bool) -> None:
        for widget in folded:
            widget.setVisible(shown)
        _name_more_settings(panel)

    panel.more_settings_button.toggled.connect(show_more)
    for changed in (panel.epochs_spin.valueChanged, panel.layers_combo.currentTextChanged,
                    panel.auto_accept.toggled):  # fmt: skip
        changed.connect(lambda *_: _name_more_settings(panel))
    show_more(False)
    return form


def _name_more_settings(panel) -> None:
    """The fold's button, naming (in short) the folded settings that differ from their
    defaults while folded: a hidden "Accept automatically" must not surprise anyone."""
    button = panel.more_settings_button
    shown = button.isChecked()
    button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
    changed = []
    if panel.epochs_spin.value():
        changed.append(f"{panel.epochs_spin.value()} epochs")
    if panel.layers_combo.currentIndex():
        changed.append(panel.layers_combo.currentText())
    if panel.auto_accept.isChecked():
        changed.append("auto-accept")
    button.setText("More settings" + ("" if shown or not changed else ": " + ", ".join(changed)))


def _metrics_table() -> QTableWidget:
    table = QTableWidget(0, 2)
    table.setHorizontalHeaderLabels(["before", "after"])
    table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    # Tab leaves the table (the arrow keys move between its cells): with Qt's default, Tab and
    # Shift+Tab went from cell to cell and a keyboard user was trapped in it.
    table.setTabKeyNavigation(False)
    # Rows of one line of text (the style's default is half as tall again): every metric of
    # a round, before and after, in view at once in a short dock.
    rows = table.verticalHeader()
    rows.setMinimumSectionSize(1)
    rows.setDefaultSectionSize(table.fontMetrics().lineSpacing() + ROW_PADDING)
    rows.setSectionResizeMode(QHeaderView.Fixed)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # (all rows shown)
    table.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return table


def _narrow_combo(characters: int, elide_mode=Qt.TextElideMode.ElideRight) -> ElidedComboBox:
    """A combo box ``characters`` wide at the least, its choice shortened with "…" where
    it is cut short, at the end or where ``elide_mode`` says (its list shows the choices
    whole)."""
    combo = ElidedComboBox(elide_mode=elide_mode)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def _decision_controls(panel) -> QGridLayout:
    """Accept, Reject and re-predict for a finished round."""
    panel.accept_button = QPushButton("Accept (use new model)")
    panel.reject_button = QPushButton("Reject")
    # (Roll back too: QA read it as for Accept only)
    panel.repredict_check = QCheckBox("Re-predict after Accept or Roll back", checked=True)
    grid = QGridLayout()
    grid.addWidget(panel.accept_button, 0, 0)
    grid.addWidget(panel.reject_button, 0, 1)
    grid.addWidget(panel.repredict_check, 1, 0, 1, 2)
    return grid


def _versions_row(panel) -> QHBoxLayout:
    """Roll back to an earlier version (the list of versions narrow: with Roll back beside
    it, it made the panel 476 px wide at a 14 pt font)."""
    # (shortened in the middle: versions are named "<parent name>-ft-<date>-<time>", and
    # cut at the end every version read "unet-studio default nu…" at 1280 px)
    panel.versions_combo = _narrow_combo(VERSIONS_LEAST_CHARACTERS, Qt.TextElideMode.ElideMiddle)
    # (short: Qt sizes the box for its placeholder, and "no earlier version" made the row of
    # box and Roll back the panel's widest; its tooltip says what "none yet" means)
    panel.versions_combo.setPlaceholderText("none yet")
    panel.rollback_button = QPushButton("Roll back to this version")
    panel.versions_combo.currentTextChanged.connect(lambda text: panel.versions_combo.setToolTip(
        text or "No earlier version to roll back to yet"))  # (a long name is cut off in the box)
    panel.versions_combo.setToolTip("No earlier version to roll back to yet")
    versions = QHBoxLayout()  # (the list wider than the button: a round's name is long)
    versions.addWidget(panel.versions_combo, 2)
    versions.addWidget(panel.rollback_button, 1)
    return versions


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
    # Every row in view without scrolling: the table is as tall as its rows, whatever the
    # dock's height (the plot above gives way instead).
    rows_height = table.verticalHeader().length() + table.horizontalHeader().sizeHint().height()
    table.setFixedHeight(rows_height + 2 * table.frameWidth())
