"""With the Correct panel's keys: a slice marked (R) or unmarked (Shift+R) after an edit
stays so through Ctrl+Z and Ctrl+Shift+Z of the edit, and the project saves it so."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost, full_view

pytestmark = pytest.mark.qt


def test_the_slice_marks_the_user_made_outlive_undo_and_redo(tmp_path, monkeypatch, qtbot):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.project import Project
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    labels = np.zeros((40, 40), np.int32)
    labels[10:20, 10:20] = 3
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.where(labels > 0, 800.0, 100.0), "YX", name="img")
    host.view = full_view(labels.shape)
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    session.open_project(tmp_path / "proj", create=True)
    session.show_labels(labels.copy())
    keys = CorrectPanel(session).keys

    keys.press("delete", (12, 12))
    assert 0 < session.reviewed.count() < labels.size  # (the delete's own marks)
    keys.press("review", None)  # R: the whole slice
    host.undo()
    assert (host.current_labels() == labels).all() and session.reviewed.mask.all()
    assert session.project.flush(20)
    saved = Project.open(session.project.path)
    try:
        assert saved.reviewed(saved.images[0].id, labels.shape).mask.all()
    finally:
        saved.close()

    keys.press("delete", (12, 12))
    keys.press("unreview", None)  # Shift+R: none of the slice
    host.undo()
    host.redo()
    assert not (host.current_labels() == 3).any() and not session.reviewed.any()
    session.close_project()
