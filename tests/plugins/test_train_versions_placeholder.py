"""The Train panel's list of versions, empty until a round: it says "none yet" (its
placeholder), under napari's style sheet, and offers nothing to roll back to; once a
version exists, the version is shown instead."""

from __future__ import annotations

import json
import shutil

import pytest

from unet_studio.app.errors import UserError

pytestmark = pytest.mark.qt


def _shown_text(combo) -> str:
    """The text the box paints (Qt's own option, as ``ElidedComboBox`` paints it)."""
    return combo.label_option().currentText


@pytest.mark.slow
def test_the_empty_list_of_versions_says_none_yet(studio, qtbot, tmp_path):
    from unet_studio.app.qt.train_panel import TrainPanel

    panel = TrainPanel(studio.session)
    dock = studio.viewer.window.add_dock_widget(panel, name="Train")  # (napari's look)
    dock.show()
    qtbot.waitExposed(dock)
    combo = panel.versions_combo
    assert combo.count() == 0 and combo.currentData() is None  # (the placeholder is no version)
    assert _shown_text(combo) == "none yet"
    painted = combo.grab().toImage()
    placeholder = combo.placeholderText()
    combo.setPlaceholderText("")
    blank = combo.grab().toImage()
    combo.setPlaceholderText(placeholder)
    assert painted != blank  # (the words are painted, not only named)
    assert not panel.rollback_button.isEnabled()
    with pytest.raises(UserError, match="no earlier version"):
        panel.rollback()

    # A model fine-tuned from the current one: its parent is an earlier version.
    parent = studio.session.model
    child = tmp_path / "round 1"
    shutil.copytree(parent.path, child)
    config = json.loads((child / "config.json").read_text())
    config["metadata"].update(name="round 1", parent=str(parent.path))
    (child / "config.json").write_text(json.dumps(config))
    studio.session.set_model(str(child))
    assert combo.count() == 1 and combo.currentData().path == parent.path
    assert _shown_text(combo).startswith(parent.name) and "none yet" not in _shown_text(combo)
    assert panel.rollback_button.isEnabled()
