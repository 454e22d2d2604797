"""Opening projects in a session: reopening the folder open now keeps it writable, a
project that cannot be opened leaves the one open, and what opening found wrong is told
even when the current image has no saved labels to show."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def _session(tmp_path, monkeypatch, labels=True):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.session import StudioSession

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    host = FakeHost()
    host.add_image(np.zeros((3, 20, 20), np.float32), "ZYX", name="img")
    session = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    if labels:
        live = np.zeros((3, 20, 20), np.int32)
        live[1, 5:9, 5:9] = 4
        session.show_labels(live)
    return session, host


def test_reopening_the_open_folder_keeps_it_writable(tmp_path, monkeypatch):
    session, host = _session(tmp_path, monkeypatch)
    first = session.project
    expected = np.array(host.current_labels())
    again = session.open_project(first.path)
    try:
        assert again is not first and again.read_only is None  # (was read-only: its own lock)
        np.testing.assert_array_equal(host.current_labels(), expected)
    finally:
        session.close_project()


def test_a_project_that_cannot_be_opened_leaves_the_one_open(tmp_path, monkeypatch):
    session, host = _session(tmp_path, monkeypatch)
    first = session.project
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError):
        session.open_project(tmp_path / "empty")
    try:
        assert session.project is first and first.read_only is None
        session.apply_edit(_edit(host.current_labels()))
        assert first.flush(10)  # (still saved into)
    finally:
        session.close_project()


def _edit(labels):
    from unet_studio.app.label_edit import edit_from_region

    return edit_from_region(labels, (slice(2, 3), slice(0, 2), slice(0, 2)), 9)


def test_what_opening_found_is_told_without_saved_labels_to_show(tmp_path, monkeypatch):
    """The image's saved labels are damaged: set aside, none to show, and the user is told
    by the session (not only by napari's project watch)."""
    session, _ = _session(tmp_path, monkeypatch)
    path = session.project.path
    session.close_project()
    manifests = list(path.glob("images/*/labels/array.json"))
    assert len(manifests) == 1
    manifests[0].write_text("{ damaged")
    other, host = _session(tmp_path, monkeypatch, labels=False)
    other.open_project(path)
    try:
        warnings = [m for level, m in host.notifications if level == "warning"]
        assert host.current_labels() is None
        assert len([m for m in warnings if "labels" in m and "cannot read" in m]) == 1
        assert other.project.problems == []  # (told once: none left for another to tell)
    finally:
        other.close_project()


def test_a_reopened_project_uses_its_own_model_again(tmp_path, monkeypatch):
    """A round accepted in a project lives in the project's models folder: opening the
    project again makes it current again (it fell back to the default model, found by
    nothing while the project's folder was not yet listed)."""
    import shutil

    from unet_studio.app.model_library import ModelLibrary, bundled_models_dir
    from unet_studio.app.qt.session import StudioSession

    session, _ = _session(tmp_path, monkeypatch)
    project = session.project
    shutil.copytree(bundled_models_dir() / "default", project.models_dir / "nuclei-ft")
    session.library.folders["project"] = project.models_dir
    session.set_model("project:nuclei-ft")
    path = project.path
    session.close_project()

    host = FakeHost()
    host.add_image(np.zeros((3, 20, 20), np.float32), "ZYX", name="img")
    warnings = []
    host.notify = lambda text, level="info": warnings.append(text)
    again = StudioSession(host, library=ModelLibrary(home=tmp_path / "home"))
    again.open_project(path)
    try:
        assert again.model.ref == "project:nuclei-ft", warnings
        assert not any("not available" in text for text in warnings)
    finally:
        again.close_project()
