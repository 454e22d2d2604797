"""After a Train round, the keyboard focus goes to the button its verdict advises, in view:
Reject after a round that is not better than its starting model (Enter on Accept, pushed
below the fold by the verdict on a 1280x720 laptop, put a worse model in use unseen),
Accept after a better one."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QRect, Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QScrollArea

pytestmark = pytest.mark.qt


@pytest.fixture
def short_train_panel(train, qtbot):
    """A Train panel in a window as short as a laptop's dock under a long verdict (its
    content scrolls), with reviewed data to learn from."""
    panel = train
    panel.resize(360, 260)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    return panel


def _tie_at_the_verdict(panel, monkeypatch) -> None:
    """The round's steps are picked with no margins (its best step beats the start, so it
    makes a model), its verdict with wide ones: a tie, "not better than" its start."""
    from unet_studio.models.training import ranking

    shown = panel._on_result  # (what the panel connects at Train)
    wide = {key: (1.0, 1.0, higher) for key, (_, _, higher) in ranking.MARGINS.items()}

    def verdict_with_wide_margins(result) -> None:
        monkeypatch.setattr(ranking, "MARGINS", wide)
        shown(result)

    monkeypatch.setattr(panel, "_on_result", verdict_with_wide_margins)


def _round_by_keyboard(panel, qtbot, config) -> None:
    panel.config = lambda: config
    panel.train_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(panel.finished, timeout=120_000):
        QTest.keyClick(panel.train_button, Qt.Key.Key_Space)


def _in_view(widget) -> bool:
    """Is all of ``widget`` inside the viewport of the scroll area holding it?"""
    area = widget.parentWidget()
    while not isinstance(area, QScrollArea):
        area = area.parentWidget()
    viewport = area.viewport()
    corner = widget.mapTo(viewport, widget.rect().topLeft())
    return viewport.rect().contains(QRect(corner, widget.size()))


@pytest.mark.slow
def test_a_round_not_better_leaves_the_focus_on_reject_in_view(short_train_panel, qtbot,
                                                               monkeypatch, quick_round):
    panel = short_train_panel
    _tie_at_the_verdict(panel, monkeypatch)
    _round_by_keyboard(panel, qtbot, quick_round(max_steps=3))
    assert panel.round.saved is not None  # (a model waits for its verdict)
    assert "the new model is not better than tiny" in panel.status.text()
    assert panel.accept_button.isEnabled() and panel.reject_button.isEnabled()
    assert panel.window().focusWidget() is panel.reject_button
    assert _in_view(panel.reject_button)  # (the panel scrolled down to it)
    QTest.keyClick(panel.window().focusWidget(), Qt.Key.Key_Space)  # (a key pressed unseen)
    assert panel.status.text() == "Kept the current model."
    assert panel.session.model.name == "tiny"


@pytest.mark.slow
def test_a_better_round_leaves_the_focus_on_accept_in_view(short_train_panel, qtbot, quick_round):
    panel = short_train_panel
    _round_by_keyboard(panel, qtbot, quick_round(max_steps=3))
    assert "the new model is better than tiny" in panel.status.text()
    assert panel.window().focusWidget() is panel.accept_button
    assert _in_view(panel.accept_button)
