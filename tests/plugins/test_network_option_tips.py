"""Every option of the New network form says what it does, for every architecture."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def test_every_network_option_has_a_tooltip(models_panel):
    from unet_studio.app.qt.network_tips import TIP_WIDTH

    builder, untold = models_panel.builder, []
    for index in range(builder.arch_combo.count()):  # (each architecture rebuilds the form)
        builder.arch_combo.setCurrentIndex(index)
        for key, field in builder.fields.items():
            tip = field.toolTip()
            if len(tip.split()) < 8:  # (more than its name: a sentence or two)
                untold.append(f"{builder.arch_combo.currentText()}: {key}")
            assert max(map(len, tip.splitlines()), default=0) <= TIP_WIDTH  # (not one long line)
            label = field.parentWidget().layout().itemAt(0).widget()  # (its cell's label)
            assert tip in label.toolTip() and key in label.toolTip()
    assert untold == []
