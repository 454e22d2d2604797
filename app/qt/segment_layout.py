"""The Segment panel's widgets and their layout (``SegmentPanel`` wires them and starts
runs, ``SegmentOutcome`` shows what a run reports, ``segment_logic`` and ``segment_job`` plan
and run it): the image and model choices, the run's settings, Run / Cancel / "Stop, keep
done", progress and status, top to bottom."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.qt.elided_label import ElidedComboBox
from unet_studio.app.qt.names_label import NamesLabel
from unet_studio.app.qt.scrolling import scrolled_body
from unet_studio.app.qt.segment_choices import object_option_spins
from unet_studio.app.qt.segment_logic import OUTPUT_TYPES
from unet_studio.app.qt.segment_tips import set_tips

TILE_CHOICES = ("auto", "128", "256", "512", "1024")


def build(panel) -> None:
    """Create the panel's widgets as its attributes and lay them out."""
    # The settings a run takes when it starts, in one widget: greyed out as one while it
    # runs, each keeping its own state (a Channel with nothing to pick stays greyed after).
    panel.settings = QWidget()
    form = QFormLayout(panel.settings)
    form.setContentsMargins(0, 0, 0, 0)
    panel.image_combo = ElidedComboBox()
    panel.axes_edit = QLineEdit(placeholderText="from the file, e.g. ZYX")
    # Says when the axes were guessed (no names in the file, or an array with no file, 3D
    # or more); hidden otherwise.
    panel.axes_note = QLabel("", wordWrap=True, visible=False)
    axes_box = QVBoxLayout()
    axes_box.addWidget(panel.axes_edit)
    axes_box.addWidget(panel.axes_note)
    panel.channel_spin = QSpinBox(minimum=0, maximum=64)
    # Shown instead of the box where there is no channel to pick: a greyed "- " spin box
    # with its arrows still drawn looked like a live control.
    panel.channel_note = QLabel("", visible=False)
    channel_row = QHBoxLayout()
    channel_row.addWidget(panel.channel_spin, 1)
    channel_row.addWidget(panel.channel_note, 1)
    # (a long model name shortens in the box, with "…", rather than widen the panel: at 1.5x
    # display scaling the window outgrew a laptop screen; the list shows names whole. In the
    # middle: a fine-tuned model's name ends with what tells it from its parent, "-ft-<time>")
    panel.model_combo = ElidedComboBox(elide_mode=Qt.TextElideMode.ElideMiddle)
    panel.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    panel.model_combo.setMinimumContentsLength(10)
    panel.image_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    panel.image_combo.setMinimumContentsLength(10)
    panel.model_folder_button = QPushButton("Folder…")
    model_row = QHBoxLayout()
    model_row.addWidget(panel.model_combo, 1)
    model_row.addWidget(panel.model_folder_button)
    panel.device_combo = QComboBox()
    panel.tile_combo = QComboBox(editable=True)
    panel.tile_combo.addItems(TILE_CHOICES)
    panel.output_combo = QComboBox()
    panel.output_combo.addItems(OUTPUT_TYPES)
    panel.min_size_spin, panel.split_spin = object_option_spins()
    panel.scope_stack = QRadioButton("Whole stack", checked=True)
    panel.scope_slice = QRadioButton("Current slice")
    scope_group = QButtonGroup(panel)
    scope_row = QHBoxLayout()
    for button in (panel.scope_stack, panel.scope_slice):
        scope_group.addButton(button)
        scope_row.addWidget(button)
    form.addRow("Image", panel.image_combo)
    form.addRow("Axes", axes_box)
    form.addRow("Channel", channel_row)
    form.addRow("Model", model_row)
    form.addRow("Device", panel.device_combo)
    form.addRow("Tile size", panel.tile_combo)
    form.addRow("Output", panel.output_combo)
    # (a row each: side by side, napari's wide spin boxes made the panel 430 px wide)
    form.addRow("Min size", panel.min_size_spin)
    form.addRow("Split depth", panel.split_spin)
    form.addRow("Run on", scope_row)
    panel.run_button = QPushButton("Run")
    panel.cancel_button = QPushButton("Cancel", enabled=False)
    # Beside Cancel: stops a run over a time series keeping the time points done.
    panel.stop_keep_button = QPushButton("Stop, keep done", enabled=False)
    buttons = QHBoxLayout()
    buttons.addWidget(panel.run_button)
    buttons.addWidget(panel.cancel_button)
    buttons.addWidget(panel.stop_keep_button)
    panel.progress = QProgressBar(minimum=0, maximum=100, value=0)
    # What Run will do, said once filled; it names the image and model, which may be long
    # and unbroken: it wraps them in the panel's width and never widens the dock.
    panel.status = NamesLabel()
    set_tips(panel, running=False)
    layout = QVBoxLayout(scrolled_body(panel))  # (scrolls in a short dock)
    layout.addWidget(panel.settings)
    layout.addLayout(buttons)
    layout.addWidget(panel.progress)
    layout.addWidget(panel.status)
    layout.addStretch(1)
