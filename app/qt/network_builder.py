"""Build a new network from the family: what it is for (objects, or the classes the user
names: ``network_task``), every option of the architecture as a form field,
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
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.model_checks import UNTRAINED_ADVICE, UNTRAINED_DATA, UNTRAINED_KEY
from unet_studio.app.model_task import outputs_text
from unet_studio.app.qt.network_form import (
    TASK_OPTIONS,
    checked_options,
    field_for,
    field_value,
    option_cell,
    option_label,
)
from unet_studio.app.qt.network_summary import encoder_stages, summarize_network
from unet_studio.app.qt.network_task import TaskFields
from unet_studio.app.qt.network_tips import option_tip
from unet_studio.app.qt.reflow_grid import ReflowGrid
from unet_studio.app.qt.workers import start_engine

# The preview's input size per spatial dimension: 256³ is 64 times 256² in 3D.
PREVIEW_SIZE = {2: 256, 3: 64}


def iter_summary(name: str, options: dict, input_size: int, task=None):
    """The preview of ``name`` with ``options``; ``task`` (TaskSpec) says what its outputs
    mean."""
    from dataclasses import replace

    yield "building"
    summary = summarize_network(name, checked_options(name, options), input_size)
    return summary if task is None else replace(summary, outputs=outputs_text(task))


def iter_create(name: str, options: dict, folder, model_name: str, task=None):
    """Build an untrained network and save it as a model folder, its config.json saying
    what it outputs (``task``: a TaskSpec; None: what its outputs suggest); returns the
    folder."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    yield "building"
    net = build_model(name, **checked_options(name, options))
    yield "saving"
    stages = encoder_stages(options)  # (the card says what "resnet101" at depth 2 really is)
    purpose = "" if task is None else f" to segment {outputs_text(task)}"
    metadata = {
        "name": model_name,
        "description": f"untrained {name} built in the Models panel{purpose}"
                       + (f"; {stages}" if stages else ""),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "parent": None,
        "training_data": UNTRAINED_DATA, UNTRAINED_KEY: True,  # (see model_checks.is_untrained)
    }  # fmt: skip
    return save_model(net, folder, task=task, metadata=metadata)


def _narrow_form() -> QFormLayout:
    """A form whose fields go below their labels where the dock is too narrow for both."""
    form = QFormLayout()
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


