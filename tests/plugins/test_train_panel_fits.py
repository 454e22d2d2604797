"""The Train panel in a laptop's dock (700 px tall, a 1366x768 screen with napari's title
and status bars): after a round, the verdict, the Train button and every row of the
before/after table are in view without scrolling; the loss plot gives way first."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QRect

from unet_studio.app.qt.loss_plot import MIN_FRAME_HEIGHT

pytestmark = pytest.mark.qt

DOCK_HEIGHT = 700


def _dock_the_panel(viewer, qtbot, height: int):
    """The Train panel docked in a shown napari window sized so that its dock is ``height``
    pixels tall."""
    window = viewer.window._qt_window
    dock, panel = viewer.window.add_plugin_dock_widget("unet-studio", "Train")
    window.showNormal()
    for _ in range(3):  # (the window's bars take their share: measure, then correct)
        window.resize(1366, window.height() + height - dock.height())
        qtbot.wait(50)
    assert dock.height() == height
    return dock, panel


def _in_view(widget, dock, rect: QRect | None = None) -> bool:
    """Whether ``rect`` of ``widget`` (all of it by default) lies inside the dock."""
    rect = widget.rect() if rect is None else rect
    return dock.rect().contains(QRect(widget.mapTo(dock, rect.topLeft()), rect.size()))


def _unseen(panel, dock) -> list[str]:
    """What of the round's outcome a user cannot see in the dock as it is."""
    unseen = [name for name in ("train_button", "status", "accept_button", "reject_button")
              if not _in_view(getattr(panel, name), dock)]
    status = panel.status
    if status.height() < status.heightForWidth(status.width()):
        unseen.append("the verdict's last lines")
    table, viewport = panel.metrics, panel.metrics.viewport()
    for row in range(table.rowCount()):
        cells = table.visualRect(table.model().index(row, 0)).united(
            table.visualRect(table.model().index(row, 1)))
        if not (viewport.rect().contains(cells) and _in_view(viewport, dock, cells)):
            unseen.append(table.verticalHeaderItem(row).text())
    return unseen


@pytest.mark.slow
def test_a_laptop_dock_shows_the_verdict_and_every_metric_without_scrolling(corrected, qtbot, quick_round):
    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    dock, panel = _dock_the_panel(corrected.viewer, qtbot, DOCK_HEIGHT)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        panel.start(config=quick_round())
    qtbot.wait(50)  # (laid out again)
    assert "held-out data" in panel.status.text() and panel.metrics.rowCount() >= 5
    assert dock.height() == DOCK_HEIGHT  # (the panel did not push the window off the screen)
    assert _unseen(panel, dock) == []

    # The settings used less often are folded away; opened, they take the plot's room, down
    # to a frame still tall enough to read (the table below then scrolls).
    assert not panel.auto_accept.isVisible()
    plot_height = panel.plot.height()
    panel.more_settings_button.click()
    qtbot.wait(50)
    assert panel.auto_accept.isVisible() and _in_view(panel.auto_accept, dock)
    assert panel.plot.height() <= plot_height and panel.plot.plot_area().height() >= MIN_FRAME_HEIGHT
    assert _in_view(panel.status, dock) and _in_view(panel.accept_button, dock)
    # Folded again, a changed setting is still in sight: the fold's button names it.
    panel.auto_accept.setChecked(True)
    panel.more_settings_button.click()
    assert not panel.auto_accept.isVisible()
    assert panel.more_settings_button.text() == "More settings: auto-accept"


@pytest.mark.slow
def test_a_short_dock_shows_the_verdict_with_accept_and_reject_under_it(corrected, qtbot,
                                                                     quick_round):
    """A 1089x630 window (napari's size on a 1600x1000 screen) leaves the dock ~570 px: the
    verdict pushed Accept below the before/after table, half cut off (QA), and squeezed the
    plot's frame to ~25 px. Accept and Reject are under the verdict, in view; the plot keeps
    a frame to read, and what does not fit (the table) scrolls."""
    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    dock, panel = _dock_the_panel(corrected.viewer, qtbot, 570)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        panel.start(config=quick_round())
    # (laid out again: a turn of the event loop, more on a loaded machine; a squeezed
    # plot stays squeezed however long it waits)
    qtbot.waitUntil(lambda: panel.plot.plot_area().height() >= MIN_FRAME_HEIGHT, timeout=3000)
    assert "held-out data" in panel.status.text()
    for name in ("status", "accept_button", "reject_button"):
        assert _in_view(getattr(panel, name), dock), name
