"""A word-wrapped label for lines that name files, images, models and projects, which takes
the width its panel has and never asks for more.

Those names are long and unbroken ("20261130_HeLa_H2B_GFP_60x_pos03_deconvolved.ome.tif",
an autosave project "embryo_stack_2026-12-01_position3-20261207-085959"), and a word-wrapped
QLabel cannot break them (nor does Unicode break after "-" before a digit): the Segment
panel's status line asked 427 px, its dock grew and napari's canvas was squeezed (the offer
of saved work asked 413 px and put the controls behind a sideways scroll bar). So the label
marks where a long name may break, after _ - . / \\ (and within a long run of other
characters), with zero-width spaces that show as nothing; ``text()`` gives the text without
them, as it was set.
"""

from __future__ import annotations

import re

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QLabel, QSizePolicy

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


def without_breaks(text: str) -> str:
    """``text`` as it reads: without the marks ``breakable`` put in."""
    return text.replace(BREAK, "")


def _break_marks(word: str) -> str:
    marked = _AFTER_PUNCTUATION.sub(lambda found: found.group(1) + BREAK, word)
    return _LONG_RUN.sub(lambda run: run.group(0) + BREAK, marked)


class NamesLabel(QLabel):
    """A word-wrapped label that wraps long names too, in the width its layout gives it: it
    asks for none (the rest of the panel sets the width). ``setText`` marks the places a
    name may break (text already marked with ``breakable`` is marked once);
    ``text()`` and ``selectedText()`` are the text without the marks, and so is what is
    copied from it where it is made selectable."""

    def __init__(self, parent=None):
        super().__init__(parent, wordWrap=True)
        # (a file name may hold "<": never read as rich text, the marks never inside a tag)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # (Ignored: neither its least nor its preferred width counts; its height follows
        # the width given, as the word wrap sets height-for-width)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._watching_copies = False

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        # (unmarked first: the callers that mark their text themselves get no double marks)
        super().setText(breakable(without_breaks(text)))

    def text(self) -> str:
        return without_breaks(super().text())

    def selectedText(self) -> str:  # noqa: N802 (Qt's name)
        return without_breaks(super().selectedText())

    def setTextInteractionFlags(self, flags) -> None:  # noqa: N802 (Qt's name)
        super().setTextInteractionFlags(flags)
        selectable = (Qt.TextInteractionFlag.TextSelectableByMouse
                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        if flags & selectable and not self._watching_copies:
            # (Qt copies the text it shows, marks and all, by Ctrl+C and by its context
            # menu alike, and neither can be overridden: the clipboard is cleaned after)
            QApplication.clipboard().dataChanged.connect(self._unmark_copied)
            self._watching_copies = True

    def _unmark_copied(self) -> None:
        clipboard = QApplication.clipboard()
        copied = clipboard.text()
        if BREAK in copied and without_breaks(copied) in self.text():
            clipboard.setText(without_breaks(copied))
