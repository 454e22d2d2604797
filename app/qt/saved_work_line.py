"""The line of the Segment and Correct panels offering the project that holds the
corrections of the image opened (``saved_work_offer``): "nuclei.tif has corrections saved
in <project> (saved 2026-12-07 10:15): [Open that project]", with a choice of project when
several hold it. Hidden while there is nothing to offer.

The line takes the width its panel has and never asks for more: file and project names are
long and unbroken ("embryo_stack_2026-12-01_position3-20261207-085959"), and a word-wrapped
QLabel cannot break them (nor does Unicode break after "-" before a digit): the Segment panel
asked 413 px, its dock grew and its controls went behind a sideways scroll bar. So the names
may break after _ - . / (and within a long run of other characters), and the projects' list
elides them (their full names in its popup).
"""

from __future__ import annotations

import re

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from unet_studio.app.qt.elided_label import ElidedComboBox
from unet_studio.app.qt.saved_work_offer import others_text, saved_at
from unet_studio.app.saved_work import SavedWork

# A zero-width space: where a line may break, shown as nothing.
BREAK = "\u200b"
# The longest word kept whole: a longer one (a file or project name) may break.
LONGEST_WORD = 16
_LONG_WORD = re.compile(rf"\S{{{LONGEST_WORD + 1},}}")
# Where a long word breaks: after _ - . / \ followed by more of it, and within a run of
# LONGEST_WORD characters without one (a name like "embryo20261201position3").
_AFTER_PUNCTUATION = re.compile(r"([_\-./\\])(?=\S)")
_LONG_RUN = re.compile(rf"[^\s{BREAK}]{{{LONGEST_WORD}}}(?=[^\s{BREAK}])")


def breakable(text: str) -> str:
    """``text`` with places where a line may break in its words longer than
    ``LONGEST_WORD`` characters (short names, dates and times stay whole)."""
    return _LONG_WORD.sub(lambda word: _break_marks(word.group(0)), text)


def _break_marks(word: str) -> str:
    marked = _AFTER_PUNCTUATION.sub(lambda found: found.group(1) + BREAK, word)
    return _LONG_RUN.sub(lambda run: run.group(0) + BREAK, marked)


class NamesLabel(QLabel):
    """A word-wrapped label that wraps long names too (set with ``breakable``), in the width
    its layout gives it: it asks for none (the rest of the panel sets the width). ``text()``
    is the text without the break marks."""

    def __init__(self, parent=None):
        super().__init__(parent, wordWrap=True)
        # (Ignored: neither its least nor its preferred width counts; its height follows
        # the width given, as the word wrap sets height-for-width)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def text(self) -> str:
        return super().text().replace(BREAK, "")


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
        self.text.setText(breakable(" ".join(text for text in sentences if text)))
        self.text.setToolTip(str(work.project))
        self.open_button.setToolTip(f"Open the project {work.project}: the image's labels "
                                    "and reviewed marks come back")

    def _open_chosen(self) -> None:
        work = self.chosen()
        if work is not None:
            self.offer.open_project(work)
