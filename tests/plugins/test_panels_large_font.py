"""The Train panel and the Models panel's New network form at napari's look with a large
font (napari's ``font_size`` setting, 14 pt) and in docks of a laptop's width: the Train
panel asks for no more width than the other panels, and the builder's option names are
shown whole wherever the panel has room for them."""

from __future__ import annotations

import pytest
from qtpy.QtWidgets import QScrollArea

pytestmark = pytest.mark.qt

LARGE_FONT = 14  # pt: napari's font_size setting in the QA run on a 1366x768 screen
MOST_LEAST_WIDTH = 450  # px: the Segment panel's least width at that font


def napari_look(widget) -> None:
    """napari's dark style sheet on ``widget`` (its spin boxes and combo boxes are wider
    than Qt's own)."""
    from napari.qt import get_stylesheet

    widget.setStyleSheet(get_stylesheet("dark"))


def _show(widget, qtbot, width: int) -> None:
    widget.resize(width, 700)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(20)  # (laid out again at that width)


def test_the_train_panel_wraps_its_buttons_at_a_large_font(studio, qtbot, monkeypatch):
    from napari.settings import get_settings

    from unet_studio.app.qt.train_panel import TrainPanel

    monkeypatch.setattr(get_settings().appearance, "font_size", LARGE_FONT)
    panel = TrainPanel(studio.session)
    dock = studio.viewer.window.add_dock_widget(panel, name="Train")
    dock.setFloating(True)  # (as narrow as the panel's content allows, out of DockFit's way)
    _show(dock, qtbot, 800)  # (napari's font applies once shown)
    (area,) = panel.findChildren(QScrollArea)
    least = area.widget().minimumSizeHint().width()
    # (585 px: Train, Pause and Cancel side by side, Roll back beside the list of versions,
    # and the "Learn from" box as wide as its longest choice)
    assert least <= MOST_LEAST_WIDTH
    for _ in range(3):  # (the dock's frame and the scroll bar take their share: correct)
        dock.resize(dock.width() + least - area.viewport().width(), dock.height())
        qtbot.wait(20)
    assert area.viewport().width() == least
    assert area.horizontalScrollBar().maximum() == 0
    viewport = area.viewport()
    for name in ("train_button", "pause_button", "cancel_button", "accept_button",
                 "reject_button", "rollback_button"):  # fmt: skip
        button = getattr(panel, name)
        right = button.mapTo(viewport, button.rect().topRight()).x()
        # Each in view, its text whole (a wrapped row gives each its least width at least).
        assert right < viewport.width() and button.width() >= button.minimumSizeHint().width(), name


def test_builder_option_names_are_whole_where_the_panel_has_room(models_panel, qtbot):
    """The QA run's panel (489 px, napari's look at its usual font): two columns cut
    "bridge residual blocks" and "decoder block" short; one column shows them whole."""
    from unet_studio.app.qt.network_form import OptionLabel

    napari_look(models_panel)
    models_panel.tabs.setCurrentIndex(1)  # New network
    _show(models_panel, qtbot, 489)
    labels = models_panel.builder.findChildren(OptionLabel)
    assert len(labels) > 10
    cut = [label.text() for label in labels
           if label.contentsRect().width() < label.fontMetrics().horizontalAdvance(label.text())]
    assert cut == []
