"""Through the Correct panel: the id a merge freed is not the next new object's, and
Relabel 1..N starts the ids again from its numbers."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def test_a_merged_away_id_is_not_handed_out_again_until_relabelled(tmp_path, monkeypatch, qtbot):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    labels = np.zeros((40, 40), np.int32)
    labels[5:15, 5:15], labels[5:15, 16:26], labels[25:35, 5:15] = 4, 11, 13
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.where(labels > 0, 800.0, 100.0), "YX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    session.show_labels(labels.copy())
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)

    panel.keys.press("merge", (10, 20))
    assert panel.keys.press("merge", (30, 10)) == "Merged object 13 into 11."
    assert panel.tools.fresh_label() == 14  # (13 was freed before any id was asked for)
    panel.tools.relabel()
    qtbot.waitUntil(lambda: set(np.unique(host.current_labels())) == {0, 1, 2})
    assert panel.tools.fresh_label() == 3
