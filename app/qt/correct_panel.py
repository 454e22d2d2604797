"""The Correct panel: object tools, review marking and the project, on the current labels.

napari's own paint, erase, fill and polygon stay in the layer controls; this panel adds the
object-level tools (see ``correct_tools``) and says what has been reviewed.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from unet_studio.app.class_map import class_text, labels_classes
from unet_studio.app.errors import UserError
from unet_studio.app.qt.correct_classes import CorrectClasses
from unet_studio.app.qt.correct_exports import CorrectExports, measurements_tip
from unet_studio.app.qt.correct_history import CorrectHistory
from unet_studio.app.qt.correct_keys import CorrectKeys
from unet_studio.app.qt.correct_labels_file import CorrectLabelsFile
from unet_studio.app.qt.correct_mark_range import CorrectMarkRange
from unet_studio.app.qt.correct_review import CorrectReview
from unet_studio.app.qt.correct_reviewed_box import CorrectReviewedBox
from unet_studio.app.qt.correct_tips import BUTTON_TIPS, TOOL_KEY_TIPS
from unet_studio.app.qt.correct_tools import ObjectTools
from unet_studio.app.qt.correct_words import CorrectWords
from unet_studio.app.qt.key_map import key_map
from unet_studio.app.qt.names_label import NamesLabel
from unet_studio.app.qt.pointer_tools import PointerTools
from unet_studio.app.qt.project_images_box import ProjectImagesBox
from unet_studio.app.qt.project_line import ProjectLine
from unet_studio.app.qt.saved_work_line import SavedWorkLine
from unet_studio.app.qt.scrolling import scrolled_body
from unet_studio.app.settings import read_settings, settings_path

TOOL_BUTTONS = (("add", "Add object (click)"), ("delete", "Delete (click)"),
                ("merge", "Merge (click)"), ("split", "Split (seeds)"),
                ("pick", "Pick label (click)"))  # fmt: skip


class CorrectPanel(CorrectKeys, CorrectReview, CorrectReviewedBox, CorrectExports, CorrectClasses,
                   CorrectHistory, CorrectWords, CorrectLabelsFile, CorrectMarkRange, QWidget):
    """Object tools and reviewed regions over a :class:`StudioSession`."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.tools = ObjectTools(session)
        self.key_of, key_problems = key_map(read_settings(session.library.home))
        self.shown_keys = {a: k.replace("-", "+") for a, k in self.key_of.items()}  # (in tips)
        self.tools.keys = self.key_of
        self.keys = PointerTools(self.tools, self.key_of)
        self._labels_shown = 0  # (labels shown anew, counted: see _status_subject)
        self._status_about = self._status_subject()
        self._shown_points: list[tuple[float, ...]] = []  # picks marked on the canvas
        self._build()
        self._bind_keys()
        for problem in key_problems:  # (the defaults stand for those)
            session.host.notify(f"{settings_path(session.library.home)}: {problem}", "warning")
        session.reviewed_changed.connect(self._update_reviewed)
        session.labels_replaced.connect(self._update_reviewed)
        session.project_changed.connect(self._update_project)
        self.tools.stack_edits.done.connect(self._say)  # (an edit of every object ended)
        self._follow_history()  # (undo and redo, of something or nothing; napari's strokes)
        self.tools.stack_edits.ended.connect(self._update_tool_state)
        self.destroyed.connect(self.tools.stack_edits.drop)  # (closed: nothing applied)
        self._follow_classes()  # (a class map: a class picker, no object tools)
        self._update_reviewed()
        self._update_project()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(scrolled_body(self))  # (scrolls in a short dock)
        layout.addWidget(self._build_tools())
        layout.addWidget(self._build_find())
        layout.addWidget(self._build_review())
        layout.addWidget(self._build_project())
        layout.addStretch(1)
        for name, tip in BUTTON_TIPS.items():
            getattr(self, name).setToolTip(tip)
        self._follow_plane_word()  # (the image's words: again as another image is current)

    def _build_tools(self) -> QGroupBox:
        box = QGroupBox("Object tools")
        grid = QGridLayout(box)
        # Two columns: three made the panel ~420 px at the least, wider than its dock in a
        # window of ~1100 px (the canvas keeps a third), where its last column was cut off.
        # One tool at a time is kept by _choose_tool (a second click on the active tool turns
        # it off), not by a QButtonGroup: Qt treats the checkable buttons of any group like
        # radio buttons, taking all but one out of the Tab chain.
        self.tool_buttons: dict[str, QPushButton] = {}
        for column, (mode, text) in enumerate(TOOL_BUTTONS):
            button = QPushButton(text, checkable=True)
            button.setToolTip(TOOL_KEY_TIPS[mode].format(**self.shown_keys))
            button.toggled.connect(lambda on, m=mode: self._choose_tool(m if on else None))
            self.tool_buttons[mode] = button
            grid.addWidget(button, column // 2, column % 2)
        self.apply_button = QPushButton("Apply")
        self.cancel_button = QPushButton("Cancel tool")
        self.fill_button = QPushButton("Fill holes")
        self.relabel_button = QPushButton("Relabel 1..N")
        self.fresh_button = QPushButton("New label id")
        self.interpolate_button = QPushButton()  # (its text and tooltip: _follow_plane_word)
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        grid.addWidget(self.fresh_button, 2, 1)  # (beside Pick label: both are about ids)
        rows = ((self.apply_button, self.cancel_button),
                (self.fill_button, self.relabel_button),
                (self.interpolate_button,),  # (its long text, "Fill between time points")
                (self.undo_button, self.redo_button))  # fmt: skip
        for row, buttons in enumerate(rows, start=3):
            for column, button in enumerate(buttons):
                grid.addWidget(button, row, column, 1, 2 // len(buttons))
        self.fill_button.setToolTip(f"Fill the holes of every object ({self.shown_keys['fill']} "
                                    "over an object: its holes only)")
        self._build_classes(grid, 7)  # (shown for a class map, instead of New label id)
        self.tool_status = NamesLabel()  # (it may name an image layer)
        grid.addWidget(self.tool_status, 8, 0, 1, 2)
        self.apply_button.clicked.connect(lambda: self._run(self.tools.apply))
        self.cancel_button.setToolTip("Leave the click tool; stop filling or renumbering every "
                                      "object (the labels stay as they were)")
        self.cancel_button.clicked.connect(self._cancel)
        self.fill_button.clicked.connect(lambda: self._run(lambda: self._say(self.tools.fill_holes())))
        self.relabel_button.clicked.connect(lambda: self._run(lambda: self._say(self.tools.relabel())))
        self.interpolate_button.clicked.connect(lambda: self._run(self._interpolate))
        self.fresh_button.clicked.connect(self._fresh_label)
        return box

    def _build_project(self) -> QGroupBox:
        box = QGroupBox("Project (corrections are saved continuously)")
        grid = QGridLayout(box)
        # (the project's folder: a long path; a warning while its saves fail)
        self.project_label = ProjectLine(self.session)
        self.new_project_button = QPushButton("New project…")
        self.open_project_button = QPushButton("Open project…")
        grid.addWidget(self.project_label, 0, 0, 1, 2)
        # (the project holding this image's corrections from before, when no project is open)
        self.saved_work_line = SavedWorkLine(self.session.saved_work, self._run)
        grid.addWidget(self.saved_work_line, 1, 0, 1, 2)
        grid.addWidget(self.new_project_button, 2, 0)
        grid.addWidget(self.open_project_button, 2, 1)
        self.new_project_button.clicked.connect(lambda: self._choose_project(create=True))
        self.open_project_button.clicked.connect(lambda: self._choose_project(create=False))
        self.measure_button = QPushButton("Export measurements…")
        self.measure_button.setToolTip(measurements_tip(()))  # (a class map's: _update_tool_state)
        grid.addWidget(self.measure_button, 3, 0)
        self.measure_button.clicked.connect(self._choose_measurements_file)
        self.measure_worker = None
        self.tracks_button = QPushButton("Show tracks")
        self.tracks_button.setToolTip("A time series: the path of each object (one id over "
                                      "time) as a napari Tracks layer")
        grid.addWidget(self.tracks_button, 3, 1)
        self.tracks_button.clicked.connect(self.show_tracks)
        self.tracks_worker = None
        self.ctc_button = QPushButton("Export tracks (CTC)…")
        self.ctc_button.setToolTip("A time series in the Cell Tracking Challenge's format: a "
                                   "folder of maskTTT.tif and res_track.txt (tracks, parents)")
        grid.addWidget(self.ctc_button, 4, 0)
        self.ctc_button.clicked.connect(self._choose_ctc_folder)
        self.ctc_worker = None
        # (remove an image from the project, locate one whose file moved: listed here)
        self.project_images = ProjectImagesBox(self.session, self._run, self)
        grid.addWidget(self.project_images.button, 4, 1)
        grid.addWidget(self.project_images.missing, 5, 0, 1, 2)
        self._build_open_labels(grid, 6, 0)  # (labels another tool made: correct_labels_file)
        return box

    # ---- wiring ----------------------------------------------------------------------------
    def _run(self, action) -> None:
        """Run a button's action; a UserError becomes a notification, not a traceback."""
        self._forget_stale_status()  # (what it says, it says of the labels shown then)
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "warning")
        self._status_about = self._status_subject()
        self._update_tool_state()

    def _host_call(self, name: str):
        def call():
            method = getattr(self.session.host, name, None)
            if method is None:
                raise UserError(f"this viewer does not support {name.replace('_', ' ')}")
            return method()

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
            classes = labels_classes(self.session)
            self._choose_tool(None)
            what = class_text(classes, label) if classes else f"label {label}"
            self.session.host.notify(f"painting with {what}")

    def _say(self, message: str) -> None:
        """Show what an action did (or does: an edit of every object that runs) in the
        status line."""
        self.keys.message = message
        self._status_about = self._status_subject()
        self._update_tool_state()

    def _cancel(self) -> None:
        self._choose_tool(None)  # (first: it clears the status line that the stop fills)
        self.tools.stack_edits.cancel()

    def _interpolate(self) -> None:
        self.keys.message = self.tools.interpolate_selected()  # (shown as the status line)

    def _fresh_label(self) -> None:
        def pick():
            label = self.tools.fresh_label()
            self._choose_tool(None)
            self.session.host.notify(f"painting with the new label {label}")

        self._run(pick)

    def _choose_project(self, create: bool) -> None:
        title = "New project folder" if create else "Open project folder"
        folder = QFileDialog.getExistingDirectory(self, title)
        if not folder:
            return
        if create:
            self._run(lambda: self._new_project(Path(folder)))
        else:
            self._run(lambda: self.session.open_project(Path(folder)))

    def _new_project(self, folder: Path) -> None:
        """Make a project in ``folder`` (a read-only project's models are copied in a worker:
        ``session_save_elsewhere``); one not made is told so, with why (a full disk said
        only "cannot write project.json", as if the project were made but for one file)."""
        try:
            self.session.save_project_elsewhere(folder, lambda _made: None)
        except (UserError, OSError) as error:
            self.session.host.notify(f"No project made in {folder}: {error}", "error")

    # ---- state -----------------------------------------------------------------------------
    def _forget_stale_status(self) -> None:
        """The status line tells what was done to the labels shown (or why it was refused):
        other labels shown since (another image, a Segment run) or the same ones become a
        class map or objects, it is of the past; the tools' own status follows."""
        subject = self._status_subject()
        if subject != self._status_about:
            self._status_about = subject
            self.keys.reset()  # (a pending merge or split too: its picks were of those)
            self.tools.deleted = None  # (the Delete tool's "Deleted object 7.")

    def _status_subject(self) -> tuple:
        """What the status line speaks of: the labels shown (``_labels_shown`` counts them
        shown again, a Segment run's in the same array) and whether they are a class map."""
        labels = self.session.host.current_labels()
        return (id(labels), self._labels_shown, labels_classes(self.session))

    def _update_tool_state(self) -> None:
        self._forget_stale_status()
        pending_key = self.keys.message if self.tools.mode is None else ""
        self.tool_status.setText(pending_key or self.tools.status())
        show = getattr(self.session.host, "show_tool_points", None)
        points = self.tools.pending_points() + self.keys.pending_points()
        if show is not None and points != self._shown_points:
            show(points)
            self._shown_points = points
        self.apply_button.setEnabled(self.tools.can_apply())
        busy = self.tools.stack_edits.busy  # (one edit of every object at a time)
        self.cancel_button.setEnabled(self.tools.mode is not None or busy)
        self.fill_button.setEnabled(not busy)
        self.relabel_button.setEnabled(not busy)
        classes = self._update_classes()  # (a class map greys the object tools out)
        self.measure_button.setToolTip(measurements_tip(classes))  # (a row per object or class)

    def _update_project(self) -> None:
        # (and, for a folder that cannot be written, that the corrections stay in memory)
        self.project_label.refresh()
        self.project_images.refresh()  # (its images whose file is missing, to locate)
