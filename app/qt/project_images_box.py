"""The Correct panel's project images: a "Project images…" button opening the list of the
project's images (each with its reviewed share and file) to remove one or locate a moved
one, and, in the project box itself, a line per image whose file is missing with a
"Locate…" button (``session_project_images`` does the work).

Removing asks first, naming what goes: the image's labels, reviewed marks and prediction in
the project (moved aside into its ``removed-images/`` folder, not deleted).
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.qt.names_label import NamesLabel
from unet_studio.app.qt.session_project_images import ProjectImageRow

MISSING_SHOWN = 3  # lines of missing files in the box; more: the list says the rest
LOCATE_TIP = ("Its file was moved or renamed: choose it where it is now. The project reads it "
              "from there from now on, and it opens with its corrections and reviewed marks")


class ProjectImagesBox:
    """The button and the missing-file lines of a Correct panel's project box, over a
    session; ``run(action)``: the panel's (a UserError becomes a notification)."""

    def __init__(self, session, run, parent: QWidget):
        self.session = session
        self._run = run
        self._parent = parent
        self.button = QPushButton("Project images…")
        self.button.setToolTip("The project's images with their reviewed share: remove one "
                               "from the project (a bad image, the wrong channel, a test "
                               "image), or locate one whose file moved")
        self.button.clicked.connect(self.show_list)
        self.missing = QWidget()
        self._missing_grid = QGridLayout(self.missing)
        self._missing_grid.setContentsMargins(0, 0, 0, 0)
        self.locate_buttons: list[QPushButton] = []
        self.dialog: ProjectImagesDialog | None = None

    def refresh(self) -> None:
        """Follow the project: its missing files listed, the button usable with a project."""
        self.button.setEnabled(self.session.project is not None)
        missing = self.session.missing_project_images()
        while self._missing_grid.count():
            widget = self._missing_grid.takeAt(0).widget()
            widget.deleteLater()
        self.locate_buttons = []
        for row, image in enumerate(missing[:MISSING_SHOWN]):
            text = NamesLabel()  # (a long file name and path must not widen the dock)
            text.setText(f"{image.name}: its file is missing ({image.file})")
            button = QPushButton("Locate…")
            button.setToolTip(LOCATE_TIP)
            button.clicked.connect(lambda _=False, image=image: self.locate(image))
            self._missing_grid.addWidget(text, row, 0)
            self._missing_grid.addWidget(button, row, 1)
            self.locate_buttons.append(button)
        if len(missing) > MISSING_SHOWN:
            more = QLabel(f"…and {len(missing) - MISSING_SHOWN} more: see Project images…")
            self._missing_grid.addWidget(more, MISSING_SHOWN, 0, 1, 2)
        self._missing_grid.setColumnStretch(0, 1)
        self.missing.setVisible(bool(missing))
        if self.dialog is not None and self.dialog.isVisible():  # (read when shown)
            self.dialog.refresh()

    def show_list(self) -> None:
        if self.dialog is None:
            self.dialog = ProjectImagesDialog(self, self._parent)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()

    def remove(self, image: ProjectImageRow) -> None:
        """Ask, then take the image out of the project."""
        answer = QMessageBox.question(self._dialog_parent(), "Remove from the project",
                                      removal_question(self.session, image))
        if answer != QMessageBox.StandardButton.Yes:
            return

        def remove():
            kept = self.session.remove_project_image(image.id)
            where = f": its saved work is kept in {kept}" if kept else ""
            self.session.host.notify(f"{image.name} was removed from the project{where}")

        self._run(remove)

    def locate(self, image: ProjectImageRow) -> None:
        """Ask for the image's file where it is now, then point the project at it."""
        start = str(_existing_folder(image.file) or "")
        if _is_folder_image(image.file):  # (a file dialog cannot choose an OME-Zarr folder)
            chosen = QFileDialog.getExistingDirectory(
                self._dialog_parent(), f"Locate the folder of {image.name} (was {image.file})", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self._dialog_parent(), f"Locate the file of {image.name} (was {image.file})", start)
        if chosen:
            self._run(lambda: self.session.locate_project_image(image.id, Path(chosen)))

    def _dialog_parent(self) -> QWidget:
        dialog = self.dialog
        return dialog if dialog is not None and dialog.isVisible() else self._parent