class NetworkBuilder(QWidget):
    """Form over the model family. ``created(folder)`` after a model was saved."""

    created = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.fields: dict[str, QWidget] = {}
        self.worker = None
        self.summary = None
        self._channels_offered: int | None = None  # (in channels as last set from the image)
        self._build()
        self._fill_form()

    def _build(self) -> None:
        from unet_studio.models.registry import list_models

        self.arch_combo = QComboBox()
        self.arch_combo.addItems(list_models())
        self.arch_combo.setCurrentText("unet")
        self.task_fields = TaskFields()  # (objects or classes: sets the outputs)
        # Two options side by side where the dock is wide enough (the preview stays in view),
        # one below the other where it is not (two columns made the panel wider than its dock).
        self.form = ReflowGrid(columns=2)
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
        top = _narrow_form()
        top.addRow("Architecture", self.arch_combo)
        top.addRow("Task", self.task_fields.combo)
        top.addRow("Classes", self.task_fields.classes_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.form)
        extra = _narrow_form()
        extra.addRow("Preview input size", self.input_size)
        extra.addRow("Model name", self.name_edit)
        layout.addLayout(extra)
        layout.addLayout(buttons)
        layout.addWidget(self.summary_view, 1)
        for widget, name in ((self.arch_combo, "Architecture"), (self.input_size, "Preview input size"),
                             (self.name_edit, "Model name")):  # fmt: skip
            widget.setAccessibleName(name)
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
        defaults = model_defaults(name)
        labels = []
        for key, value in defaults.items():
            if key in TASK_OPTIONS:
                continue
            widget = field_for(key, value, defaults)
            self.fields[key] = widget
            label = option_label(key, widget, labels)  # (as wide as the widest of them)
            self.form.addWidget(option_cell(label, widget, self))
        self._order_tabs()
        dims = self.fields.get("spatial_dims")
        if isinstance(dims, QSpinBox):  # (the preview's size follows the dimensions)
            dims.valueChanged.connect(self._preview_size_for)
            self._preview_size_for(dims.value())
        self.arch_combo.setToolTip(model_description(name))
        self.summary_view.setPlainText(model_description(name) + "\n\nPress Preview to see its shapes.")
        self._channels_offered = None
        self.follow_image_channels()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.follow_image_channels()  # (the image open may have changed since it was last seen)

    def follow_image_channels(self) -> None:
        """Offer "in channels" as many as the current image has: a two-channel image open
        was offered a 1-channel network, which Run then refused on it. A number the user
        typed stays theirs."""
        from unet_studio.app.model_channels import image_channels

        field = self.fields.get("in_channels")
        image = self.session.host.current_image()
        if not isinstance(field, QSpinBox) or image is None:
            return
        if self._channels_offered is not None and field.value() != self._channels_offered:
            return
        count = image_channels(self.session.host, image)
        field.setValue(count)
        self._channels_offered = field.value()
        field.setToolTip(f"{option_tip('in_channels')}\n\nSet to {count}: the image open, "
                         f"{image.name}, has {count} channel{'s' if count != 1 else ''}.")

    def _order_tabs(self) -> None:
        """Tab goes through the form as it reads: the options are made after the rest (and
        again for each architecture), so they came last, after Create model."""
        chain = [self.arch_combo, self.task_fields.combo, self.task_fields.classes_edit,
                 *self.fields.values(), self.input_size, self.name_edit,
                 self.preview_button, self.create_button, self.summary_view]  # fmt: skip
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)

    def options(self) -> dict:
        """The form's values as build_model options (UserError for class names that are
        not right)."""
        options = {"out_channels": self.task_fields.out_channels()}
        for key, widget in self.fields.items():
            options[key] = field_value(widget)
        return options

    def task(self):
        """What the new network's outputs mean (TaskSpec; UserError as :meth:`options`)."""
        dims = self.fields.get("spatial_dims")
        return self.task_fields.task(dims.value() if isinstance(dims, QSpinBox) else 2)

    def _form_or_tell(self) -> tuple[dict, object] | None:
        """(options, task) of the form, or None once a mistake in it is told."""
        try:
            return self.options(), self.task()
        except UserError as error:
            self.summary_view.setPlainText(f"Not possible: {error}")
            self.session.host.notify(str(error), "error")
            return None

    def _preview_size_for(self, spatial_dims: int) -> None:
        self.input_size.setValue(PREVIEW_SIZE.get(spatial_dims, self.input_size.value()))

    def preview(self) -> None:
        form = self._form_or_tell()
        if form is None:
            return
        options, task = form
        self._start(iter_summary(self.arch_combo.currentText(), options, self.input_size.value(), task),
                    self._show_summary, "Building the preview")  # fmt: skip

    def create(self) -> None:
        """Save the network of the form, untrained, as a user model. Its name follows the
        rules of Rename (``ModelLibrary.new_model_folder``): a name Rename refuses (a path,
        a "user:" ref, another model's name in other case) is refused here too."""
        form = self._form_or_tell()
        if form is None:
            return
        name = self.name_edit.text().strip() or f"{self.arch_combo.currentText()}-new"
        try:
            name, folder = self.session.library.new_model_folder(name)
        except UserError as error:
            self.session.host.notify(str(error), "error")
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        options, task = form
        self._start(iter_create(self.arch_combo.currentText(), options, folder, name, task),
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
        name = self.session.model.name
        self.summary_view.setPlainText(f"Created {folder}; it is now the current model, and "
                                       f"{UNTRAINED_ADVICE}.")
        self.session.host.notify(f"created {name}, now the current model: {UNTRAINED_ADVICE}",
                                 "warning")
        self.created.emit(folder)

