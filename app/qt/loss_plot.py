"""A small live plot of the training loss and the held-out loss and score, painted with QPainter.

Losses share the left scale (from their minimum to maximum); the held-out score (0..1)
uses the full height. No plotting library: a few polylines redrawn on each update.
"""

from __future__ import annotations

import math

from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

SERIES_STYLE = {  # name -> (colour, dashed, uses the 0..1 score scale)
    "train loss": ("#4fa3ff", False, False),
    "held-out loss": ("#ffa040", False, False),
    "held-out score": ("#5fdc7a", True, True),
}
# ``add`` keywords -> series names (the validation data is the reviewed data held out of
# training: named as in the Train panel's before/after table).
SERIES_OF = {"train_loss": "train loss", "val_loss": "held-out loss", "val_score": "held-out score"}
MARGIN = 28


class LossPlot(QWidget):
    """``add(step, **values)`` appends a point per named series and repaints."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.series: dict[str, list[tuple[float, float]]] = {name: [] for name in SERIES_STYLE}
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        for points in self.series.values():
            points.clear()
        self.update()

    def add(self, step: float, *, redraw: bool = True, **values: float | None) -> None:
        """Append a point to each named series; ``redraw=False`` defers the repaint. None and
        NaN are no point (a round's step-0 report has held-out values but no training loss;
        a NaN would also spoil the scale)."""
        for key, value in values.items():
            name = SERIES_OF.get(key)
            if value is not None and math.isfinite(value) and name in self.series:
                self.series[name].append((float(step), float(value)))
        if redraw:
            self.update()

    def _ranges(self):
        xs = [x for points in self.series.values() for x, _ in points]
        losses = [y for name, points in self.series.items() if not SERIES_STYLE[name][2]
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

    def plot_area(self) -> QRectF:
        """Where the curves are drawn: right of the scale's widest label (a fixed margin let
        "3.51" run over the frame), below the legend."""
        widest = max(self.fontMetrics().horizontalAdvance(text) for text in self.y_labels())
        # (the legend goes above it, where it hides no curve)
        legend = self.fontMetrics().lineSpacing() + 8
        return QRectF(self.rect()).adjusted(max(MARGIN, widest + 8), legend, -8, -MARGIN)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = self.plot_area()
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.drawRect(area)
        (x0, x1), (y0, y1) = self._ranges()
        painter.drawText(QRectF(0, area.bottom() + 4, area.right(), 20),
                         Qt.AlignmentFlag.AlignRight, f"step {int(x1)}")  # fmt: skip
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        top, bottom = self.y_labels()
        painter.drawText(QRectF(0, area.top() - 8, area.left() - 5, 16), right, top)
        painter.drawText(QRectF(0, area.bottom() - 8, area.left() - 5, 16), right, bottom)
        legend_x = area.left() + 6
        for name, points in self.series.items():
            colour, dashed, unit_scale = SERIES_STYLE[name]
            pen = QPen(QColor(colour), 2, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
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
            painter.drawText(QPointF(legend_x, area.top() - 8), name)
            legend_x += painter.fontMetrics().horizontalAdvance(name) + 14
        painter.end()
