"""Build a new network from the family: every option of the architecture as a form field,
a preview of its per-level tensor shapes, parameters, FLOPs per pixel and receptive field,
and "Create" to save it (untrained) as a user model that the Train panel can start from.

The form is generated from ``models.registry.model_defaults(name)``, so an option added to
the model family appears here without touching this file.
"""

from __future__ import annotations

from datetime import datetime, timezone

from qtpy.QtCore import Signal
from qtpy.QtGui import QFontDatabase
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.model_library import model_folder_name
from unet_studio.app.qt.network_summary import encoder_stages, summarize_network
from unet_studio.app.qt.workers import start_engine

# Options fixed by the task (instance segmentation: 3 outputs) rather than by the user.
FIXED_OPTIONS = {"out_channels": 3}


def option_choices() -> dict[str, tuple[str, ...]]:
    from unet_studio.models import config

    return {"padding": config.PADDINGS, "norm": config.NORMS, "activation": config.ACTIVATIONS,
            "down": config.DOWNS, "up": config.UPS, "decoder_block": config.DECODER_BLOCKS,
            "encoder": config.ENCODERS}  # fmt: skip


def iter_summary(name: str, options: dict, input_size: int):
    yield "building"
    return summarize_network(name, options, input_size)


def iter_create(name: str, options: dict, folder, model_name: str):
    """Build an untrained network and save it as a model folder; returns the folder."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    yield "building"
    net = build_model(name, **options)
    yield "saving"
    stages = encoder_stages(options)  # (the card says what "resnet101" at depth 2 really is)
    metadata = {
        "name": model_name,
        "description": f"untrained {name} built in the Models panel" + (f"; {stages}" if stages else ""),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "parent": None,
        "training_data": "none yet (untrained)",
    }  # fmt: skip
    return save_model(net, folder, metadata=metadata)


class NetworkBuilder(QWidget):
    """Form over the model family. ``created(folder)`` after a model was saved."""

    created = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.fields: dict[str, QWidget] = {}
        self.worker = None
        self.summary = None
        self._build()
        self._fill_form()

    def _build(self) -> None:
        from unet_studio.models.registry import list_models

        self.arch_combo = QComboBox()
        self.arch_combo.addItems(list_models())
        self.arch_combo.setCurrentText("unet")
        self.form = QGridLayout()
        self.form.setColumnStretch(1, 1)
        self.form.setColumnStretch(3, 1)
        self.input_size = QSpinBox(minimum=16, maximum=4096, value=256, singleStep=16)
        self.name_edit = QLineEdit(placeholderText="name of the new model")
        self.preview_button = QPushButton("Preview")
        self.create_button = QPushButton("Create model")
        self.summary_view = QPlainTextEdit(readOnly=True)
        self.summary_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.summary_view.setMinimumHeight(220)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.create_button)
        top = QFormLayout()
        top.addRow("Architecture", self.arch_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.form)
        extra = QFormLayout()
        extra.addRow("Preview input size", self.input_size)
        extra.addRow("Model name", self.name_edit)
        layout.addLayout(extra)
        layout.addLayout(buttons)
        layout.addWidget(self.summary_view, 1)
        self.arch_combo.currentTextChanged.connect(lambda _name: self._fill_form())
        self.preview_button.clicked.connect(self.preview)
        self.create_button.clicked.connect(self.create)

    def _fill_form(self) -> None:
        from unet_studio.models.registry import model_defaults, model_description

        name = self.arch_combo.currentText()
        while self.form.count():
            item = self.form.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # out of the layout but still a child until deleted
                item.widget().deleteLater()
        self.fields = {}
        choices = option_choices()
        options = [(k, v) for k, v in model_defaults(name).items() if k not in FIXED_OPTIONS]
        for index, (key, value) in enumerate(options):
            widget = _field_for(key, value, choices.get(key))
            self.fields[key] = widget
            row, column = divmod(index, 2)  # two options per row keeps the preview in view
            label = QLabel(key.replace("_", " "))
            label.setToolTip(key)
            self.form.addWidget(label, row, 2 * column)
            self.form.addWidget(widget, row, 2 * column + 1)
        self.arch_combo.setToolTip(model_description(name))
        self.summary_view.setPlainText(model_description(name) + "\n\nPress Preview to see its shapes.")

    def options(self) -> dict:
        """The form's values as build_model options."""
        options = dict(FIXED_OPTIONS)
        for key, widget in self.fields.items():
            options[key] = _field_value(widget)
        return options

    def preview(self) -> None:
        self._start(iter_summary(self.arch_combo.currentText(), self.options(), self.input_size.value()),
                    self._show_summary, "Building the preview")  # fmt: skip

    def create(self) -> None:
        name = self.name_edit.text().strip() or f"{self.arch_combo.currentText()}-new"
        library = self.session.library
        root = library.folders["user"]
        root.mkdir(parents=True, exist_ok=True)
        folder = root / model_folder_name(name)
        if folder.exists():
            self.session.host.notify(f"a model called {name!r} exists; choose another name", "error")
            return
        self._start(iter_create(self.arch_combo.currentText(), self.options(), folder, name),
                    self._on_created, "Creating the model",
                    task=f"creating the model {name!r}")

    def _start(self, generator, on_result, action: str, task: str | None = None) -> None:
        if self.worker is not None:
            return
        self.summary_view.setPlainText(f"{action}…")
        self.preview_button.setEnabled(False)
        self.create_button.setEnabled(False)
        self.worker = start_engine(
            generator, notify=self.session.host.notify, action=action, on_result=on_result,
            on_error=lambda error: self.summary_view.setPlainText(f"Not possible: {error}"),
            on_finished=self._on_finished, host=self.session.host, task=task,
        )  # fmt: skip

    def _on_finished(self) -> None:
        self.worker = None
        self.preview_button.setEnabled(True)
        self.create_button.setEnabled(True)

    def _show_summary(self, summary) -> None:
        self.summary = summary
        self.summary_view.setPlainText(summary.as_text())

    def _on_created(self, folder) -> None:
        try:
            self.session.set_model(folder)
        except UserError as error:
            self.session.host.notify(str(error), "error")
            return
        self.summary_view.setPlainText(f"Created {folder}; it is now the current model.")
        self.created.emit(folder)


def _field_for(key: str, value, choices) -> QWidget:
    if choices is not None:
        widget = QComboBox()
        widget.addItems(choices)
        widget.setCurrentText(str(value))
    elif isinstance(value, bool):
        widget = QCheckBox(checked=value)
    elif isinstance(value, int):
        widget = QSpinBox(minimum=0, maximum=4096, value=value)
    elif isinstance(value, float):
        widget = QDoubleSpinBox(minimum=0.0, maximum=0.99, singleStep=0.05, value=value)
    else:
        widget = QLineEdit(str(value))
    return widget


def _field_value(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    return widget.text()
