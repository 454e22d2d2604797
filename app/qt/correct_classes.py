"""The Correct panel on a class map (``app.class_map``): a class picker instead of New label
id (each class in its colour: the legend too), and the object tools that would damage a
class map greyed out, their tooltips saying why. A mixin of :class:`CorrectPanel`, which
provides ``session``, ``tools``, the buttons, ``_run``, ``_say``, ``_choose_tool``,
``_labels_shown``, ``_grey_find_order`` and ``_update_tool_state``."""

from __future__ import annotations

from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import QComboBox, QLabel

from unet_studio.app.class_map import (
    class_colour,
    class_text,
    follow_model,
    labels_classes,
    refusal,
)

# The panel's widgets that act on objects, by what a class map's refusal calls them (None:
# by its text, which follows the image: Fill between slices, or time points).
OBJECT_WIDGETS = {"add": "Add object", "delete": "Delete", "merge": "Merge", "split": "Split",
                  "fill_button": "Fill holes", "relabel_button": "Relabel 1..N",
                  "interpolate_button": None,
                  "find_button": "Find objects to check",
                  "find_previous_button": "Find objects to check",
                  "tracks_button": "Show tracks", "ctc_button": "Export tracks (CTC)"}  # fmt: skip


class CorrectClasses:
    def _build_classes(self, grid, row: int) -> None:
        self.class_label = QLabel("Paint with class:")
        self.class_combo = QComboBox()
        self.class_combo.setToolTip("The classes of this class map, in their colours: choose "
                                    "one to paint it with napari's brush (0 is left clear)")
        grid.addWidget(self.class_label, row, 0)
        grid.addWidget(self.class_combo, row, 1)
        self.class_combo.activated.connect(lambda i: self._run(lambda: self._paint_class(i)))
        self._shown_classes: tuple[str, ...] = ()
        self._object_tips: dict = {}  # (a widget's own tooltip, while a class map greys it)
        self._greyed: set[str] = set()  # (the widgets a class map greyed out)
        self.session.labels_replaced.connect(self._new_labels_shown)
        self.session.model_changed.connect(lambda _model: self._follow_classes())
        for connect in ("connect_labels_classes", "connect_active_layer_changed"):
            if hasattr(self.session.host, connect):  # (host listeners outlive the panel)
                getattr(self.session.host, connect)(self._classes_recorded)

    def _classes_recorded(self) -> None:
        try:
            self._follow_classes()
        except RuntimeError:  # (the panel's widgets deleted: closed with its window)
            pass

    def _new_labels_shown(self) -> None:
        self._labels_shown += 1  # (the status line said what it said of the labels before)
        self._follow_classes()

    def _follow_classes(self) -> None:
        """New labels, model or classes recorded: are the labels a class map now?"""
        if follow_model(self.session) and self.tools.mode not in (None, "pick"):
            self._choose_tool(None)  # (a click tool of objects: off)
        self._update_tool_state()

    def _paint_class(self, value: int) -> None:
        names = labels_classes(self.session)
        if not 0 <= value < len(names):
            return
        self.session.host.set_selected_label(value)
        self._say(f"Painting with {class_text(names, value)}: napari's brush (P); erase, fill "
                  "and polygon stay in the layer controls.")

    def _update_classes(self) -> tuple[str, ...]:
        """Show the class picker (or New label id) and grey out the object tools as the
        labels are a class map or objects; returns their classes (() : objects)."""
        names = labels_classes(self.session)
        if names != self._shown_classes:
            self._shown_classes = names
            self._fill_class_combo(names)
        self.class_label.setVisible(bool(names))
        self.class_combo.setVisible(bool(names))
        self.fresh_button.setVisible(not names)
        # (K picks the class under the pointer on a class map: its values are classes)
        self.tool_buttons["pick"].setText("Pick class (click)" if names else "Pick label (click)")
        self._grey_find_order(names)
        selected = getattr(self.session.host, "selected_label", lambda: -1)()
        if names and 0 <= selected < len(names):
            self.class_combo.setCurrentIndex(selected)  # (activated: the user's choice only)
        for name, what in OBJECT_WIDGETS.items():
            widget = self.tool_buttons[name] if name in self.tool_buttons else getattr(self, name)
            if widget not in self._object_tips:
                self._object_tips[widget] = widget.toolTip()
            tip = refusal(self.session, names, what or widget.text()) if names \
                else self._object_tips[widget]
            widget.setToolTip(tip[:1].upper() + tip[1:])
            if names:
                widget.setEnabled(False)
                self._greyed.add(name)
            elif name in self._greyed and name not in ("fill_button", "relabel_button"):
                # (Fill holes and Relabel: the caller's, as an edit of every object runs)
                worker = getattr(self, f"{name.split('_')[0]}_worker", None)  # (find, ...)
                widget.setEnabled(worker is None)
        if not names:
            self._greyed.clear()
        return names

    def _fill_class_combo(self, names) -> None:
        self.class_combo.clear()
        for value in range(len(names)):
            swatch = QPixmap(14, 14)
            red, green, blue, alpha = class_colour(value)
            swatch.fill(QColor.fromRgbF(red, green, blue, alpha))
            self.class_combo.addItem(QIcon(swatch), class_text(names, value))