class ProjectImagesDialog(QDialog):
    """The list of the project's images: name, reviewed share, file; Remove and Locate act
    on the one selected."""

    COLUMNS = ("Image", "Reviewed", "File")

    def __init__(self, box: ProjectImagesBox, parent=None):
        super().__init__(parent)
        self.box = box
        self.setWindowTitle("Project images")
        self.rows: list[ProjectImageRow] = []
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.note = QLabel(wordWrap=True)
        self.remove_button = QPushButton("Remove from project…")
        self.remove_button.setToolTip(
            "Take the selected image out of the project: its labels, reviewed marks and "
            "prediction there are moved aside (not deleted), training no longer learns from "
            "it and the project no longer opens it; its layers stay open")
        self.locate_button = QPushButton("Locate file…")
        self.locate_button.setToolTip(LOCATE_TIP)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        for button in (self.remove_button, self.locate_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button.clicked.connect(lambda: self._act(self.box.remove))
        self.locate_button.clicked.connect(lambda: self._act(self.box.locate))
        self.close_button.clicked.connect(self.close)
        self.resize(640, 320)

    def refresh(self) -> None:
        chosen = self.selected()
        self.rows = self.box.session.project_image_rows()
        self.table.setRowCount(len(self.rows))
        for number, row in enumerate(self.rows):
            file = "(no file)" if row.file is None else str(row.file)
            cells = (row.name, row.reviewed, f"missing: {file}" if row.missing else file)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(number, column, item)
        ids = [row.id for row in self.rows]
        if chosen is not None and chosen.id in ids:
            self.table.selectRow(ids.index(chosen.id))
        elif self.rows:
            self.table.selectRow(0)
        project = self.box.session.project
        self.note.setText("No project open." if project is None else
                          f"{len(self.rows)} images in {project.path}")
        self._update_buttons()

    def selected(self) -> ProjectImageRow | None:
        picked = self.table.selectionModel().selectedRows() if self.rows else []
        return self.rows[picked[0].row()] if picked and picked[0].row() < len(self.rows) else None

    def _update_buttons(self) -> None:
        row = self.selected()
        self.remove_button.setEnabled(row is not None)
        self.locate_button.setEnabled(row is not None and row.missing)

    def _act(self, action) -> None:
        row = self.selected()
        if row is not None:
            action(row)


def removal_question(session, image: ProjectImageRow) -> str:
    """What removing ``image`` does, asked before."""
    project = session.project
    marks = ("no reviewed marks" if image.reviewed == "none" else
             f"its reviewed marks ({image.reviewed} of its pixels)")
    return (f"Remove {image.name} from the project “{project.name}”?\n\n"
            f"Its labels, {marks} and prediction in the project are moved into "
            f"{project.path / 'removed-images'} (not deleted). Training no longer learns "
            "from it (nor from the examples earlier rounds kept of it) and opening the project no longer opens it. Its layers stay open, no "
            "longer saved into the project: to add it again, open its file again. The "
            "current model and the trained rounds stay as they are.")


def _existing_folder(file: Path | None) -> Path | None:
    """The nearest existing folder above ``file`` (where a moved file is looked for first)."""
    folder = None if file is None else file.parent
    while folder is not None and not folder.is_dir():
        folder = folder.parent if folder.parent != folder else None
    return folder


def _is_folder_image(file: Path | None) -> bool:
    """Was the image a folder: an OME-Zarr (``.zarr``) or a folder of 2D TIFFs (no suffix)?"""
    name = "" if file is None else Path(file).name.lower()
    return bool(name) and (name.endswith(".zarr") or not Path(name).suffix)
