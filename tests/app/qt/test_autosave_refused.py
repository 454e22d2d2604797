"""No autosave project can be created (the user folder read-only, full, a file in the way):
the work goes on in memory, and the user is told once what is not saved and how to keep it.
A read-only user folder stopped every edit and Segment run with a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.host import FakeHost
from unet_studio.app.label_edit import edit_from_region

pytestmark = pytest.mark.qt


@pytest.fixture
def blocked_home(tmp_path, monkeypatch):
    """A user folder whose ``projects`` folder cannot be created: it lies under a file (as
    root, chmod would not stop the writes; a read-only mount fails the same way)."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("UNET_STUDIO_HOME", str(blocker / "home"))
    return blocker / "home"


def _session(tmp_path):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    host = FakeHost()
    host.add_image(np.zeros((3, 20, 20), np.float32), "ZYX", name="img")
    return StudioSession(host, library=ModelLibrary(home=tmp_path / "models")), host


def _warnings(host) -> list[str]:
    return [message for level, message in host.notifications if level == "warning"]


def test_edits_go_on_in_memory_told_once(tmp_path, blocked_home):
    session, host = _session(tmp_path)
    labels = np.zeros((3, 20, 20), np.int32)
    labels[1, 5:9, 5:9] = 4
    session.show_labels(labels)  # (saving them starts the autosave project, or tries)
    for value in (7, 8, 9):  # (each edit would try again: one message in all)
        session.apply_edit(edit_from_region(host.current_labels(), (1, slice(0, 2), slice(0, 2)), value))
    assert session.project is None
    assert host.current_labels()[1, 0, 0] == 9  # (edited in memory)
    (told,) = _warnings(host)
    assert "NOT autosaved" in told and str(blocked_home / "projects") in told
    assert "New project" in told and "Save Selected Layers" in told


def test_a_project_chosen_then_keeps_the_work(tmp_path, blocked_home):
    session, host = _session(tmp_path)
    labels = np.zeros((3, 20, 20), np.int32)
    labels[2, 1:4, 1:4] = 5
    session.show_labels(labels)
    project = session.open_project(tmp_path / "chosen", create=True)  # (Correct > New project…)
    try:
        assert project.flush(10)
        np.testing.assert_array_equal(project.labels(project.images[0].id), labels)
    finally:
        session.close_project()


def test_a_run_starts_without_an_autosave_project(tmp_path, blocked_home):
    from unet_studio.app.qt.live_edits import start_autosave

    session, host = _session(tmp_path)
    assert start_autosave(session) is None  # (no RunAutosave over no project)
    assert session.project is None and len(_warnings(host)) == 1
