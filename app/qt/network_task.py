"""The network builder's first choice: what the new network is for. Objects (instance
labels: 3 outputs, background, foreground and boundary, split by a watershed) or classes
(a semantic class map: one output per class the user names). The builder lays the two
widgets out; the rule for class names is ``app.model_task``'s, shared with the CLI.
"""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QLineEdit

from unet_studio.app.errors import UserError
from unet_studio.app.model_task import CLASSES_EXAMPLE, parse_class_names, semantic_task
from unet_studio.app.qt.network_tips import task_tip

OBJECTS = "Objects (instances)"
CLASSES = "Classes (semantic)"
# The outputs of a network segmenting objects (models.task.TaskSpec's default).
OBJECT_OUTPUTS = 3


class TaskFields:
    """The task combo box and the class names field (enabled for classes only)."""

    def __init__(self):
        self.combo = QComboBox()
        self.combo.addItems([OBJECTS, CLASSES])
        self.combo.setToolTip(task_tip("task"))
        self.combo.setAccessibleName("Task")
        self.classes_edit = QLineEdit(placeholderText=CLASSES_EXAMPLE)
        self.classes_edit.setToolTip(task_tip("classes"))
        self.classes_edit.setAccessibleName("Classes")
        self.combo.currentTextChanged.connect(self._follow_choice)
        self._follow_choice(self.combo.currentText())

    @property
    def semantic(self) -> bool:
        return self.combo.currentText() == CLASSES

    def _follow_choice(self, _text: str) -> None:
        self.classes_edit.setEnabled(self.semantic)

    def class_names(self) -> tuple[str, ...] | None:
        """The typed class names (None for objects); UserError saying what is wrong."""
        if not self.semantic:
            return None
        try:
            return parse_class_names(self.classes_edit.text())
        except UserError as error:
            raise UserError(f"Classes: {error}") from None

    def out_channels(self) -> int:
        names = self.class_names()
        return OBJECT_OUTPUTS if names is None else len(names)

    def task(self, spatial_dims: int):
        """The TaskSpec the new network's config.json records."""
        from unet_studio.models.task import TaskSpec

        names = self.class_names()
        if names is None:
            return TaskSpec(kind="instance", spatial_axes="ZYX"[-int(spatial_dims):])
        return semantic_task(names, spatial_dims)
