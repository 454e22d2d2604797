"""A project opened on a folder that cannot be written tells so at once (a notification,
the project line), keeps the edits in memory without error after error, and the close
question saves them in a new project in a folder the user chooses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unet_studio.app import project_writable
from unet_studio.app.label_edit import diff_labels
from unet_studio.app.project import Project

pytestmark = pytest.mark.qt


def test_an_unwritable_project_is_told_at_open_and_saved_elsewhere(session, tmp_path,
                                                                   monkeypatch, qtbot):
    from qtpy.QtWidgets import QFileDialog

    from unet_studio.app.qt.project_watch import ProjectWatch

    host, path = session.host, session.project.path
    session.close_project()
    monkeypatch.setattr(project_writable, "write_problem",  # (that folder only)
                        lambda folder: "read-only file system" if Path(folder) == path else None)
    host.notifications.clear()
    session.open_project(path)
    warned = [m for level, m in host.notifications if "cannot be written" in m]
    assert warned and f"{path} cannot be written (read-only file system)" in warned[0]
    assert session.project_line().startswith(f"Project: {path}\nCannot be written")

    watch = ProjectWatch(session, interval_ms=60_000)  # (looked at by hand below)
    assert watch.unsaved_work() is None  # (nothing changed yet: closing asks nothing)
    labels = host.current_labels()
    session.apply_edit(diff_labels(labels, np.where(labels == 0, 7, labels)))
    assert session.project.flush(10)
    watch.tell()
    assert [m for level, m in host.notifications if level == "error"] == []
    assert "kept in memory only" in watch.unsaved_work()
    assert watch.save_text() == "Save project…"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(elsewhere))
    answers = []
    watch.save_unsaved(answers.append)
    qtbot.waitUntil(lambda: len(answers) == 1)  # (its labels written: waited for off the GUI)
    assert answers == [True] and session.project.path == elsewhere
    session.close_project()
    with Project.open(elsewhere, autosave_delay=0.0) as saved:
        assert (saved.labels(saved.images[0].id) == 7).all()
    with Project.open(path, autosave_delay=0.0) as left:  # (nothing written there)
        assert (left.labels(left.images[0].id) == 0).all()


def test_a_round_of_an_unwritable_project_is_saved_in_the_users_models(
        session, save_finished_round, monkeypatch):
    """The project keeps its work in memory, which a fine-tuned model is not kept as: it
    goes to the user's models (and the project's folder stays untouched)."""
    path = session.project.path
    session.close_project()
    monkeypatch.setattr(project_writable, "write_problem",
                        lambda folder: "read-only file system" if Path(folder) == path else None)
    session.open_project(path)
    before = sorted(p.name for p in (path / "models").iterdir())
    saved = save_finished_round(session)
    assert Path(saved.path).parent == session.library.folders["user"]
    assert (Path(saved.path) / "config.json").is_file()
    assert sorted(p.name for p in (path / "models").iterdir()) == before


def test_two_rounds_saved_in_one_second_get_two_folders(session, save_finished_round,
                                                         monkeypatch):
    """Rounds go to the user's models without a project (or with one that cannot be written),
    named by the second they were saved in: the second one is not refused or mixed in."""
    from unet_studio.app.qt import train_round

    monkeypatch.setattr(train_round, "round_name", lambda *args: "tiny-ft-20261207-101010")
    session.close_project()
    first, second = save_finished_round(session), save_finished_round(session)
    assert Path(first.path).name == "tiny-ft-20261207-101010"
    assert Path(second.path).name == "tiny-ft-20261207-101010-2"
    assert (Path(second.path) / "model.safetensors").is_file()
