"""The Correct panel: object tools, review marking and the project, on the current labels.

napari's own paint, erase, fill and polygon stay in the layer controls; this panel adds the
object-level tools (see ``correct_tools``) and says what has been reviewed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.measure import iter_measure_to_csv
from unet_studio.app.qt.correct_tools import (
    ObjectTools,
    mark_reviewed_drawn,
    mark_reviewed_view,
)
from unet_studio.app.qt.pointer_tools import POINTER_KEYS, PointerTools
from unet_studio.app.qt.workers import start_engine
from unet_studio.app.tracks import iter_tracks

# Labels up to this size are copied before they are measured (see export_measurements).
SNAPSHOT_BYTES = 1 << 30

TOOL_BUTTONS = (("delete", "Delete (click)"), ("merge", "Merge (click)"),
                ("split", "Split (seeds)"), ("pick", "Pick label (click)"))  # fmt: skip
TOOL_KEY_TIPS = {
    "delete": "Or press D with the mouse pointer over the object",
    "merge": "Or press G over one object, then G over the object to join to it",
    "split": "Or press S over each part of the object, then Shift+S",
    "pick": "Or press K with the mouse pointer over the object",
}


class CorrectPanel(QWidget):
    """Object tools and reviewed regions over a :class:`StudioSession`."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.tools = ObjectTools(session)
        self.keys = PointerTools(self.tools)
        self._shown_points: list[tuple[float, ...]] = []  # picks marked on the canvas
        self._build()
        self._bind_keys()
        session.reviewed_changed.connect(self._update_reviewed)
        session.labels_replaced.connect(self._update_reviewed)
        session.project_changed.connect(self._update_project)
        self._update_tool_state()
        self._update_reviewed()
        self._update_project()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_tools())
        layout.addWidget(self._build_review())
        layout.addWidget(self._build_project())
        layout.addStretch(1)

    def _build_tools(self) -> QGroupBox:
        box = QGroupBox("Object tools")
        grid = QGridLayout(box)
        self.tool_group = QButtonGroup(self)
        self.tool_group.setExclusive(False)  # a second click on the active tool turns it off
        self.tool_buttons: dict[str, QPushButton] = {}
        for column, (mode, text) in enumerate(TOOL_BUTTONS):
            button = QPushButton(text, checkable=True)
            button.setToolTip(TOOL_KEY_TIPS[mode])
            button.toggled.connect(lambda on, m=mode: self._choose_tool(m if on else None))
            self.tool_group.addButton(button)
            self.tool_buttons[mode] = button
            grid.addWidget(button, column // 2, column % 2)
        self.apply_button = QPushButton("Apply")
        self.cancel_button = QPushButton("Cancel tool")
        self.fill_button = QPushButton("Fill holes")
        self.relabel_button = QPushButton("Relabel 1..N")
        self.fresh_button = QPushButton("New label id")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        rows = ((self.apply_button, self.cancel_button),
                (self.fill_button, self.relabel_button, self.fresh_button),
                (self.undo_button, self.redo_button))  # fmt: skip
        for row, buttons in enumerate(rows, start=2):
            for column, button in enumerate(buttons):
                grid.addWidget(button, row, column)
        self.fill_button.setToolTip("Fill the holes of every object (H over an object: its "
                                    "holes only)")
        self.tool_status = QLabel(wordWrap=True)
        grid.addWidget(self.tool_status, 5, 0, 1, 3)
        self.apply_button.clicked.connect(lambda: self._run(self.tools.apply))
        self.cancel_button.clicked.connect(lambda: self._choose_tool(None))
        self.fill_button.clicked.connect(lambda: self._run(self.tools.fill_holes))
        self.relabel_button.clicked.connect(lambda: self._run(self.tools.relabel))
        self.fresh_button.clicked.connect(self._fresh_label)
        self.undo_button.clicked.connect(lambda: self._run(self._host_call("undo")))
        self.redo_button.clicked.connect(lambda: self._run(self._host_call("redo")))
        return box

    def _build_review(self) -> QGroupBox:
        box = QGroupBox("Reviewed (only these regions become training data)")
        grid = QGridLayout(box)
        self.mark_slice_button = QPushButton("Mark this slice")
        self.mark_slice_button.setToolTip("Or press R over the canvas")
        self.unmark_slice_button = QPushButton("Unmark this slice")
        self.unmark_slice_button.setToolTip("Or press Shift+R over the canvas")
        self.draw_button = QPushButton("Draw region")
        self.mark_drawn_button = QPushButton("Mark drawn region")
        self.auto_check = QCheckBox("Mark edited regions automatically", checked=True)
        self.overlay_check = QCheckBox("Show reviewed overlay", checked=True)
        self.reviewed_label = QLabel()
        grid.addWidget(self.mark_slice_button, 0, 0)
        grid.addWidget(self.unmark_slice_button, 0, 1)
        grid.addWidget(self.draw_button, 1, 0)
        grid.addWidget(self.mark_drawn_button, 1, 1)
        grid.addWidget(self.auto_check, 2, 0, 1, 2)
        grid.addWidget(self.overlay_check, 3, 0, 1, 2)
        grid.addWidget(self.reviewed_label, 4, 0, 1, 2)
        self.mark_slice_button.clicked.connect(lambda: self._run(lambda: mark_reviewed_view(self.session)))
        self.unmark_slice_button.clicked.connect(
            lambda: self._run(lambda: mark_reviewed_view(self.session, reviewed=False))
        )
        self.draw_button.clicked.connect(lambda: self._run(self._host_call("start_region_drawing")))
        self.mark_drawn_button.clicked.connect(lambda: self._run(lambda: mark_reviewed_drawn(self.session)))
        self.auto_check.toggled.connect(self._set_auto)
        self.overlay_check.toggled.connect(self.session.set_overlay_visible)
        return box

    def _build_project(self) -> QGroupBox:
        box = QGroupBox("Project (corrections are saved continuously)")
        grid = QGridLayout(box)
        self.project_label = QLabel(wordWrap=True)
        self.new_project_button = QPushButton("New project…")
        self.open_project_button = QPushButton("Open project…")
        grid.addWidget(self.project_label, 0, 0, 1, 2)
        grid.addWidget(self.new_project_button, 1, 0)
        grid.addWidget(self.open_project_button, 1, 1)
        self.new_project_button.clicked.connect(lambda: self._choose_project(create=True))
        self.open_project_button.clicked.connect(lambda: self._choose_project(create=False))
        self.measure_button = QPushButton("Export measurements…")
        self.measure_button.setToolTip("A CSV table of the objects: size in pixels and µm, "
                                       "centroid, bounding box, intensity per channel")
        grid.addWidget(self.measure_button, 2, 0)
        self.measure_button.clicked.connect(self._choose_measurements_file)
        self.measure_worker = None
        self.tracks_button = QPushButton("Show tracks")
        self.tracks_button.setToolTip("A time series: the path of each object (one id over "
                                      "time) as a napari Tracks layer")
        grid.addWidget(self.tracks_button, 2, 1)
        self.tracks_button.clicked.connect(self.show_tracks)
        self.tracks_worker = None
        return box

    # ---- wiring ----------------------------------------------------------------------------
    def _run(self, action) -> None:
        """Run a button's action; a UserError becomes a notification, not a traceback."""
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "warning")
        self._update_tool_state()

    def _bind_keys(self) -> None:
        """The pointer tools' keys on the viewer (a host without keys: buttons only)."""
        bind = getattr(self.session.host, "set_key_handler", None)
        if bind is None:
            return
        for key, action in POINTER_KEYS.items():
            bind(key, lambda coord, a=action: self._run(lambda: self.keys.press(a, coord)))

    def _host_call(self, name: str):
        def call():
            method = getattr(self.session.host, name, None)
            if method is None:
                raise UserError(f"this viewer does not support {name.replace('_', ' ')}")
            method()

        return call

    def _choose_tool(self, mode: str | None) -> None:
        self.keys.reset()  # (a pending key merge or split would act on stale picks)
        for other, button in self.tool_buttons.items():
            button.blockSignals(True)
            button.setChecked(other == mode)
            button.blockSignals(False)
        self.tools.set_mode(mode)
        if hasattr(self.session.host, "set_click_handler"):
            self.session.host.set_click_handler(self._on_click if mode else None)
        self._update_tool_state()

    def _on_click(self, coord) -> None:
        self._run(lambda: self._click(coord))

    def _click(self, coord) -> None:
        self.tools.click(coord)
        if self.tools.mode == "pick":  # picked: give the clicks back to napari's brush
            label = self.session.host.selected_label()
            self._choose_tool(None)
            self.session.host.notify(f"painting with label {label}")

    def _fresh_label(self) -> None:
        def pick():
            label = self.tools.fresh_label()
            self._choose_tool(None)
            self.session.host.notify(f"painting with the new label {label}")

        self._run(pick)

    def _set_auto(self, on: bool) -> None:
        regions = self.session.ensure_reviewed()
        if regions is not None:
            regions.auto_from_edits = bool(on)

    def _choose_project(self, create: bool) -> None:
        title = "New project folder" if create else "Open project folder"
        folder = QFileDialog.getExistingDirectory(self, title)
        if folder:
            self._run(lambda: self.session.open_project(Path(folder), create=create))

    # ---- measurements ----------------------------------------------------------------------
    def _choose_measurements_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export measurements",
                                              str(self._default_measurements_path()),
                                              "CSV files (*.csv)")
        if path:
            self.export_measurements(path)

    def _default_measurements_path(self) -> Path:
        """``<project, image or home folder>/<image name>_objects.csv``."""
        image = self.session.host.current_image()
        source = getattr(self.session.host, "image_source", lambda: None)()
        if self.session.project is not None:
            folder = Path(self.session.project.path)
        elif source:
            folder = Path(source).parent
        else:
            folder = Path.home()
        return folder / f"{_file_stem(image.name) if image else 'labels'}_objects.csv"

    def export_measurements(self, path: str | Path):
        """Measure the objects of the current labels (intensities from the current image)
        into the CSV ``path``, in a worker thread; returns the worker, or None when there is
        nothing to measure (the user is told why)."""
        host = self.session.host
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None:
            host.notify("Nothing to measure: open an image and segment it (or add labels) first",
                        "error")
            return None
        if isinstance(labels, np.ndarray) and not isinstance(labels, np.memmap) \
                and labels.nbytes <= SNAPSHOT_BYTES:
            # A copy as of the click: edits made while the worker reads would otherwise
            # land in the table half counted. (A bigger stack is measured as it is.)
            labels = labels.copy()
        try:  # the inputs are checked here, at the click, not in the worker
            steps = iter_measure_to_csv(
                Path(path), labels, image.data, axes=image.axes.replace("C", ""),
                image_axes=image.axes, scale=image.pixel_size_um)
        except UserError as error:
            host.notify(f"Cannot measure {image.name}: {error}", "error")
            return None
        self.measure_button.setEnabled(False)
        self.measure_worker = start_engine(
            steps, notify=host.notify, action="Measuring", host=host,
            on_result=lambda count: host.notify(
                f"Measured {count} objects of {image.name}: {path}", "info"),
            on_finished=self._measurements_finished, task=f"measuring the objects of {image.name}",
        )  # fmt: skip
        return self.measure_worker

    def _measurements_finished(self) -> None:
        self.measure_worker = None
        self.measure_button.setEnabled(True)

    # ---- tracks ----------------------------------------------------------------------------
    def show_tracks(self):
        """Show the tracks of the current labels (a time series) as a napari Tracks layer,
        computed in a worker thread; returns the worker, or None (the user is told why)."""
        host = self.session.host
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None or not hasattr(host, "show_tracks"):
            host.notify("No tracks to show: open a time series and segment it first", "error")
            return None
        try:
            steps = iter_tracks(labels, axes=image.axes.replace("C", ""))
            next(steps)  # the inputs are checked here, at the click (no pixel read yet)
        except UserError as error:
            host.notify(f"No tracks for {image.name}: {error}", "warning")
            return None
        self.tracks_button.setEnabled(False)
        self.tracks_worker = start_engine(
            steps, notify=host.notify, action="Tracks", host=host,
            on_result=lambda data: self._tracks_found(image.name, data),
            on_finished=self._tracks_finished, task=f"finding the tracks of {image.name}",
        )  # fmt: skip
        return self.tracks_worker

    def _tracks_found(self, image_name: str, data) -> None:
        if not len(data):
            self.session.host.notify(f"No object of {image_name} is found at two time points",
                                     "warning")
            return
        self.session.host.show_tracks(data, name=f"{image_name} tracks")

    def _tracks_finished(self) -> None:
        self.tracks_worker = None
        self.tracks_button.setEnabled(True)

    # ---- state -----------------------------------------------------------------------------
    def _update_tool_state(self) -> None:
        pending_key = self.keys.message if self.tools.mode is None else ""
        self.tool_status.setText(pending_key or self.tools.status())
        show = getattr(self.session.host, "show_tool_points", None)
        points = self.tools.pending_points() + self.keys.pending_points()
        if show is not None and points != self._shown_points:
            show(points)
            self._shown_points = points
        self.apply_button.setEnabled(self.tools.can_apply())
        self.cancel_button.setEnabled(self.tools.mode is not None)

    def _update_reviewed(self) -> None:
        regions = self.session.reviewed
        if regions is None or not regions.any():
            self.reviewed_label.setText("Nothing reviewed yet.")
        else:
            self.reviewed_label.setText(f"Reviewed: {100 * regions.fraction():.1f}% of the pixels")
        if regions is not None:
            self.auto_check.blockSignals(True)
            self.auto_check.setChecked(regions.auto_from_edits)
            self.auto_check.blockSignals(False)

    def _update_project(self) -> None:
        project = self.session.project
        text = f"Project: {project.path}" if project is not None else "No project open yet."
        self.project_label.setText(text)


def _file_stem(name: str) -> str:
    """A layer name made safe as a file name (layer names may hold slashes or colons)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "image"
