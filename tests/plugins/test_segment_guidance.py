"""The Segment and Models panels explain themselves to a first-time user: every Segment
control has a tooltip, the first status line says what Run will do, a Channel with nothing
to pick does not look live, the settings a run took are locked until it ends (Cancel too),
the Done line says what its count of reviewed objects means, and the Models list follows
the model made current."""

from __future__ import annotations

import pytest
from qtpy.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSpinBox

pytestmark = pytest.mark.qt

OWN_PARTS = ("QAbstractSpinBox", "QComboBox")  # (their inner buttons and fields)
SETTINGS = ("axes_edit", "model_combo", "model_folder_button", "device_combo", "tile_combo",
            "output_combo", "min_size_spin", "split_spin", "scope_stack", "scope_slice",
            "image_combo")  # fmt: skip


def _silent_controls(panel) -> list[str]:
    kinds = (QAbstractButton, QComboBox, QLineEdit, QSpinBox)
    return [(w.text() if hasattr(w, "text") else "") or type(w).__name__
            for kind in kinds for w in panel.findChildren(kind)
            if not w.toolTip() and not any(w.parent().inherits(owner) for owner in OWN_PARTS)]


def _panel(studio, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


def test_every_segment_control_says_what_it_does_and_run_what_it_will_do(corrected, qtbot):
    panel = _panel(corrected, qtbot)
    assert _silent_controls(panel) == []
    assert "\"model\"" in panel.min_size_spin.toolTip()  # what the value "model" means
    assert panel.status.text().startswith("Run segments nuclei with tiny")  # not "Ready."
    # A one-channel image: no spin box that looks live, a note saying why instead.
    assert panel.channel_spin.isHidden() and not panel.channel_note.isHidden()
    assert "one channel" in panel.channel_note.text()
    assert "Not applicable" in panel.channel_note.toolTip()
    panel.output_combo.setCurrentText("probabilities")
    assert not panel.split_spin.isEnabled() and "labels\" only" in panel.split_spin.toolTip()


def _locked(panel) -> list[str]:
    return [name for name in SETTINGS if not getattr(panel, name).isEnabled()]


@pytest.mark.slow
def test_settings_a_run_took_are_locked_until_it_ends_and_the_done_line_is_plain(corrected, qtbot):
    session = corrected.session
    session.ensure_reviewed().mark_region((slice(0, 6), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = _panel(corrected, qtbot)
    assert _locked(panel) == []
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run_button.click()
        assert _locked(panel) == list(SETTINGS)
        assert "locked while the prediction runs" in panel.model_combo.toolTip()
    assert _locked(panel) == [] and "locked" not in panel.model_combo.toolTip()
    assert panel.channel_spin.isHidden() and not panel.channel_spin.isEnabled()  # (as before)
    status = panel.status.text()
    assert " objects, of which " in status and "in reviewed regions, where your corrections " \
        "were kept rather than the new prediction." in status
    assert "kept in reviewed regions)" not in status


def test_settings_are_unlocked_after_cancel(corrected, qtbot):
    panel = _panel(corrected, qtbot)
    panel.output_combo.setCurrentText("probabilities")  # (object options greyed: stay so)
    panel.tile_combo.setCurrentText("16")  # many small tiles: time to cancel
    panel.run()
    assert _locked(panel) == list(SETTINGS)
    with qtbot.waitSignal(panel.cancelled, timeout=30_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.worker is None, timeout=10_000)
    assert _locked(panel) == ["min_size_spin", "split_spin"]
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert "nothing is running" in panel.cancel_button.toolTip()


def test_the_models_list_selects_the_model_made_current(models_panel, studio, tiny_model_dir):
    """As Train's Accept does (``session.set_model`` of the new round's model)."""
    session = studio.session
    bundled = next(i for i in range(models_panel.model_list.count())
                   if "[bundled]" in models_panel.model_list.item(i).text())
    models_panel.model_list.setCurrentRow(bundled)
    info = session.library.import_model(tiny_model_dir)
    session.models_listed.emit()
    assert models_panel.selected().path != info.path
    session.set_model(info)
    assert models_panel.selected().path == info.path
    assert "(current)" in models_panel.model_list.currentItem().text()
    assert info.name in models_panel.card.toPlainText()
