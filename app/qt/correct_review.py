"""The Correct panel's "Find objects to check": the objects ordered by how likely they are
to be wrong (``app.object_review``), brought into view one after another with Next and
Previous. The objects are measured once, in a worker thread, when Next is first pressed
(and again after new labels); each one shown gets its label picked for the brush. A mixin
of :class:`CorrectPanel`, which provides ``session``, ``tools``, ``shown_keys`` and
``_start``."""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton

from unet_studio.app.class_map import labels_classes, refusal
from unet_studio.app.errors import UserError
from unet_studio.app.measure import iter_measure
from unet_studio.app.object_review import ORDERS, ObjectQueue
from unet_studio.app.object_search import holds_id


class CorrectReview:
    def _build_find(self) -> QGroupBox:
        box = QGroupBox("Find objects to check")
        grid = QGridLayout(box)
        self.find_order = QComboBox()
        for name, tip in ORDERS.items():
            self.find_order.addItem(name)
            self.find_order.setItemData(self.find_order.count() - 1, tip, 3)  # (ToolTipRole)
        self.find_previous_button = QPushButton("Previous")
        self.find_previous_button.setToolTip(f"Or press {self.shown_keys['previous']}")
        self.find_button = QPushButton("Next")
        self.find_button.setToolTip("Bring the next object in this order into view (measured "
                                    "in the background the first time). Or press "
                                    f"{self.shown_keys['next']}")  # fmt: skip
        self.find_label = QLabel("Objects one by one, the most suspicious first.", wordWrap=True)
        grid.addWidget(self.find_order, 0, 0)
        grid.addWidget(self.find_previous_button, 0, 1)
        grid.addWidget(self.find_button, 0, 2)
        grid.addWidget(self.find_label, 1, 0, 1, 3)
        self.find_worker = None
        self.find_rows: list[dict] | None = None  # the measurements of the labels shown
        self.find_queue: ObjectQueue | None = None
        self.find_order.currentTextChanged.connect(lambda _: self._reorder())
        # (the box shows one word, "smallest": its tooltip says what the order looks for)
        self.find_order.currentTextChanged.connect(lambda _: self._show_order_tip())
        self._show_order_tip()
        self.find_button.clicked.connect(lambda: self.find_step(True))
        self.find_previous_button.clicked.connect(lambda: self.find_step(False))
        self.session.labels_replaced.connect(self._forget_objects)
        return box

    def _show_order_tip(self) -> None:
        self.find_order.setToolTip(f"Check the objects {ORDERS[self.find_order.currentText()]}")

    def _grey_find_order(self, classes: tuple[str, ...]) -> None:
        """The order of Find objects to check is greyed out with its buttons on a class map
        (``classes``), saying why as they do; its own tip back on objects."""
        self.find_order.setEnabled(not classes)
        if classes:
            told = refusal(self.session, classes, "Find objects to check")
            self.find_order.setToolTip(f"{told[:1].upper()}{told[1:]}")
        else:
            self._show_order_tip()

    def _forget_objects(self) -> None:
        """New labels: what was measured is of others."""
        self.find_rows, self.find_queue = None, None
        self.find_label.setText("Objects one by one, the most suspicious first.")

    def _reorder(self) -> None:
        if self.find_rows is not None:
            self.find_queue = ObjectQueue(self.find_rows, self._spatial_axes(),
                                          self.find_order.currentText())  # fmt: skip

    def _spatial_axes(self) -> str:
        image = self.session.host.current_image()
        return "".join(a for a in image.axes if a in "ZYX")

    def find_step(self, forward: bool = True):
        """Show the next (previous) object; measures the objects first (in a worker: the
        worker is returned) when they are not measured yet."""
        host = self.session.host
        classes = labels_classes(self.session)
        if classes:  # (its "objects" are whole classes: nothing to go through one by one)
            told = refusal(self.session, classes, "Find objects to check")
            host.notify(told, "warning")
            self._say(f"{told[:1].upper()}{told[1:]}.")
            return None
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None:
            host.notify("Nothing to go through: segment the image (or add labels) first",
                        "warning")  # fmt: skip
            return None
        if self.find_queue is None:
            try:
                steps = iter_measure(labels, axes=image.axes.replace("C", ""))
            except UserError as error:
                host.notify(f"Cannot measure the objects of {image.name}: {error}", "error")
                return None
            self.find_label.setText("Measuring the objects…")
            return self._start("find", steps, "Measuring", f"measuring the objects of {image.name}",
                               lambda rows: self._measured(rows, forward))
        self._show_next(forward)
        return None

    def _measured(self, rows: list[dict], forward: bool) -> None:
        self.find_rows = rows
        self._reorder()
        self._show_next(forward)

    def _show_next(self, forward: bool) -> None:
        queue = self.find_queue
        entry = queue.step(forward, self._still_there)
        if entry is None:
            if forward:  # (the corrections made meanwhile are measured on the next press)
                self.find_rows, self.find_queue = None, None
                self.find_label.setText(f"That was the last of {len(queue)} objects; Next "
                                        "measures them again and starts over.")  # fmt: skip
            else:
                self.find_label.setText(f"That was the first of {len(queue)} objects.")
            return
        coordinate = entry.coordinate(self.tools.time_axis())
        host = self.session.host
        if hasattr(host, "center_on"):
            host.center_on(coordinate)
        if hasattr(host, "hold_pointer_at"):  # (N then D deletes the object shown)
            host.hold_pointer_at(entry.point_inside(host.current_labels(), self.tools.time_axis()))
        if hasattr(host, "set_selected_label"):  # (napari's tool stays: a click pans)
            host.set_selected_label(entry.label, paint=False)
        when = "" if entry.frame is None else f" at time point {entry.frame}"
        self.find_label.setText(f"Object {entry.label}{when}: {entry.pixels} px, "
                                f"{queue.rank_text()} ({queue.order} first).")  # fmt: skip

    def _still_there(self, entry) -> bool:
        """Is the object still where it was measured (edits since may have removed it)?"""
        labels = self.session.host.current_labels()
        axis = self.tools.time_axis()
        box = entry.box if axis is None else (*entry.box[:axis], entry.frame, *entry.box[axis:])
        return labels is not None and holds_id(labels[box], entry.label)
