"""The network builder's form fields: one widget per option of an architecture, offering only
what that architecture can build, and its label beside it as one cell (no widgets are kept
here; ``network_builder`` lays the cells out). A value the form cannot rule out (an option
that needs another, e.g. ``skip_norm`` without a norm) is refused by
:func:`checked_options` as a UserError, not a crash.
"""

from __future__ import annotations

from qtpy.QtCore import QRect, QSize
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.model_checks import SEGMENTED_DIMS
from unet_studio.app.qt.elided_label import ElidedLabel
from unet_studio.app.qt.network_tips import option_tip
from unet_studio.app.qt.reflow_grid import ItemList

# Options the form has no field for: the task chosen above them sets them (objects: 3
# outputs; classes: one per class named, ``network_task``).
TASK_OPTIONS = ("out_channels",)
# The architecture's name says which encoder it has ("resnet18_unet"): a form changing it
# built a plain U-Net still called "resnet18_unet". The encoder is picked as the architecture.
LOCKED_OPTIONS = ("encoder",)
# (low, high) of whole-number options; the app segments 2D and 3D images only (the family's
# 1D networks are for library use). Depth's high end depends on the encoder (``_int_limits``).
INT_LIMITS = {"spatial_dims": (min(SEGMENTED_DIMS), max(SEGMENTED_DIMS)), "in_channels": (1, 64), "base_channels": (1, 1024),
              "bridge_residual_blocks": (0, 16)}  # fmt: skip
COMBO_LEAST_CHARACTERS = 6


def option_choices(defaults: dict) -> dict[str, tuple[str, ...]]:
    """The values each text option of an architecture with ``defaults`` may take. A ResNet
    encoder down-samples with its own strided convs and supports padding "same" only."""
    from unet_studio.models import config

    choices = {"padding": config.PADDINGS, "norm": config.NORMS,
               "activation": config.ACTIVATIONS, "down": config.DOWNS, "up": config.UPS,
               "decoder_block": config.DECODER_BLOCKS, "encoder": config.ENCODERS}  # fmt: skip
    if str(defaults.get("encoder", "plain")).startswith("resnet"):
        choices.update(padding=("same",), down=("conv",))
    return choices


def _int_limits(key: str, defaults: dict) -> tuple[int, int]:
    from unet_studio.models.config import MAX_DEPTH

    if key == "depth":
        return 1, MAX_DEPTH.get(str(defaults.get("encoder", "plain")), 4)
    return INT_LIMITS.get(key, (0, 4096))


def field_for(key: str, value, defaults: dict) -> QWidget:
    """The widget of option ``key`` (default ``value``) of an architecture with ``defaults``."""
    choices = option_choices(defaults).get(key)
    if choices is not None:
        widget = QComboBox()
        widget.addItems(choices)
        # (as narrow as a few characters: the form fits a narrow dock in one column)
        widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        widget.setMinimumContentsLength(COMBO_LEAST_CHARACTERS)
        widget.setCurrentText(str(value))
    elif isinstance(value, bool):
        widget = QCheckBox(checked=value)
    elif isinstance(value, int):
        low, high = _int_limits(key, defaults)
        widget = QSpinBox(minimum=low, maximum=high, value=min(max(value, low), high))
    elif isinstance(value, float):
        widget = QDoubleSpinBox(minimum=0.0, maximum=0.99, singleStep=0.05, value=value)
    else:
        widget = QLineEdit(str(value))
    widget.setEnabled(key not in LOCKED_OPTIONS)
    widget.setToolTip(option_tip(key))
    return widget


class OptionLabel(ElidedLabel):
    """The label of an option, as wide as its name (``sizeHint``), and laid out as wide as
    the widest label of its form (``group``) where the cell has room: the fields of a column
    of cells then line up (``OptionRow``). In a narrow dock it gives way before its field
    does, elided ("bridge residual bl…", the whole name in its accessible name). Computed
    when asked: the labels' font is napari's only once the form is in its window."""

    def __init__(self, text: str, group: list):
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.group = group
        group.append(self)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QLabel.sizeHint(self)

    def widest_in_group(self) -> int:
        return max((label.sizeHint().width() for label in self.group), default=0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        least = super().minimumSizeHint()
        return QSize(min(least.width(), self.sizeHint().width()), least.height())


class OptionRow(ItemList):
    """An option's label beside its field. A box layout shrank both alike below their size
    hints: the label lost "…cks" of "bridge residual blocks" while its spin box still had
    room to give. Here the field gives way first, down to its least width, and only then the
    label (elided). Its size hint is the label's name whole beside the field (the builder's
    grid takes one column rather than cut names short); its least width, the label's least."""

    def __init__(self, label: OptionLabel, field: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setContentsMargins(0, 0, 0, 0)
        self.label = label
        self.addWidget(label)  # (the items: the label, then its field)
        self.addWidget(field)

    # ---- sizes -----------------------------------------------------------------------------
    def _gap(self) -> int:
        widget = self.parentWidget()
        gap = widget.style().pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing) \
            if widget is not None else -1
        return gap if gap >= 0 else 6

    def _both(self, label: QSize, field: QSize) -> QSize:
        return QSize(label.width() + self._gap() + field.width(), max(label.height(), field.height()))

    def sizeHint(self) -> QSize:
        label, field = self._items
        return self._both(label.sizeHint(), field.minimumSize().expandedTo(field.sizeHint()))

    def minimumSize(self) -> QSize:
        label, field = self._items
        return self._both(label.minimumSize(), field.minimumSize())

    def expandingDirections(self):
        return self._items[1].expandingDirections()

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        label, field = self._items
        gap = self._gap()
        room = rect.width() - gap - field.minimumSize().width()  # (the field at its least)
        width = max(label.minimumSize().width(), min(self.label.widest_in_group(), room))
        label.setGeometry(QRect(rect.x(), rect.y(), width, rect.height()))
        field.setGeometry(QRect(rect.x() + width + gap, rect.y(),
                                rect.width() - width - gap, rect.height()))


def option_label(key: str, field: QWidget, group: list) -> OptionLabel:
    """The label of option ``key``, linked to its field: the field is named after it (a
    check box has no text of its own, and a screen reader said nothing for five of them)."""
    text = key.replace("_", " ")
    label = OptionLabel(text, group)
    # What the option does, as its field says, and its name in config.json.
    tip = field.toolTip()
    label.setToolTip(f"{tip}\n({key} in config.json)" if tip else key)
    label.setBuddy(field)
    field.setAccessibleName(text)
    return label


def option_cell(label: OptionLabel, field: QWidget, parent: QWidget | None = None) -> QWidget:
    """One option, its label beside its field, as one cell of the builder's form."""
    cell = QWidget(parent)
    OptionRow(label, field, cell)
    return cell


def field_value(widget: QWidget):
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    return widget.text()


def checked_options(name: str, options: dict) -> dict:
    """``options`` for architecture ``name`` once the family's config accepts them (no
    torch); UserError saying what is not allowed, so that a mistake in the form is told as
    such and not logged as a failure with a traceback."""
    from unet_studio.models.config import ModelConfig
    from unet_studio.models.registry import model_defaults

    try:
        config = ModelConfig.from_dict({**model_defaults(name), **options})
    except ValueError as error:
        raise UserError(f"{name} cannot be built with these options: {error}") from None
    if config.spatial_dims not in SEGMENTED_DIMS:
        raise UserError(f"spatial_dims must be 2 or 3 (2D or 3D images), got {config.spatial_dims}")
    return options
