"""A small live plot of the training loss and the held-out loss and score, painted with QPainter.

Losses share the left scale (from their minimum to maximum); the held-out score (0..1)
uses the full height, with its own scale on the right, in its colour (without one, a score of
0.97 drawn near the top read as a loss of 0.33 on the left scale). No plotting library: a few
polylines redrawn on each update.

Its colours follow the widget's palette (napari sets it with each theme): text in the
palette's text colour, and each series in a shade of its hue that reads on the palette's
background (the shades for napari's dark theme were 1.4-2.1:1 on its light one).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from qtpy.QtCore import QPointF, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

SERIES_STYLE = {  # name -> (colour on a dark background, on a light one, dashed, 0..1 scale)
    "train loss": ("#4fa3ff", "#1a5fb4", False, False),
    "held-out loss": ("#ffa040", "#a04a00", False, False),
    "held-out score": ("#5fdc7a", "#17692b", True, True),
}
# ``add`` keywords -> series names (the validation data is the reviewed data held out of
# training: named as in the Train panel's before/after table).
SERIES_OF = {"train_loss": "train loss", "val_loss": "held-out loss", "val_score": "held-out score"}
# What the legend calls a series where its name alone misleads. The two losses are measured
# on different pixels: training patches are mostly centred on objects (and their borders
# are weighted up), while held-out blocks may be nearly all background. A training loss
# well above the held-out one, or rising over a short round while the held-out one falls,
# read as "training makes it worse"; saying what it is measured on is the smallest change
# that stops the two being compared as one measure (the plot's tooltip says the rest).
LEGEND_TEXT = {"train loss": "training loss (patches with objects)"}
TOOLTIP = ("Training loss: on the training patches, mostly centred on objects, with their "
           "outlines weighted up; it is higher than the held-out loss and noisy from step to "
           "step, so compare it only with itself.\nHeld-out loss (and score): on the reviewed "
           "blocks kept out of training; the verdict rests on these. The held-out score "
           "runs from 0 to 1 (its scale on the right).")
SCORE = "held-out score"
SCORE_LABELS = ("1", "0")  # (the score's scale, top and bottom, right of the frame)
MARGIN = 28
# The least height of the frame the curves are drawn in: a fixed least height of the whole
# widget left it ~25 px under a legend of two lines (QA, a 3D round's verdict in a short dock).
MIN_FRAME_HEIGHT = 40
RIGHT_MARGIN = 8  # (the frame's right edge from the widget's; the legend stays inside it)
LEGEND_GAP = 14  # between two legend entries on a line
LEGEND_TOP = 4  # above the legend's first line, and again between its last one and the frame
# The least contrast of a series' colour (its legend is written in it) with the background:
# WCAG's for text.
LEAST_CONTRAST = 4.5


def luminance(colour: QColor) -> float:
    """WCAG's relative luminance, 0 (black) to 1 (white)."""
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
            + 0.0722 * linear(colour.blueF()))  # fmt: skip


