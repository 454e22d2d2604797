"""Reopening a project shows its saved labels without saving them again (a whole stack's
labels were queued for writing, and closing the window waited 5-12 s for it, nothing
changed), edits after it are still saved; the Correct panel says how much of a stack a few
marks review instead of rounding it to 0.0%."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost
from unet_studio.app.label_edit import edit_from_region

pytestmark = pytest.mark.qt


def _session(tmp_path, monkeypatch, shape=(3, 20, 20)):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros(shape, np.float32), "ZYX", name="img")
    return StudioSession(host, library=ModelLibrary(home=tmp_path / "home")), host


def test_reopening_a_project_queues_no_save_and_edits_after_it_are_saved(tmp_path, monkeypatch):
    session, host = _session(tmp_path, monkeypatch)
    session.show_labels(np.zeros((3, 20, 20), np.int32))
    session.apply_edit(edit_from_region(host.current_labels(), (1, slice(5, 9), slice(5, 9)), 4))
    path = session.project.path
    assert session.project.flush(10)
    session.close_project()

    again, host = _session(tmp_path, monkeypatch)
    project = again.open_project(path)
    try:
        assert host.current_labels()[1, 6, 6] == 4 and again.reviewed.any()
        assert project._writer.pending == 0  # (nothing changed: nothing to write)
        assert project.labels_are(again.image_id, host.current_labels())
        again.apply_edit(edit_from_region(host.current_labels(), (2, slice(0, 3), slice(0, 3)), 7))
        assert project.flush(10)
    finally:
        again.close_project()
    third, host = _session(tmp_path, monkeypatch)
    third.open_project(path)
    try:
        assert host.current_labels()[2, 1, 1] == 7 and host.current_labels()[1, 6, 6] == 4
    finally:
        third.close_project()


def test_a_few_marks_on_a_stack_read_as_a_small_share_with_their_count(tmp_path, monkeypatch,
                                                                        qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    session, host = _session(tmp_path, monkeypatch, shape=(2, 300, 300))
    session.show_labels(np.zeros((2, 300, 300), np.int32))
    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    session.ensure_reviewed().mark_region((slice(1, 2), slice(0, 3), slice(0, 3)))
    session.reviewed_changed_by_user()
    assert panel.reviewed_label.text() == "Reviewed: 0.0050% of the voxels (9)"
    session.close_project()
