"""The Models panel in a narrow dock, and its buttons and New network form by keyboard."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QAbstractButton, QWidget

pytestmark = pytest.mark.qt

NARROW = 300  # px: a dock beside napari's controls on a 1067 px wide (scaled) screen
LONG_NAME = "nuclei-finetuned-on-the-confocal-HeLa-series-2026-12-06-long-descriptive-name-v2"


@pytest.fixture
def long_named_model(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    return save_model(net, tmp_path / "long", metadata={"name": LONG_NAME})


def _cut_off(page: QWidget, viewport: QWidget) -> list[str]:
    """The shown controls of ``page`` that reach past the right edge of ``viewport``."""
    return [f"{type(child).__name__} {getattr(child, 'text', lambda: '')()!r}"
            for child in page.findChildren(QWidget)
            if child.isVisible() and child.mapTo(viewport, QPoint(child.width(), 0)).x()
            > viewport.width()]  # fmt: skip


def test_the_panel_fits_a_narrow_dock_with_a_long_model_name(models_panel, studio,
                                                             long_named_model, qtbot):
    from unet_studio.app.qt.scrolling import PanelScrollArea

    studio.session.set_model(str(long_named_model))
    models_panel.resize(NARROW, 700)
    models_panel.show()
    qtbot.waitExposed(models_panel)
    area = models_panel.findChild(PanelScrollArea)
    for page in range(models_panel.tabs.count()):  # Library, New network
        models_panel.tabs.setCurrentIndex(page)
        qtbot.wait(20)
        assert models_panel.width() == NARROW  # (it was never narrower than 478-563 px)
        assert _cut_off(models_panel.tabs.currentWidget(), area.viewport()) == []
        assert area.horizontalScrollBar().maximum() == 0  # it fits, without scrolling
    assert models_panel.current_label.accessibleName() == f"Current model: {LONG_NAME}"


def _shown_text(view, row: int) -> str:
    """The text ``view`` draws for ``row``: its item's text elided to the cell it is drawn
    in (the cell's width less the delegate's margins), as the view elides it."""
    item = view.item(row)
    width = min(view.visualRect(view.model().index(row, 0)).width(), view.viewport().width())
    margin = 2 * (view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    return view.fontMetrics().elidedText(item.text(), view.textElideMode(), width - margin)


def test_a_long_named_model_shows_its_marks_in_a_narrow_dock(models_panel, studio,
                                                             long_named_model, qtbot):
    import shutil

    session = studio.session
    shutil.copytree(long_named_model, session.library.folders["user"] / "long")
    session.set_model("user:long")  # (listed: a model of the user's library)
    models_panel.resize(NARROW, 700)
    models_panel.show()
    qtbot.waitExposed(models_panel)
    view = models_panel.model_list
    row = next(r for r in range(view.count()) if LONG_NAME in view.item(r).text())
    assert view.horizontalScrollBar().maximum() == 0  # (no scrolling to find the marks)
    shown = _shown_text(view, row)
    assert shown != view.item(row).text() and "(current)" in shown
    assert view.item(row).toolTip() == view.item(row).text()  # (the whole of it)


def test_enter_presses_the_focused_button_which_shows_its_focus(models_panel, qtbot):
    button = models_panel.default_button
    models_panel.show()
    models_panel.activateWindow()
    qtbot.waitActive(models_panel)
    unfocused = button.grab().toImage()
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(button.hasFocus)
    assert button.grab().toImage() != unfocused  # (napari's style drew no focus at all)
    with qtbot.waitSignal(button.clicked, timeout=1000):
        QTest.keyClick(button, Qt.Key.Key_Return)
    check = models_panel.builder.fields["residual"]  # (Enter does not toggle a check box)
    QTest.keyClick(check, Qt.Key.Key_Return)
    assert not check.isChecked()


def test_new_network_form_tabs_as_it_reads_and_names_every_control(models_panel):
    builder = models_panel.builder
    expected = [builder.arch_combo, *builder.fields.values(), builder.input_size,
                builder.name_edit, builder.preview_button, builder.create_button]
    chain, widget = [], builder.arch_combo
    while len(chain) < len(expected):
        if widget in expected:
            chain.append(widget)
        widget = widget.nextInFocusChain()
    # (the options came last, after Create model: they are made after the rest)
    assert chain == expected
    nameless = [key for key, field in builder.fields.items()
                if not field.accessibleName() and not (isinstance(field, QAbstractButton)
                                                       and field.text())]  # fmt: skip
    assert nameless == []


def test_tab_leaves_the_model_card_at_once(models_panel, qtbot):
    """The bundled model's card holds links: Tab stepped through each (9 presses) before
    the next control; a keyboard user goes on to the buttons with one."""
    models_panel.show()
    qtbot.waitExposed(models_panel)
    models_panel.activateWindow()
    card = models_panel.card
    assert card.toPlainText().strip()  # (a card is shown)
    card.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(card.hasFocus, timeout=2000)
    QTest.keyClick(card, Qt.Key.Key_Tab)
    qtbot.wait(20)
    assert not card.hasFocus() and not card.isAncestorOf(models_panel.focusWidget())