def contrast(one: QColor, other: QColor) -> float:
    """WCAG's contrast ratio, 1 (the same) to 21 (black on white)."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mixed(colour: QColor, other: QColor, share: float) -> QColor:
    """``colour`` with ``share`` (0..1) of ``other`` mixed in."""
    return QColor.fromRgbF(*(a + share * (b - a) for a, b in zip(
        colour.getRgbF()[:3], other.getRgbF()[:3])))  # fmt: skip


def readable(colour: QColor, background: QColor, text: QColor) -> QColor:
    """``colour``, moved towards the ``text`` colour until it reaches ``LEAST_CONTRAST`` on
    ``background`` (for a theme neither of the series' shades was made for)."""
    for step in range(11):
        shade = mixed(colour, text, step / 10)
        if contrast(shade, background) >= LEAST_CONTRAST:
            return shade
    return QColor(text)


def plot_colours(palette: QPalette) -> dict[str, QColor]:
    """The colours to paint with on ``palette``'s background: "text" (labels), "frame",
    and one per series name."""
    background = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    dark = luminance(background) < 0.5
    colours = {"text": text, "frame": mixed(background, text, 0.6)}
    for name, (on_dark, on_light, _, _) in SERIES_STYLE.items():
        colours[name] = readable(QColor(on_dark if dark else on_light), background, text)
    return colours


def legend_text(name: str) -> str:
    """The legend's words for the series ``name`` (``LEGEND_TEXT``, else the name)."""
    return LEGEND_TEXT.get(name, name)


class LegendEntry(NamedTuple):
    """One series in the legend: its name (its colour), the text shown (its ``legend_text``,
    or that cut short with "…" where even a line of its own is too narrow) and where."""

    name: str
    text: str
    rect: QRectF


def lay_out_legend(names, metrics: QFontMetrics, left: float, right: float) -> list[LegendEntry]:
    """The legend's entries from ``left`` to ``right`` (widget pixels), line after line from
    the widget's top: an entry that does not fit after the one before starts a new line
    (one line, "train loss  held-out loss  held-out score", ran past the widget's right
    edge at a large font in a narrow dock), and one too wide for a line of its own is cut
    short there."""
    entries, x, y = [], left, float(LEGEND_TOP)
    for name in names:
        words = legend_text(name)
        if x > left and x + metrics.horizontalAdvance(words) > right:
            x, y = left, y + metrics.lineSpacing()
        text = metrics.elidedText(words, Qt.TextElideMode.ElideRight, int(right - x))
        width = metrics.horizontalAdvance(text)
        entries.append(LegendEntry(name, text, QRectF(x, y, width, metrics.height())))
        x += width + LEGEND_GAP
    return entries


class LossPlot(QWidget):
    """``add(step, **values)`` appends a point per named series and repaints."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.series: dict[str, list[tuple[float, float]]] = {name: [] for name in SERIES_STYLE}
        self.setToolTip(TOOLTIP)
        self._least_height = 0  # (the last one told to the layout: see _follow_legend)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As tall as the legend, a frame of ``MIN_FRAME_HEIGHT`` and "step N" below it."""
        below = max(MARGIN, self.fontMetrics().height() + 6)
        return QSize(super().minimumSizeHint().width(),
                     int(self.plot_area().top()) + MIN_FRAME_HEIGHT + below)

    def _follow_legend(self) -> None:
        """Tell the layout when the least height changed (the legend took another line: a
        series' first point, a narrower widget)."""
        least = self.minimumSizeHint().height()
        if least != self._least_height:
            self._least_height = least
            self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._follow_legend()

    def clear(self) -> None:
        for points in self.series.values():
            points.clear()
        self._follow_legend()
        self.update()

    def add(self, step: float, *, redraw: bool = True, **values: float | None) -> None:
        """Append a point to each named series; ``redraw=False`` defers the repaint. None and
        NaN are no point (a round's step-0 report has held-out values but no training loss;
        a NaN would also spoil the scale)."""
        for key, value in values.items():
            name = SERIES_OF.get(key)
            if value is not None and math.isfinite(value) and name in self.series:
                self.series[name].append((float(step), float(value)))
        self._follow_legend()
        if redraw:
            self.update()

    def _ranges(self):
        xs = [x for points in self.series.values() for x, _ in points]
        losses = [y for name, points in self.series.items() if not SERIES_STYLE[name][3]
                  for _, y in points]  # fmt: skip
        x_range = (min(xs, default=0.0), max(xs, default=1.0))
        y_range = (min(losses, default=0.0), max(losses, default=1.0))
        if y_range[1] - y_range[0] < 1e-9:
            y_range = (y_range[0] - 0.5, y_range[1] + 0.5)
        if x_range[1] - x_range[0] < 1e-9:
            x_range = (x_range[0], x_range[0] + 1.0)
        return x_range, y_range

    def y_labels(self) -> tuple[str, str]:
        """The loss scale's top and bottom, as written left of the plot."""
        _, (y0, y1) = self._ranges()
        return f"{y1:.3g}", f"{y0:.3g}"

    def _frame_left(self) -> float:
        """Right of the scale's widest label (a fixed margin let "3.51" run over the frame)."""
        widest = max(self.fontMetrics().horizontalAdvance(text) for text in self.y_labels())
        return float(max(MARGIN, widest + 8))

    def _frame_right(self) -> float:
        """The frame's right edge from the widget's: room for the score's scale once it has
        a point."""
        if not self.series[SCORE]:
            return float(RIGHT_MARGIN)
        widest = max(self.fontMetrics().horizontalAdvance(text) for text in SCORE_LABELS)
        return float(max(RIGHT_MARGIN, widest + 8))

    def legend(self) -> list[LegendEntry]:
        """The legend's entries as painted: above the frame (where they hide no curve), as
        wide as it, on as many lines as they need; only for series with a point (a
        "held-out score" entry without a curve, where the held-out blocks hold no objects
        to score, read as a curve that failed to draw)."""
        right = self.width() - self._frame_right()
        shown = [name for name in SERIES_STYLE if self.series[name]]
        return lay_out_legend(shown, self.fontMetrics(), self._frame_left() + 6, right)

    def plot_area(self) -> QRectF:
        """Where the curves are drawn: right of the scale, below the legend (lower where the
        legend takes more lines), above "step N" (a line of text: a fixed margin cut it off
        at a large font)."""
        # (a line kept for the legend before the first point: the frame stays where it is)
        first_line = LEGEND_TOP + self.fontMetrics().height()
        legend_bottom = max((entry.rect.bottom() for entry in self.legend()), default=first_line)
        below = max(MARGIN, self.fontMetrics().height() + 6)
        return QRectF(self.rect()).adjusted(self._frame_left(), legend_bottom + LEGEND_TOP,
                                            -self._frame_right(), -below)  # fmt: skip

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = self.plot_area()
        colours = plot_colours(self.palette())  # (read now: the theme may have changed)
        painter.setPen(QPen(colours["frame"], 1))
        painter.drawRect(area)
        painter.setPen(colours["text"])
        (x0, x1), (y0, y1) = self._ranges()
        painter.drawText(QRectF(0, area.bottom() + 4, area.right(), self.fontMetrics().height()),
                         Qt.AlignmentFlag.AlignRight, f"step {int(x1)}")  # fmt: skip
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        top, bottom = self.y_labels()
        painter.drawText(QRectF(0, area.top() - 8, area.left() - 5, 16), right, top)
        painter.drawText(QRectF(0, area.bottom() - 8, area.left() - 5, 16), right, bottom)
        if self.series[SCORE]:
            painter.setPen(colours[SCORE])
            left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            for y, text in zip((area.top(), area.bottom()), SCORE_LABELS):
                painter.drawText(QRectF(area.right() + 4, y - 8, self.width() - area.right(), 16),
                                 left, text)  # fmt: skip
        for name, points in self.series.items():
            _, _, dashed, unit_scale = SERIES_STYLE[name]
            pen = QPen(colours[name], 2, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            low, high = (0.0, 1.0) if unit_scale else (y0, y1)
            polygon = QPolygonF([
                QPointF(area.left() + (x - x0) / (x1 - x0) * area.width(),
                        area.bottom() - (y - low) / (high - low) * area.height())
                for x, y in points
            ])  # fmt: skip
            if len(points) == 1:
                painter.drawEllipse(polygon[0], 2, 2)
            else:
                painter.drawPolyline(polygon)
        for entry in self.legend():
            painter.setPen(colours[entry.name])
            painter.drawText(entry.rect, Qt.AlignmentFlag.AlignLeft, entry.text)
        painter.end()
