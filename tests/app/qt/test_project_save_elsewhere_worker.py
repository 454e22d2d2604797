""""Save project…" of a project whose folder cannot be written copies its models in a
worker thread: the window stays responsive, a full disk changes nothing, and a window
closed during the copy leaves no project that would open as complete.

The models are read from a "shared drive": a real 31 MB model folder, read at 64 MB/s
(``os.sendfile``, which both ``shutil``'s copy and ours use, slowed down), so the copy
lasts about half a second, as a ResNet-50 round's does from a share."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def read_only_project(session, monkeypatch, tmp_path, reopen_unwritable):
    """The session's project, holding a 31 MB round in its models, reopened on a folder
    that cannot be written, with an edit kept in memory; returns the new project's folder
    (empty), which the folder chooser picks."""
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    save_model(build_model("unet", spatial_dims=2, base_channels=32, depth=4),
               session.project.models_dir / "round-1")  # fmt: skip
    reopen_unwritable(session)
    new = tmp_path / "elsewhere"
    new.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(new))
    return new


def _save(session) -> list[bool]:
    """Start the close question's "Save project…"; its answers (ok) come into the list."""
    from unet_studio.app.qt.project_watch import ProjectWatch

    answers: list[bool] = []
    ProjectWatch(session, interval_ms=60_000).save_unsaved(answers.append)
    return answers


def _leftovers(new: Path) -> list[str]:
    """What a save left beside or in ``new`` (staging folders, a project)."""
    return sorted(p.name for p in new.parent.iterdir() if p.name.startswith(f".{new.name}")) \
        + sorted(p.name for p in new.iterdir())  # fmt: skip


@pytest.fixture
def gui_ticks(qtbot):
    """The times a 50 ms timer ticked on the GUI thread, from now on; ``longest()``: the
    longest gap between two (the GUI thread blocked), once it stopped ticking."""
    from qtpy.QtCore import QTimer

    class Ticks(list):
        def longest(self) -> float:
            qtbot.wait(120)  # (a tick after the work: the gap of work that blocked counts)
            timer.stop()
            return max(b - a for a, b in zip(self, self[1:]))

    ticks = Ticks([time.perf_counter()])
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(50)
    yield ticks
    timer.stop()


def test_saving_copies_the_models_while_the_window_stays_responsive(
        session, read_only_project, slow_share, gui_ticks, qtbot):  # fmt: skip
    old, new = session.project, read_only_project
    answers = _save(session)
    line, still_open = session.project_line(), session.project is old
    second = _save(session)  # (a second save waits for this one)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=20_000)
    longest = gui_ticks.longest()
    assert longest < 0.2, f"the GUI thread was blocked {longest * 1000:.0f} ms"
    assert len(gui_ticks) > 5  # (the copy took a while: the timer ticked meanwhile)
    assert "Saving it in" in line and still_open  # (the copy under way, the project usable)
    assert second == [True]  # (the second Save waited for the save under way)
    assert answers == [True] and session.project.path == new
    assert (new / "models" / "round-1" / "model.safetensors").stat().st_size > 30e6
    assert (session.project.labels(session.project.images[0].id) == 7).all()
    assert "Saving it in" not in session.project_line()
    assert not [name for name in _leftovers(new) if name.startswith(".")]


def test_the_labels_are_written_while_the_window_stays_responsive(
        session, read_only_project, gui_ticks, monkeypatch, qtbot):  # fmt: skip
    """The new project's labels written on a slow disk (a stack's take seconds): the close
    question's Save waits for them, the window responsive meanwhile."""
    from unet_studio.app import chunk_store

    write_chunk = chunk_store._write_chunk

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return write_chunk(*args, **kwargs)

    monkeypatch.setattr(chunk_store, "_write_chunk", slow)
    answers = _save(session)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=20_000)
    longest = gui_ticks.longest()
    assert longest < 0.2, f"the GUI thread was blocked {longest * 1000:.0f} ms"
    assert answers == [True] and session.project.path == read_only_project
    assert session.project.flush(0)  # (written: the window may close)
    assert "The labels were saved" in session.host.notifications[-1][1]


def test_a_full_disk_leaves_the_project_open_and_no_new_one(
        session, read_only_project, monkeypatch, qtbot):  # fmt: skip
    old, new = session.project, read_only_project
    sendfile = os.sendfile
    written = []

    def fill_up(out_fd, in_fd, offset, count):  # (the new folder's disk fills after 8 MB)
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(sendfile(out_fd, in_fd, offset, min(count, 8 << 20)))
        return written[-1]

    monkeypatch.setattr(os, "sendfile", fill_up)
    answers = _save(session)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=20_000)
    assert answers == [False]
    errors = [text for level, text in session.host.notifications if level == "error"]
    assert errors and str(new) in errors[-1] and "no space left" in errors[-1]
    assert session.project is old and old.kept_in_memory()  # (open, its work in memory)
    assert (session.host.current_labels() == 7).all()
    assert _leftovers(new) == []  # (no project there, no half copy beside it)


def test_closing_the_window_during_the_copy_leaves_no_project(
        session, read_only_project, slow_share, qtbot):  # fmt: skip
    from unet_studio.app.qt.workers import finish_engine_work

    old, new = session.project, read_only_project
    answers = _save(session)
    qtbot.wait(100)  # (the copy under way)
    assert finish_engine_work(10)  # (what closing the window or quitting does to the copy)
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=5_000)
    assert answers == [False] and session.project is old
    assert _leftovers(new) == []  # (reopened later, no project without its models)
