"""The Train panel by keyboard and in napari's themes: a round started with Space keeps the
focus in the panel's round controls, Tab leaves the before/after table, and the loss plot
reads on the light theme as on the dark one."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtTest import QTest

pytestmark = pytest.mark.qt


@pytest.fixture
def shown_train_panel(corrected, qtbot):
    """A Train panel, shown in a window of its own, with reviewed data to learn from."""
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.mark.slow
def test_a_round_started_with_space_keeps_the_focus_and_tab_leaves_the_table(
        shown_train_panel, qtbot, monkeypatch, quick_round):  # fmt: skip
    panel = shown_train_panel
    monkeypatch.setattr(panel, "config", lambda: quick_round(max_steps=3))  # (a short round)
    panel.train_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        QTest.keyClick(panel.train_button, Qt.Key.Key_Space)
        # Train is disabled while the round runs: the focus is on Pause (a second Space
        # pauses), not wherever Qt's focus chain led (a napari dock's hide button).
        assert not panel.train_button.isEnabled()
        assert panel.window().focusWidget() is panel.pause_button
    # (once the round ended: on Accept, Train waiting for the round's verdict)
    assert panel.window().focusWidget() is panel.accept_button

    table = panel.metrics
    assert table.rowCount() > 1  # (the round's scores, before and after)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    table.setCurrentCell(0, 0)
    QTest.keyClick(table, Qt.Key.Key_Tab)
    assert panel.window().focusWidget() is not table  # (Tab leaves the table)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(table, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert panel.window().focusWidget() is not table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(table, Qt.Key.Key_Down)  # (the arrow keys still move between cells)
    assert table.currentRow() == 1 and panel.window().focusWidget() is table


def _contrast(one: QColor, other: QColor) -> float:
    """WCAG's contrast ratio of two colours (1 to 21)."""
    def luminance(colour: QColor) -> float:
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in colour.getRgbF()[:3]]  # fmt: skip
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _colours(image, top: int, bottom: int, right: int | None = None) -> list[QColor]:
    """The colours painted in a strip of ``image`` (each once)."""
    width = image.width() if right is None else right
    names = {QColor(image.pixel(x, y)).name() for y in range(top, bottom) for x in range(width)}
    return [QColor(name) for name in sorted(names)]


def _hue_family(colour: QColor) -> str | None:
    """"red", "green" or "blue": the strongest channel of a clearly coloured pixel (None for
    greys: the text, the frame, the background)."""
    channels = colour.getRgb()[:3]
    if max(channels) - min(channels) < 60:
        return None
    return ("red", "green", "blue")[channels.index(max(channels))]


def test_the_loss_plot_reads_on_the_light_and_dark_themes(make_napari_viewer, qtbot):
    """Its legend (each series' name, in the series' colour: orange, green and blue) and its
    scale read on napari's light theme as on its dark one (4.5:1, WCAG's for text)."""
    from unet_studio.app.qt.loss_plot import LossPlot

    viewer = make_napari_viewer()
    plot = LossPlot()
    plot.setMinimumSize(360, 200)  # (the whole legend in view: a hidden viewer's dock is narrow)
    viewer.window.add_dock_widget(plot, name="loss")
    for step, loss in enumerate([0.9, 0.7, 0.5, 0.45]):
        plot.add(step + 1, train_loss=loss, val_loss=loss + 0.1, val_score=0.2 * step)
    for theme in ("light", "dark"):
        viewer.theme = theme
        qtbot.wait(50)  # (a theme's palette and stylesheet reach the widget through events)
        image = plot.grab().toImage()
        background = QColor(image.pixel(2, 2))
        area = plot.plot_area()
        best = {}  # hue -> the legend's highest contrast in it
        for colour in _colours(image, 0, int(area.top()) - 2):
            family = _hue_family(colour)
            if family is not None:
                best[family] = max(best.get(family, 1.0), _contrast(colour, background))
        assert set(best) == {"red", "green", "blue"}, theme  # (the three series stay apart)
        assert min(best.values()) >= 4.5, (theme, best)
        scale = _colours(image, int(area.top()) - 8, int(area.bottom()) + 8, int(area.left()) - 2)
        assert max(_contrast(colour, background) for colour in scale) >= 4.5, theme
