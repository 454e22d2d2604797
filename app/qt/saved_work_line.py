"""The line of the Segment and Correct panels offering the project that holds the
corrections of the image opened (``saved_work_offer``): "nuclei.tif has corrections saved
in <project> (saved 2026-12-07 10:15): [Open that project]", with a choice of project when
several hold it. Hidden while there is nothing to offer.

The line takes the width its panel has and never asks for more (``names_label``): file and
project names are long and unbroken, so they may break after _ - . / (and within a long run
of other characters), and the projects' list elides them (their full names in its popup).
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QGridLayout, QPushButton, QWidget

from unet_studio.app.qt.elided_label import ElidedComboBox

# (breakable too: made here first, channel_line imports it from here)
from unet_studio.app.qt.names_label import NamesLabel, breakable  # noqa: F401
from unet_studio.app.qt.saved_work_offer import others_text, saved_at
from unet_studio.app.saved_work import SavedWork


class SavedWorkLine(QWidget):
    """Shows a session's ``saved_work`` offer; ``run(action)`` runs a click's action (the
    panel's: an error becomes a notification)."""

    def __init__(self, offer, run, parent=None):
        super().__init__(parent)
        self.offer = offer
        self._run = run
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.text = NamesLabel()
        self.text.setStyleSheet("font-weight: bold")  # (the one thing to do before editing)
        # (a few characters at the least, ending with "…": the label above names the chosen
        # project whole, and the list shows the names whole)
        self.choice = ElidedComboBox()
        self.choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(12)
        self.choice.setToolTip("The projects holding this file's corrections, newest first")
        self.open_button = QPushButton("Open that project")
        self.open_button.setToolTip("Open the project holding this image's corrections: its "
                                    "labels and reviewed marks come back")
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Leave those corrections where they are: an edit "
                                       "starts a new project")
        grid.addWidget(self.text, 0, 0, 1, 2)
        grid.addWidget(self.choice, 1, 0, 1, 2)
        grid.addWidget(self.open_button, 2, 0)
        grid.addWidget(self.dismiss_button, 2, 1)
        self.choice.currentIndexChanged.connect(self._describe)
        self.open_button.clicked.connect(lambda: self._run(self._open_chosen))
        self.dismiss_button.clicked.connect(offer.dismiss)
        offer.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        found = self.offer.found
        self.setVisible(bool(found))
        self.choice.blockSignals(True)
        self.choice.clear()
        for work in found:
            # (when first: the projects of one file differ in when they were saved, and
            # a long name is elided at its end)
            self.choice.addItem(f"saved {saved_at(work)}: {work.project.name}")
            self.choice.setItemData(self.choice.count() - 1, str(work.project),
                                    Qt.ItemDataRole.ToolTipRole)
        self.choice.setVisible(len(found) > 1)
        self.choice.blockSignals(False)
        self._describe()

    def chosen(self) -> SavedWork | None:
        found = self.offer.found
        index = self.choice.currentIndex()
        return found[index] if 0 <= index < len(found) else None

    def _describe(self) -> None:
        work = self.chosen()
        if work is None:
            return
        count = len(self.offer.found)
        several = (f"{count} projects hold corrections of it: choose one below, newest "
                   "first." if count > 1 else "")
        sentences = [f"{self.offer.file} has corrections saved in {work.project.name} "
                     f"(saved {saved_at(work)}).", others_text(work), several]
        self.text.setText(" ".join(text for text in sentences if text))
        self.text.setToolTip(str(work.project))
        self.open_button.setToolTip(f"Open the project {work.project}: the image's labels "
                                    "and reviewed marks come back")

    def _open_chosen(self) -> None:
        work = self.chosen()
        if work is not None:
            self.offer.open_project(work)
