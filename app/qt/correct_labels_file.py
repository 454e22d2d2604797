"""Open labels…: labels another tool made, brought in from a file to be corrected over the
current image (a mixin of :class:`CorrectPanel`, which provides ``session``, ``_run`` and
``_say``).

Dropping such a file on the viewer opens it as an image (nothing tags it as labels), and
napari's "Convert to Labels" of it kept a lazily read array the brush could not write into.
Here the file is checked against the image (``app.labels_file``), read writable in a worker
thread (a big labels file held the window while it was read), and shown the way a Segment
run shows labels (``session.show_labels``): the project saves them as the image's labels,
and the regions already reviewed keep the labels they had.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QFileDialog, QMessageBox, QPushButton

from unet_studio.app.distinct_ids import count_ids
from unet_studio.app.errors import UserError
from unet_studio.app.labels_file import LABEL_FILE_FILTER, checked_labels_file, ids_dtype
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.session_project import labels_shape
from unet_studio.app.qt.workers import start_engine
from unet_studio.app.reviewed_ids import protected

OPEN_LABELS_TIP = ("Bring labels another tool made for this image (TIFF, OME-TIFF, OME-Zarr "
                   "of the image's size) to correct them here; reviewed regions keep their labels")
HISTORY_ACTION = "labels from file"  # (the project history's entry: which file, which image)


class CorrectLabelsFile:
    def _build_open_labels(self, grid, row: int, column: int) -> None:
        self.open_labels_button = QPushButton("Open labels…")
        self.open_labels_button.setToolTip(OPEN_LABELS_TIP)
        grid.addWidget(self.open_labels_button, row, column)
        self.open_labels_button.clicked.connect(self._choose_labels_file)
        self.labels_file_worker = None  # (the read of a labels file, while it runs)

    def _choose_labels_file(self) -> None:
        image = self.session.host.current_image()
        if image is None:  # (said before the dialog: a file chosen for nothing is lost work)
            self._run(lambda: _refuse_without_image(None))
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Open labels of {image.name}",
                                              str(self._labels_folder()), LABEL_FILE_FILTER)
        if path:
            self._run(lambda: self.open_labels_file(path))

    def _labels_folder(self) -> Path:
        """Where the dialog starts: the image file's folder (another tool's output lies
        beside it, most often), else the project's, else home."""
        source = getattr(self.session.host, "image_source", lambda: None)()
        if source:
            return Path(source).parent
        project = self.session.project
        return Path(project.path) if project is not None else Path.home()

    def open_labels_file(self, path: str | Path):
        """Make the labels in ``path`` the current image's labels to correct: checked from
        the file's header here (UserError, a notification, naming the file and what is
        wrong when it does not fit the image), read in a worker. Returns the worker, or None
        when the user chose to keep the labels shown."""
        session = self.session
        host = session.host
        image = host.current_image()
        _refuse_without_image(image, path)
        shape = labels_shape(image)
        if shape is None:
            raise UserError(f"the axes {image.axes} of {image.name} do not match its shape "
                            f"{image.shape}: set its axes first (Segment panel), then open "
                            f"{Path(path).name} again")  # fmt: skip
        axes = image.axes.replace("C", "")
        with checked_labels_file(path, shape, axes, image.name) as file:
            path = file.path  # (the store chosen: an OME-Zarr's folder)
        if host.current_labels() is None and session.project is not None:
            session.restore_from_project()  # (saved labels are the image's labels too)
        if not self._may_replace(image.name, path):
            self._say(f"Kept the labels of {image.name}; {path.name} was not opened.")
            return None
        self._say(f"Reading the labels of {image.name} from {path.name}…")
        self.open_labels_button.setEnabled(False)
        self.labels_file_worker = start_engine(
            _read_labels(path, shape, axes, image.name), notify=host.notify,
            action=f"Reading {path.name}", host=host, task=f"reading the labels in {path.name}",
            on_result=lambda read: self._labels_read(read, image.name),
            on_error=lambda error: self._say(f"{path.name} was not opened: {error}"),
            on_finished=self._labels_file_read_ended)  # fmt: skip
        return self.labels_file_worker

    def _labels_file_read_ended(self) -> None:
        self.labels_file_worker = None
        if alive(self.open_labels_button):  # (the window may have closed meanwhile)
            self.open_labels_button.setEnabled(True)

    def _labels_read(self, read, image_name: str) -> None:
        """The labels are read: shown over their image, unless another image became the
        current one while they were read (then they would be laid over the wrong image)."""
        file, labels = read
        image = self.session.host.current_image()
        if image is None or image.name != image_name:
            self._say(f"{file.path.name} was not opened: {image_name} is no longer the image "
                      "worked on; choose it again, then Open labels…")
            return
        live, kept = self._show_file_labels(labels)
        self._record_origin(file, live, kept, image_name)

    def _may_replace(self, image_name: str, path: Path) -> bool:
        """Ask before labels holding objects are replaced (their corrections would go)."""
        current = self.session.host.current_labels()
        if current is None or not np.any(current):
            return True
        answer = QMessageBox.question(
            self, "Open labels",
            f"{image_name} has labels already. Replace them with those of {path.name}? "
            "Reviewed regions keep the labels they have now; the rest is replaced.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def _show_file_labels(self, labels: np.ndarray) -> tuple[np.ndarray, bool]:
        """Show ``labels`` as the current image's labels, saved to the project; inside the
        reviewed regions the labels shown now stay. Returns (the live array, whether some
        reviewed pixels kept theirs)."""
        session = self.session
        current = session.host.current_labels()
        regions = None if current is None else session.ensure_reviewed()
        kept = (regions is not None and regions.any()
                and regions.shape == labels.shape == tuple(current.shape))  # fmt: skip
        if kept:
            # (in a type holding both ids: the session's protect takes the shown labels'
            # type, and 8-bit labels shown would have wrapped the file's 16-bit ids)
            wide = ids_dtype(labels.dtype, current.dtype)
            labels = protected(regions, labels, np.asarray(current).astype(wide, copy=False))
        live = session.show_labels(labels, protect=False, reviewed=regions)
        return live, kept

    def _record_origin(self, file, live: np.ndarray, kept: bool, image_name: str) -> None:
        """Record what the labels are (the file's classes, else objects), log where they came
        from in the project's history, and say what was done."""
        session = self.session
        record = getattr(session.host, "record_labels_classes", None)
        if record is not None:  # (a class map shown before must not colour these objects)
            record(file.class_names or ())
        if file.class_names:
            what = f"a class map of {', '.join(file.class_names)}"
        else:
            count = count_ids(live, session.host.current_image().axes.replace("C", ""))
            what = f"{count:,} object{'s' if count != 1 else ''}"
        project, image_id = session.project, session.current_image_id()
        if project is not None and image_id is not None:
            project.log(HISTORY_ACTION, image=image_id, path=str(file.path), dtype=str(live.dtype),
                        reviewed_kept=kept)  # fmt: skip
        notes = [*file.notes, *(["reviewed regions kept their labels"] if kept else [])]
        said = f" ({'; '.join(notes)})" if notes else ""
        message = f"Labels of {image_name} from {file.path.name}: {what}{said}."
        session.host.notify(message)
        self._say(message)


def _refuse_without_image(image, path: str | Path | None = None) -> None:
    if image is None:
        about = "" if path is None else f" for {Path(path).name}"
        raise UserError(f"No image is open{about}: open the image the labels were made for "
                        "first, then Correct > Open labels…")  # fmt: skip


def _read_labels(path: Path, shape: tuple[int, ...], axes: str, image_name: str):
    """The worker's read: the file checked again (it may have changed since it was chosen),
    then its labels; returns (the checked file, its labels)."""
    yield f"reading {path.name}"
    with checked_labels_file(path, shape, axes, image_name) as file:
        return file, file.read()
