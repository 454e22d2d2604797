"""A window whose project is read-only (another window writes it) becomes the writer when
that window closes it: its project watch catches up, the labels on screen become the merge
of both windows' work (redrawn), and the user is told once."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost
from unet_studio.app.label_edit import diff_labels
from unet_studio.app.project import Project

pytestmark = pytest.mark.qt


def _deleted(labels: np.ndarray, label: int):
    return diff_labels(labels, np.where(labels == label, 0, labels))


def test_the_window_that_becomes_the_writer_shows_both_windows_work(tmp_path, monkeypatch, qapp):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.project_watch import ProjectWatch
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((2, 30, 30), np.float32), "ZYX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    objects = np.zeros((2, 30, 30), np.int32)
    objects[0, 2:8, 2:8], objects[0, 12:18, 12:18], objects[1, 5:9, 5:9] = 4, 5, 6
    session.show_labels(objects.copy())
    path, image_id = session.project.path, session.image_id
    session.close_project()
    other = Project.open(path, autosave_delay=0.0)  # (the other window: it writes)
    try:
        session.open_project(path)
        assert session.project.read_only
        watch = ProjectWatch(session, interval_ms=60_000)  # (told by hand below)
        watch.tell()
        theirs = other.labels(image_id)
        edit = _deleted(theirs, 4)
        edit.apply_to(theirs)
        other.record_edit(image_id, edit)
        assert other.flush(10)
        session.apply_edit(_deleted(host.current_labels(), 5))  # (one chunk with theirs)
        other.close()
        host.refreshed.clear()
        watch.tell()
        assert session.project.read_only is None
        shown = host.current_labels()
        assert not np.isin(shown, [4, 5]).any() and (shown == 6).sum() == 16
        assert host.refreshed  # (the layer redrawn)
        merged = [m for level, m in host.notifications if "merged" in m]
        assert len(merged) == 1 and str(path) in merged[0]
        assert session.project.flush(10)
        with Project.open(path, autosave_delay=0.0) as reopened:
            np.testing.assert_array_equal(reopened.labels(image_id), shown)
    finally:
        other.close()
        session.close_project()
