"""While the project's saves fail (a full disk), the Correct panel's project line says so
lastingly, as a warning, and goes back once they work; then she is told once that all is
saved again. The close question asked meanwhile names the images and says what Save and
Discard do now, not the internal journal files nor "saving is retried"."""

from __future__ import annotations

import errno

import numpy as np
import pytest

import unet_studio.models.files as files
from unet_studio.app.label_edit import diff_labels
from unet_studio.app.qt import close_guard

pytestmark = pytest.mark.qt


@pytest.fixture
def full_disk(monkeypatch):
    """``full_disk(True)``: every atomic write fails as on a full disk; ``full_disk(False)``:
    space was freed (the real write again)."""
    real = files.atomic_write

    def full(path, write, fsync=True):
        raise OSError(errno.ENOSPC, "No space left on device")

    def set_full(is_full: bool) -> None:
        monkeypatch.setattr(files, "atomic_write", full if is_full else real)

    return set_full


def _edit(session) -> None:
    labels = session.host.current_labels()
    session.apply_edit(diff_labels(labels, np.where(labels == 0, 7, labels)))


def test_the_project_line_warns_while_saves_fail_and_saved_again_is_told_once(
        session, full_disk, qtbot):  # fmt: skip
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.project_watch import ProjectWatch

    panel = CorrectPanel(session)
    qtbot.addWidget(panel)
    watch = ProjectWatch(session, interval_ms=60_000)  # (told by hand below)
    project, host, line = session.project, session.host, panel.project_label
    assert project.flush(10)
    assert line.text() == f"Project: {project.path}" and line.styleSheet() == ""
    watch.tell()  # (saves that never failed: nothing to tell)

    full_disk(True)
    _edit(session)
    assert not project.flush(10)
    # (the line looks again by itself: no signal comes from the autosave thread)
    qtbot.waitUntil(lambda: "Not saved since" in line.text(), timeout=5_000)
    note = line.text().split("\n")[1]
    assert note.startswith("Not saved since ") and "the disk is full" in note
    assert "kept in memory and saved when it can be" in note
    assert "color:" in line.styleSheet()  # (a warning)
    watch.tell()
    qtbot.wait(1_500)  # (retried meanwhile: still failing, the line stays)
    assert "Not saved since" in line.text()
    assert not [m for _, m in host.notifications if m.startswith("Saved again")]

    full_disk(False)  # (space was freed)
    assert project.flush(10)
    qtbot.waitUntil(lambda: line.text() == f"Project: {project.path}", timeout=5_000)
    assert line.styleSheet() == ""
    for _ in range(3):
        watch.tell()
    saved_again = [(level, m) for level, m in host.notifications if m.startswith("Saved again")]
    assert saved_again == [("info", f"Saved again: all your corrections are on disk in "
                                    f"{project.path}.")]


def test_the_close_question_while_saves_fail_names_the_image_not_journal_files(
        session, full_disk, guarded_window, qtbot, monkeypatch):  # fmt: skip
    window, watch = guarded_window, guarded_window.project_watch
    asked: list[str] = []
    monkeypatch.setattr(close_guard, "ask_user",
                        lambda _parent, text, save_text="Save": asked.append(text) or "cancel")
    full_disk(True)
    _edit(session)
    assert not session.project.flush(10)

    assert not window.close() and window.isVisible()
    [text] = asked
    path = session.project.path
    assert f"The project {path} has not been saved since " in text
    assert ": the disk is full." in text
    assert "Your changes since then to \u201cimg\u201d" in text  # (the image, by its name)
    assert "Save tries to write them again now" in text
    assert "Discard closes the window and loses the changes made since " in text
    for internal in ("journal", ".npy", "retried", str(path / "images")):
        assert internal not in text

    full_disk(False)
    assert session.project.flush(10)
    assert watch.unsaved_work() is None
