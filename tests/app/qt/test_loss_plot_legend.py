"""The loss plot's legend at a large font in a narrow Train panel: each entry whole and
inside the widget (one line of entries ran "held-out score" past the plot's right edge)."""

from __future__ import annotations

import pytest
from qtpy.QtGui import QFont, QFontMetrics

from unet_studio.app.qt.loss_plot import (
    RIGHT_MARGIN,
    SERIES_STYLE,
    LossPlot,
    lay_out_legend,
    legend_text,
    plot_colours,
)

pytestmark = pytest.mark.qt

# The point size napari gives its labels at its font_size setting 14 (one more): the size
# the QA run read the legend at.
LARGE_POINTS = 15
# The plot's width in the Train panel at its least width at that font (407 px), and
# narrower ones: a dock squeezed further, a smaller screen.
WIDTHS = (407, 300, 240)


def _large_font() -> QFont:
    font = QFont()
    font.setPointSizeF(LARGE_POINTS)
    return font


@pytest.mark.parametrize("width", WIDTHS)
def test_each_legend_entry_is_whole_and_inside_the_width(qtbot, width):
    metrics = QFontMetrics(_large_font())
    left, right = 40.0, width - RIGHT_MARGIN
    entries = lay_out_legend(SERIES_STYLE, metrics, left, right)
    assert [entry.name for entry in entries] == list(SERIES_STYLE)
    for entry in entries:
        words = legend_text(entry.name)
        # (whole in the panel at its least width; the long "training loss (patches with
        # objects)" is cut short in a dock squeezed narrower, whole in the plot's tooltip)
        if width == WIDTHS[0] or metrics.horizontalAdvance(words) <= right - left:
            assert entry.text == words
            assert entry.rect.width() >= metrics.horizontalAdvance(words)
        else:
            assert entry.text.endswith("…") and words.startswith(entry.text[:-1])
        assert left <= entry.rect.left() and entry.rect.right() <= right and entry.rect.top() >= 0
    for one, other in zip(entries, entries[1:]):
        assert not one.rect.intersects(other.rect)


def test_a_legend_entry_too_wide_for_a_line_is_cut_short_inside_it(qtbot):
    metrics = QFontMetrics(_large_font())
    entries = lay_out_legend(SERIES_STYLE, metrics, 10.0, 80.0)
    assert all(entry.rect.right() <= 80.0 for entry in entries)
    assert any(entry.text.endswith("…") for entry in entries)


def _plot(qtbot, width: int) -> LossPlot:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.setFont(_large_font())
    plot.resize(width, 200)
    for step in range(8):
        plot.add(step, train_loss=1.0 / (step + 1), val_loss=1.2 / (step + 1), val_score=step / 10)
    return plot


@pytest.mark.parametrize("width", WIDTHS)
def test_the_plot_lays_its_legend_out_above_the_curves_inside_the_widget(qtbot, width):
    plot = _plot(qtbot, width)
    area = plot.plot_area()
    for entry in plot.legend():
        assert plot.rect().toRectF().contains(entry.rect), entry
        assert entry.rect.bottom() <= area.top()  # (no curve under it)


def test_no_legend_pixel_reaches_the_plots_right_edge(qtbot):
    """Painted: right of the frame, in the legend's first line, no pixel of a series'
    colour (the cut "held-out score" was written there)."""
    plot = _plot(qtbot, 340)
    image = plot.grab().toImage()
    colours = plot_colours(plot.palette())
    series = [colours[name] for name in SERIES_STYLE]

    def near_a_series(x: int, y: int) -> bool:
        pixel = image.pixelColor(x, y)
        return any(abs(pixel.red() - c.red()) + abs(pixel.green() - c.green())
                   + abs(pixel.blue() - c.blue()) < 60 for c in series)  # fmt: skip

    first_line = range(plot.fontMetrics().lineSpacing() + 4)
    edge = range(image.width() - RIGHT_MARGIN + 2, image.width())
    assert not [(x, y) for x in edge for y in first_line if near_a_series(x, y)]
    # (and the legend is painted at all: its first entry's colour is there)
    first = plot.legend()[0].rect.toRect()
    assert any(near_a_series(x, y) for x in range(first.left(), first.right())
               for y in range(first.top(), first.bottom()))  # fmt: skip


def _painted_right_of_the_frame(plot, name: str) -> list[int]:
    """The rows with a pixel of series ``name``'s colour right of the plot's frame."""
    image = plot.grab().toImage()
    colour = plot_colours(plot.palette())[name]
    area = plot.plot_area()
    return sorted({y for x in range(int(area.right()) + 2, image.width())
                   for y in range(image.height())
                   if sum(abs(a - b) for a, b in zip(image.pixelColor(x, y).getRgb()[:3],
                                                     colour.getRgb()[:3])) < 60})  # fmt: skip


def test_the_held_out_score_has_its_own_scale_on_the_right(qtbot):
    """QA: a held-out score of 0.97, drawn near the top of the frame, read as a loss of 0.33
    on the only scale written (the losses', left): the score's own 0..1 scale is written on
    the right, in its colour, its 1 by the frame's top and its 0 by its bottom."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(360, 200)
    for step in range(5):
        plot.add(step, train_loss=0.33 - step / 100, val_loss=0.28)
    assert not _painted_right_of_the_frame(plot, "held-out score")  # (no score: no scale)
    plot.add(5, val_score=0.97)
    rows = _painted_right_of_the_frame(plot, "held-out score")
    area = plot.plot_area()
    assert rows and plot.width() - area.right() > RIGHT_MARGIN
    assert any(abs(y - area.top()) <= 8 for y in rows)
    assert any(abs(y - area.bottom()) <= 8 for y in rows)
