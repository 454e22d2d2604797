"""The Train panel's loss plot: a ``LossPlot`` that can show a note in place of curves it
does not have. A round an earlier session left waiting for its verdict comes back with its
figures (from the project's history) but not its curve: an empty frame scaled 0 to 1 at
"step 1" read as a round that had trained one step and learnt nothing."""

from __future__ import annotations

from qtpy.QtCore import QRectF, Qt
from qtpy.QtGui import QPainter, QPen

from unet_studio.app.qt.loss_plot import LossPlot, plot_colours

# The padding of the note's frame and of its text inside it (pixels).
NOTE_PADDING = 8


class RoundPlot(LossPlot):
    """``clear(note)``: no curve, and ``note`` written where the curves go until the next
    point is added (no scale, no "step N": there are no steps to show)."""

    note = ""

    def clear(self, note: str = "") -> None:
        self.note = note
        super().clear()

    def shows_note(self) -> bool:
        """Is the note painted (instead of the curves)?"""
        return bool(self.note) and not any(self.series.values())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self.shows_note():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        colours = plot_colours(self.palette())
        area = QRectF(self.rect()).adjusted(NOTE_PADDING, NOTE_PADDING, -NOTE_PADDING, -NOTE_PADDING)
        painter.setPen(QPen(colours["frame"], 1))
        painter.drawRect(area)
        painter.setPen(colours["text"])
        inside = area.adjusted(NOTE_PADDING, NOTE_PADDING, -NOTE_PADDING, -NOTE_PADDING)
        painter.drawText(inside, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                         self.note)
        painter.end()
